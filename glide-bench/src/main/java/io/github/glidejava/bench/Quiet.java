package io.github.glidejava.bench;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * Runs code with System.out muted: SameDiff (ND4J 1.0.0-M2.1) prints one "Added differentiated op" line per op to
 * standard output when it builds a gradient graph, and has no switch to stop it.
 */
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
