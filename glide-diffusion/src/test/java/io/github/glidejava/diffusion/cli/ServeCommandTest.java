package io.github.glidejava.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;

/** {@code glide serve}'s option checks (the server itself is tested by ServeApiTest and ServeBrowserTest). */
class ServeCommandTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = GlideCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), false);
        return new String[]{Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void badOptionsAreUsageErrorsNamingTheOption() {
        String[] r = run("serve", "--port", "70000");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("--port must be from 0 to 65535, got 70000"), r[2]);
        r = run("serve", "--queue-size", "0");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("--queue-size must be >= 1"), r[2]);
        r = run("serve", "--train-dir", "/no/such/dir");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("--train-dir /no/such/dir is not a directory"), r[2]);
        r = run("serve", "--model", "/no/such/model.pt");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("neither emoji32, glide, glide-inpaint nor an existing checkpoint"), r[2]);
        r = run("serve", "--model", "a=x.pt", "--model", "a=y.pt");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("two --model values are named 'a'"), r[2]);
        r = run("serve", "--allow-origin", "localhost:3000");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("--allow-origin: 'localhost:3000' is not an origin; give scheme, host and port"),
                r[2]);
        r = run("serve", "--allow-host", "http://studio:80");
        assertEquals("2", r[0], r[2]);
        assertTrue(r[2].contains("--allow-host: 'http://studio:80' is not a host name"), r[2]);
    }

    @Test
    void modelsAreNamedByNameOrFile() {
        assertEquals("emoji32", ServeCommand.name("emoji32"));
        assertEquals("glide-inpaint", ServeCommand.name("GLIDE-inpaint"));
        assertEquals("mine", ServeCommand.name("mine=runs/x"));
        assertEquals("base", ServeCommand.name("/models/base.pt"));
        assertEquals("run7", ServeCommand.name("runs/run7"));
    }
}
