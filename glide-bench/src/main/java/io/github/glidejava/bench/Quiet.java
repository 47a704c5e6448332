package io.github.glidejava.bench;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/** Runs code with System.out muted: SameDiff prints one "Added differentiated op" line per op (ND4J trap 6). */
final class Quiet {
    private Quiet() {
    }

    static synchronized <T> T run(Supplier<T> body) {
        PrintStream saved = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            return body.get();
        } finally {
            System.setOut(saved);
        }
    }
}
