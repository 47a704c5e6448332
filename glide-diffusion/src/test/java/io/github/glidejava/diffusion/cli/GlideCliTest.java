package io.github.glidejava.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.download.TestFileServer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GlideCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        boolean verbose = GlideCli.isVerbose(args);
        int code = GlideCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), verbose);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpListsEveryCommand() {
        Result r = run("--help");
        assertEquals(0, r.code(), r.err());
        for (String name : GlideCli.commandLine(false).getSubcommands().keySet()) {
            assertTrue(r.out().contains(name), name + " missing in\n" + r.out());
        }
    }

    /** Every command and sub-command answers --help with exit 0 and a usage line. */
    @TestFactory
    List<DynamicTest> everyCommandHasHelp() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : GlideCli.commandLine(false).getSubcommands().keySet()) {
            if (name.equals("help")) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Result r = run(name, "--help");
                assertEquals(0, r.code(), r.err());
                assertTrue(r.out().startsWith("Usage: glide " + name), r.out());
            }));
        }
        return tests;
    }

    @Test
    void versionNamesTheProjectAndNd4j() {
        Result r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("glide-java "), r.out());
        assertTrue(r.out().contains("ND4J "), r.out());
    }

    @Test
    void usageErrorsExitWith2() {
        Result none = run();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Usage: glide"), none.err());

        Result unknown = run("frobnicate");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("'frobnicate'") && unknown.err().contains("glide --help"), unknown.err());

        Result badOption = run("download", "--no-such-option", "base");
        assertEquals(2, badOption.code());
        assertTrue(badOption.err().contains("--no-such-option"), badOption.err());

        Result badName = run("download", "huge");
        assertEquals(2, badName.code());
        assertTrue(badName.err().contains("unknown download 'huge'") && badName.err().contains("base-inpaint"),
                badName.err());

        Result badUrl = run("download", "--base-url", "ftp://example.org/", "base");
        assertEquals(2, badUrl.code());
        assertTrue(badUrl.err().contains("not an http(s):// URL"), badUrl.err());

        Result missing = run("inspect");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("CHECKPOINT"), missing.err());
    }

    @Test
    void downloadFetchesIntoTheCacheAndPrintsPaths() throws IOException {
        byte[] base = "tiny base".getBytes(StandardCharsets.US_ASCII);
        byte[] up = "tiny upsampler".getBytes(StandardCharsets.US_ASCII);
        try (TestFileServer server = new TestFileServer()) {
            server.serve("base.pt", base).serve("upsample.pt", up);
            Path cache = tmp.resolve("cache");
            String[] args = {"download", "--cache-dir", cache.toString(), "--base-url", server.base().toString(),
                    "base", "upsample"};
            Result r = run(args);
            assertEquals(0, r.code(), r.err());
            assertEquals(List.of(cache.resolve("base.pt").toString(), cache.resolve("upsample.pt").toString()),
                    r.out().lines().collect(Collectors.toList()));
            assertArrayEquals(base, Files.readAllBytes(cache.resolve("base.pt")));
            assertArrayEquals(up, Files.readAllBytes(cache.resolve("upsample.pt")));
            assertTrue(r.err().contains("downloading " + server.base() + "base.pt"), r.err());

            Result again = run(args);
            assertEquals(0, again.code(), again.err());
            assertTrue(again.err().contains("base.pt: already in"), again.err());
            assertEquals(2, server.requestCount(), "cached files are not fetched again");
        }
    }

    @Test
    void downloadErrorIsOneActionableLineWithoutStackTrace() throws IOException {
        try (TestFileServer server = new TestFileServer()) {
            String[] args = {"download", "-q", "--retries", "0", "--cache-dir", tmp.toString(), "--base-url",
                    server.base().toString(), "base-inpaint"};
            Result r = run(args);
            assertEquals(1, r.code());
            assertTrue(r.err().contains("glide download: error: HTTP 404 (not found) for " + server.base()
                    + "base_inpaint.pt"), r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace without --verbose:\n" + r.err());
            assertEquals("", r.out());

            String[] verbose = new String[args.length + 1];
            System.arraycopy(args, 0, verbose, 1, args.length);
            verbose[0] = "--verbose";
            Result v = run(verbose);
            assertEquals(1, v.code());
            assertTrue(v.err().contains("\tat "), "stack trace with --verbose:\n" + v.err());
        }
    }

    /** inspect on every fixture model: kind and parameter count as recorded in the fixture's metadata. */
    @TestFactory
    List<DynamicTest> inspectRecognisesEveryFixtureModel() {
        return RefFixtures.list("models", ".safetensors").stream()
                .filter(p -> !p.getFileName().toString().endsWith("_forward.safetensors"))
                .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> {
                    JsonNode config;
                    try (SafeTensors st = SafeTensors.open(p)) {
                        config = JSON.readTree(st.metadata().get("config"));
                    }
                    Result text = run("inspect", p.toString());
                    assertEquals(0, text.code(), text.err());
                    assertTrue(text.out().contains("(" + config.get("model_class").asText() + ": "), text.out());
                    assertTrue(text.out().contains(String.format(java.util.Locale.ROOT, "%,d",
                            config.get("num_parameters").asLong())), text.out());
                    assertTrue(text.out().contains("param.input_blocks.0.0.weight"), "tensor table");

                    Result json = run("inspect", "--json", "--no-tensors", p.toString());
                    assertEquals(0, json.code(), json.err());
                    JsonNode j = JSON.readTree(json.out());
                    assertEquals(config.get("num_parameters").asLong(), j.get("parameters").asLong());
                    JsonNode options = config.get("options");
                    assertEquals(options.get("image_size").asInt(), j.get("options").get("image_size").asInt());
                    assertEquals(options.get("inpaint").asBoolean(), j.get("options").get("inpaint").asBoolean());
                    assertEquals(options.get("super_res").asBoolean(), j.get("options").get("super_res").asBoolean());
                    assertFalse(j.has("tensors"));
                }))
                .collect(Collectors.toList());
    }

    @Test
    void inspectMissingFileIsARuntimeError() {
        Result r = run("inspect", tmp.resolve("nope.pt").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no such file: " + tmp.resolve("nope.pt")), r.err());
        assertFalse(r.err().contains("--verbose"), "a complete message needs no hint: " + r.err());
    }

    /** torch < 1.6: pickle protocol 2, then torch's LONG1 magic number 0x1950a86a20f9469cfc6c. */
    private static final byte[] LEGACY_TORCH = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc,
            (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e};

    @Test
    void legacyTorchCheckpointsAreNamedAsSuchWithTheFix() throws IOException {
        Path legacy = tmp.resolve("old_model.pt");
        Files.write(legacy, LEGACY_TORCH);
        for (String[] args : new String[][]{{"inspect", legacy.toString()},
                {"sample", "a corgi", "--no-download", "--no-upsample", "-q", "--base", legacy.toString(), "-o",
                        tmp.resolve("x.png").toString()}}) {
            Result r = run(args);
            assertEquals(1, r.code(), args[0] + ": " + r.err());
            assertTrue(r.err().contains(legacy.toString()), args[0] + " names the file: " + r.err());
            assertTrue(r.err().contains("legacy torch checkpoint") && r.err().contains("re-save it with torch>=1.6"),
                    args[0] + ": " + r.err());
            assertFalse(r.err().contains("safetensors header") || r.err().contains("header length"),
                    args[0] + ": not a safetensors diagnosis: " + r.err());
            assertFalse(r.err().contains("\tat "), r.err());
        }
        assertFalse(Files.exists(tmp.resolve("x.png")));
    }

    @Test
    void junkFilesAreNotCheckpointsWhateverTheirName() throws IOException {
        for (String name : List.of("junk.pt", "junk.bin")) {
            Path junk = tmp.resolve(name);
            Files.write(junk, "garbage".getBytes(StandardCharsets.US_ASCII)); // 7 bytes
            for (String[] args : new String[][]{{"inspect", junk.toString()},
                    {"sample", "a corgi", "--no-download", "--no-upsample", "-q", "--base", junk.toString()}}) {
                Result r = run(args);
                assertEquals(1, r.code(), args[0] + ": " + r.err());
                assertTrue(r.err().contains(junk + ": not a checkpoint"), args[0] + ": " + r.err());
                assertFalse(r.err().contains("header length") || r.err().contains("safetensors header"),
                        args[0] + ": not a safetensors-specific message: " + r.err());
            }
        }
    }

    @Test
    void verboseIsFoundBeforeParsing() {
        assertTrue(GlideCli.isVerbose(new String[]{"sample", "-v", "x"}));
        assertFalse(GlideCli.isVerbose(new String[]{"sample", "--", "-v"}));
        assertEquals(CommandLine.ExitCode.USAGE, GlideCli.EXIT_USAGE);
    }
}
