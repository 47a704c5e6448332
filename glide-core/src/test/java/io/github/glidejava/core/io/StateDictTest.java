package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.testing.RefFixtures;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class StateDictTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void backend() {
        GlideBackend.init();
    }

    @TestFactory
    Stream<DynamicTest> checkpointsLoadByContentWhateverTheirName() {
        return RefFixtures.list("models", ".pt").stream().map(pt -> DynamicTest.dynamicTest(
                pt.getFileName().toString(), () -> {
                    StateDict fromPt = StateDict.load(pt);
                    assertTrue(fromPt.size() > 0);
                    for (String k : fromPt.keys()) {
                        assertEquals(DataType.FLOAT, fromPt.get(k).dataType(), k + ": half is up-cast to float32");
                    }
                    // the same bytes under a misleading extension load identically
                    Path renamed = tmp.resolve(pt.getFileName() + ".safetensors");
                    Files.copy(pt, renamed);
                    StateDict again = StateDict.load(renamed);
                    assertEquals(List.copyOf(fromPt.keys()), List.copyOf(again.keys()));
                    for (String k : fromPt.keys()) {
                        assertEquals(fromPt.get(k), again.get(k), k);
                    }
                    Path twin = pt.resolveSibling(pt.getFileName().toString().replaceFirst("\\.pt$", ".safetensors"));
                    if (Files.isRegularFile(twin)) {
                        Path misnamed = tmp.resolve(pt.getFileName() + ".bin");
                        Files.copy(twin, misnamed);
                        StateDict params = StateDict.load(misnamed).subDict("param.");
                        assertEquals(List.copyOf(params.keys()), List.copyOf(fromPt.keys()));
                        for (String k : params.keys()) {
                            assertEquals(params.get(k), fromPt.get(k), k);
                        }
                        Map<String, long[]> expected = new LinkedHashMap<>();
                        params.keys().forEach(k -> expected.put(k, params.shape(k)));
                        assertDoesNotThrow(() -> fromPt.checkMatches(expected));
                    }
                }));
    }

    @Test
    void halfCanBeKeptAsHalf() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().mark()
                .str("h").tensor("HalfStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                .str("l").tensor("LongStorage", "1", 1, 0, new long[] {}, new long[] {})
                .op('u').stop();
        Path f = new TorchZipBuilder("h/").pickle(p).record("data/0", new byte[] {0, 0x3c, 1, 0})
                .record("data/1", new byte[] {9, 0, 0, 0, 0, 0, 0, 0}).write(tmp.resolve("h.pt"));
        StateDict kept = StateDict.load(f, false);
        assertEquals(DataType.HALF, kept.get("h").dataType());
        StateDict up = StateDict.load(f);
        assertEquals(DataType.FLOAT, up.get("h").dataType());
        assertArrayEquals(new float[] {1f, 0x1p-24f}, up.get("h").data().asFloat(), 0f);
        assertEquals(DataType.LONG, up.get("l").dataType());
        assertEquals(9L, up.get("l").getLong(0));
    }

    @Test
    void checkMatchesReportsEverythingAtOnce() {
        Map<String, INDArray> t = new LinkedHashMap<>();
        t.put("a.weight", Nd4j.zeros(4, 3));
        t.put("b.weight", Nd4j.zeros(2));
        t.put("extra1", Nd4j.zeros(1));
        t.put("c.bias", Nd4j.zeros(5));
        t.put("extra2", Nd4j.zeros(1));
        StateDict sd = StateDict.of(t);
        Map<String, long[]> expected = new LinkedHashMap<>();
        expected.put("a.weight", new long[] {3, 4});
        expected.put("b.weight", new long[] {2});
        expected.put("missing1", new long[] {7});
        expected.put("c.bias", new long[] {5, 1});
        expected.put("missing2", new long[] {});
        StateDictMismatchException e = assertThrows(StateDictMismatchException.class, () -> sd.checkMatches(expected));
        assertEquals(List.of("missing1", "missing2"), e.missingKeys());
        assertEquals(List.of("extra1", "extra2"), e.unexpectedKeys());
        assertEquals(List.of("a.weight", "c.bias"), e.shapeMismatches().stream()
                .map(StateDictMismatchException.ShapeMismatch::key).toList());
        assertArrayEquals(new long[] {4, 3}, e.shapeMismatches().get(0).actual());
        String m = e.getMessage();
        for (String s : new String[] {"2 missing, 2 unexpected, 2 mis-shaped", "missing: missing1, missing2",
                "unexpected: extra1, extra2", "a.weight: checkpoint [4, 3], model expects [3, 4]",
                "c.bias: checkpoint [5], model expects [5, 1]"}) {
            assertTrue(m.contains(s), "message should contain '" + s + "':\n" + m);
        }
        Map<String, long[]> exact = new LinkedHashMap<>();
        t.forEach((k, v) -> exact.put(k, v.shape()));
        assertDoesNotThrow(() -> sd.checkMatches(exact));
    }

    @Test
    void saveRoundTripsAndGetNamesTheKey() throws IOException {
        Map<String, INDArray> t = new LinkedHashMap<>();
        t.put("z", Nd4j.rand(DataType.FLOAT, 3, 2));
        t.put("a", Nd4j.createFromArray(1L, 2L));
        t.put("m", Nd4j.createFromArray(true, false));
        StateDict sd = StateDict.of(t);
        Path f = tmp.resolve("sub/dir/out.safetensors");
        sd.save(f, Map.of("config", "{}"));
        StateDict back = StateDict.load(f);
        assertEquals(List.of("z", "a", "m"), List.copyOf(back.keys()));
        for (String k : t.keySet()) {
            assertEquals(t.get(k), back.get(k), k);
        }
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals("{}", st.metadata().get("config"));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> back.get("nope"));
        assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains(f.toString()), e.getMessage());
        assertFalse(back.contains("nope"));
        assertEquals(2, back.subDict("").subDict("a").size() + 1);
    }

    @Test
    void safetensorsWhoseHeaderLengthLooksLikeAPickleIsStillSafetensors() throws IOException {
        // A header length whose low bytes are 0x80 0x02 reads like the start of a legacy torch pickle.
        Map<String, String> meta = new LinkedHashMap<>();
        StringBuilder pad = new StringBuilder();
        Path file = tmp.resolve("lookalike.safetensors");
        for (int len = 0; len < 1200; len++) {
            meta.put("pad", pad.toString());
            SafeTensors.write(file, Map.of("w", Nd4j.createFromArray(1f, 2f)), meta);
            byte[] head = java.nio.file.Files.readAllBytes(file);
            if ((head[0] & 0xff) == 0x80 && head[1] == 2) {
                StateDict sd = StateDict.load(file);
                assertArrayEquals(new long[] {2}, sd.shape("w"));
                assertEquals(2f, sd.get("w").getFloat(1), 0f);
                return;
            }
            pad.append('x');
        }
        fail("no header length of the form 0x0280 was produced");
    }

    @Test
    void unrecognisedFilesGetAClearError() throws IOException {
        Path f = tmp.resolve("weights.bin");
        Files.write(f, "hello world, not a checkpoint".getBytes());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> StateDict.load(f));
        assertTrue(e.getMessage().contains("neither a safetensors file nor a PyTorch"), e.getMessage());
        Path g = tmp.resolve("short.safetensors");
        Files.write(g, new byte[] {1, 2});
        e = assertThrows(CheckpointFormatException.class, () -> StateDict.load(g));
        assertTrue(e.getMessage().contains("not a checkpoint") && e.getMessage().contains("only 2 bytes"),
                e.getMessage());
        Path h = tmp.resolve("truncated.safetensors");
        Files.write(h, new byte[] {100, 0, 0, 0, 0, 0, 0, 0, 'x', 'y'});
        assertThrows(SafeTensorsFormatException.class, () -> StateDict.load(h),
                "a .safetensors file long enough to have a header gets the safetensors reader's diagnosis");
        Path legacy = tmp.resolve("legacy.pth");
        Files.write(legacy, new PickleBuilder().proto(2).integer(0x1950a86a).stop().bytes());
        e = assertThrows(TorchCheckpointFormatException.class, () -> StateDict.load(legacy));
        assertTrue(e.getMessage().contains("legacy"), e.getMessage());
    }

    @Test
    void corruptedTorchDataSurfacesAsIOException() throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1}).op('u').stop();
        Path f = new TorchZipBuilder("c/").pickle(p).floats("0", 1.75f, 2f).write(tmp.resolve("c.pt"));
        byte[] all = Files.readAllBytes(f);
        // flip a byte of the float 1.75 (0x3fe00000 little-endian: 00 00 e0 3f)
        for (int i = 0; i + 3 < all.length; i++) {
            if (all[i] == 0 && all[i + 1] == 0 && all[i + 2] == (byte) 0xe0 && all[i + 3] == 0x3f) {
                all[i + 2] ^= 1;
                break;
            }
        }
        Files.write(f, all);
        TorchCheckpointFormatException e = assertThrows(TorchCheckpointFormatException.class, () -> StateDict.load(f));
        assertTrue(e.getMessage().contains("CRC-32"), e.getMessage());
    }
}
