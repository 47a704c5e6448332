package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

import io.github.glidejava.core.GlideBackend;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hostile and broken checkpoints: each is refused with its own exception type and a message saying why. */
class TorchCheckpointMalformedTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void backend() {
        GlideBackend.init();
    }

    private static <T extends Throwable> T rejects(Class<T> type, Path f, String... fragments) {
        T e = assertThrows(type, () -> TorchCheckpoint.open(f).close());
        assertTrue(e.getMessage().contains(f.toString()), "message names the file: " + e.getMessage());
        for (String s : fragments) {
            assertTrue(e.getMessage().contains(s), "message should contain '" + s + "': " + e.getMessage());
        }
        return e;
    }

    /** {@code OrderedDict} with the given entries, as torch.save writes it. */
    private static PickleBuilder stateDict(Consumer<PickleBuilder> entries) {
        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().mark();
        entries.accept(p);
        return p.op('u').stop();
    }

    private Path checkpoint(String name, PickleBuilder pickle, int floats) throws IOException {
        return new TorchZipBuilder("ck/").pickle(pickle).floats("0", new float[floats]).write(tmp.resolve(name));
    }

    @Test
    void zipWithoutDataPkl() throws IOException {
        Path f = new TorchZipBuilder("archive/").floats("0", 1f).write(tmp.resolve("nopkl.pt"));
        rejects(TorchCheckpointFormatException.class, f, "no 'archive/data.pkl'", "archive/data/0");
    }

    @Test
    void entriesOutsideATopFolder() throws IOException {
        Path f = new TorchZipBuilder("").pickle(stateDict(p -> { })).write(tmp.resolve("flat.pt"));
        rejects(TorchCheckpointFormatException.class, f, "top folder");
    }

    @ParameterizedTest
    @CsvSource({"os, system", "builtins, eval", "subprocess, Popen", "posix, system", "builtins, getattr",
                "torch, load", "collections, defaultdict", "torch._utils, _rebuild_device_tensor_from_numpy"})
    void forbiddenGlobalsAreRefusedByName(String module, String name) throws IOException {
        // cos\nsystem\n(S'echo pwned'\ntR. -- the classic payload, as GLOBAL
        PickleBuilder p = new PickleBuilder().proto(2).global(module, name).mark().str("echo pwned").tuple().reduce()
                .stop();
        UnsafePickleException e = rejects(UnsafePickleException.class, checkpoint("g.pt", p, 1),
                "'" + module + "." + name + "'", "not allowed", "ck/data.pkl");
        assertEquals(module + "." + name, e.global());
        // the same through STACK_GLOBAL (protocol 4), hidden inside a state dict entry
        PickleBuilder q = new PickleBuilder().proto(4).orderedDict().mark().shortStr("w")
                .stackGlobal(module, name).mark().str("x").tuple().reduce().op('u').stop();
        e = rejects(UnsafePickleException.class, checkpoint("sg.pt", q, 1), module + "." + name);
        assertEquals(module + "." + name, e.global());
    }

    @Test
    void forbiddenGlobalAsStorageType() throws IOException {
        PickleBuilder p = stateDict(b -> b.str("w").global("torch._utils", "_rebuild_tensor_v2").mark()
                .mark().str("storage").global("os", "system").str("0").str("cpu").integer(1).tuple().op('Q'));
        assertEquals("os.system", rejects(UnsafePickleException.class, checkpoint("st.pt", p, 1), "os.system").global());
    }

    @Test
    void storageSizeThatLies() throws IOException {
        PickleBuilder p = stateDict(b -> b.str("w").tensor("FloatStorage", "0", 10, 0, new long[] {10},
                new long[] {1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("lie.pt", p, 12), "storage '0'",
                "declares 10 F32 elements (40 bytes)", "holds 48 bytes");
        PickleBuilder half = stateDict(b -> b.str("w").tensor("HalfStorage", "0", 4, 0, new long[] {4},
                new long[] {1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("lie2.pt", half, 4), "declares 4 F16 elements (8 bytes)",
                "holds 16 bytes");
    }

    @Test
    void viewOutsideItsStorage() throws IOException {
        PickleBuilder p = stateDict(b -> b.str("w").tensor("FloatStorage", "0", 6, 0, new long[] {2, 4},
                new long[] {4, 1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("view.pt", p, 6), "tensor 'w'",
                "reaches element 7 outside storage '0' of 6 elements");
        PickleBuilder offset = stateDict(b -> b.str("v").tensor("FloatStorage", "0", 6, 5, new long[] {2},
                new long[] {1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("offset.pt", offset, 6), "tensor 'v'",
                "outside storage");
        PickleBuilder negative = stateDict(b -> b.str("n").tensor("FloatStorage", "0", 6, -1, new long[] {2},
                new long[] {1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("negative.pt", negative, 6), "tensor 'n'",
                "outside storage");
        PickleBuilder rank = stateDict(b -> b.str("r").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3},
                new long[] {1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("rank.pt", rank, 6), "tensor 'r'", "rank");
    }

    @Test
    void strideZeroViewsCannotMakeATinyFileAllocateAHugeTensor() throws IOException {
        // one float broadcast to 2^20 x 2^20 elements (4 TiB dense) by stride 0
        PickleBuilder huge = stateDict(b -> b.str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1 << 20, 1 << 20},
                new long[] {0, 0}));
        Path f = checkpoint("broadcast.pt", huge, 1);
        assertTrue(Files.size(f) < 4096, "the file is tiny");
        rejects(TorchCheckpointFormatException.class, f, "tensor 'w'", "1099511627776 elements",
                "storage '0' only 1", "stride-0", String.valueOf(TorchCheckpoint.MAX_OVERLAPPING_VIEW_ELEMENTS));
        // one element above the cap is refused; a broadcast below it is still read (as a dense copy)
        long cap = TorchCheckpoint.MAX_OVERLAPPING_VIEW_ELEMENTS;
        PickleBuilder above = stateDict(b -> b.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {cap / 4 + 1, 4},
                new long[] {0, 1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("above.pt", above, 4), "tensor 'w'",
                (cap + 4) + " elements");
        PickleBuilder below = stateDict(b -> b.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {1 << 12, 4},
                new long[] {0, 1}));
        Path ok = new TorchZipBuilder("ck/").pickle(below).floats("0", 1f, 2f, 3f, 4f).write(tmp.resolve("ok.pt"));
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(ok)) {
            org.nd4j.linalg.api.ndarray.INDArray w = ckpt.get("w");
            assertEquals(4L << 12, w.length());
            assertEquals(3f, w.getFloat((1 << 12) - 1, 2), 0f);
        }
    }

    @Test
    void missingStorageRecordAndConflictingReferences() throws IOException {
        PickleBuilder p = stateDict(b -> b.str("w").tensor("FloatStorage", "7", 1, 0, new long[] {1},
                new long[] {1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("missing.pt", p, 1), "storage '7'",
                "no record 'ck/data/7'");
        PickleBuilder twice = stateDict(b -> b
                .str("a").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                .str("b").tensor("HalfStorage", "0", 4, 0, new long[] {4}, new long[] {1}));
        rejects(TorchCheckpointFormatException.class, checkpoint("twice.pt", twice, 2), "storage '0'",
                "referenced as F32[2] and as F16[4]");
    }

    @Test
    void corruptedDataFailsItsCrc() throws IOException {
        PickleBuilder p = stateDict(b -> b.str("w").tensor("FloatStorage", "0", 4, 0, new long[] {4},
                new long[] {1}));
        Path f = new TorchZipBuilder("ck/").pickle(p).floats("0", 1.25f, 2.5f, 3.75f, 5f).write(tmp.resolve("crc.pt"));
        byte[] all = Files.readAllBytes(f);
        byte[] pattern = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(3.75f).array();
        int at = indexOf(all, pattern);
        all[at] ^= 1;
        Files.write(f, all);
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> c.get("w"));
            assertInstanceOf(TorchCheckpointFormatException.class, e.getCause());
            assertTrue(e.getMessage().contains("'ck/data/0' fails its CRC-32 check"), e.getMessage());
        }
        // a corrupted pickle is caught at open
        byte[] again = Files.readAllBytes(new TorchZipBuilder("ck/").pickle(p).floats("0", new float[4])
                .write(tmp.resolve("crc2.pt")));
        again[indexOf(again, "storage".getBytes())] ^= 0x20;
        Files.write(tmp.resolve("crc2.pt"), again);
        rejects(TorchCheckpointFormatException.class, tmp.resolve("crc2.pt"), "'ck/data.pkl' fails its CRC-32");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("pattern not found");
    }

    @Test
    void brokenPickles() throws IOException {
        byte[] full = stateDict(b -> b.str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}))
                .bytes();
        rejects(TorchCheckpointFormatException.class, checkpoint("trunc.pt",
                new PickleBuilder().raw(Arrays.copyOf(full, full.length - 3)), 1), "ck/data.pkl", "pickle");
        rejects(TorchCheckpointFormatException.class, checkpoint("nostop.pt",
                new PickleBuilder().raw(Arrays.copyOf(full, full.length - 1)), 1), "without a STOP");
        rejects(TorchCheckpointFormatException.class, checkpoint("inst.pt",
                new PickleBuilder().proto(2).raw((byte) 'i').raw("os\nsystem\n".getBytes()).stop(), 1),
                "unsupported pickle opcode 0x69");
        rejects(TorchCheckpointFormatException.class, checkpoint("proto.pt", new PickleBuilder().proto(9).stop(), 1),
                "unsupported pickle protocol 9");
        rejects(TorchCheckpointFormatException.class, checkpoint("memo.pt", new PickleBuilder().proto(2).get(3).stop(),
                1), "memo index 3 is read before it is written");
        rejects(TorchCheckpointFormatException.class, checkpoint("underflow.pt",
                new PickleBuilder().proto(2).op('R').stop(), 1), "stack underflow");
        rejects(TorchCheckpointFormatException.class, checkpoint("huge.pt", new PickleBuilder().proto(2).op('X')
                .raw((byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f).stop(), 1), "length 2147483647",
                "exceeds");
        PickleBuilder deep = new PickleBuilder().proto(2).integer(1);
        for (int i = 0; i < 100; i++) {
            deep.op(0x85);
        }
        rejects(TorchCheckpointFormatException.class, checkpoint("deep.pt", deep.stop(), 1), "nested deeper");
        rejects(TorchCheckpointFormatException.class, checkpoint("call.pt", new PickleBuilder().proto(2)
                .global("torch", "FloatStorage").emptyTuple().reduce().stop(), 1), "torch.FloatStorage cannot be called");
        rejects(TorchCheckpointFormatException.class, checkpoint("pid.pt", new PickleBuilder().proto(2)
                .str("not a tuple").op('Q').stop(), 1), "persistent id");
        rejects(TorchCheckpointFormatException.class, checkpoint("twovalues.pt", new PickleBuilder().proto(2)
                .integer(1).integer(2).stop(), 1), "STOP with 2 values");
    }

    @Test
    void notAStateDict() throws IOException {
        rejects(TorchCheckpointFormatException.class, checkpoint("list.pt", new PickleBuilder().proto(2).op(']')
                .stop(), 1), "holds a list, not a state dict");
        rejects(TorchCheckpointFormatException.class, checkpoint("int.pt", stateDict(b -> b.str("epoch").integer(3)),
                1), "entry 'epoch' is a int, not a tensor");
        rejects(TorchCheckpointFormatException.class, checkpoint("key.pt", stateDict(b -> b.integer(3).tensor(
                "FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})), 1), "key int is not a string");
    }

    @Test
    void notAZipLegacyAndTruncatedArchives() throws IOException {
        Path random = tmp.resolve("random.pt");
        Files.write(random, "this is not a checkpoint at all, just text".getBytes());
        rejects(TorchCheckpointFormatException.class, random, "no zip end-of-central-directory");
        Path legacy = tmp.resolve("legacy.pt");
        Files.write(legacy, new PickleBuilder().proto(2).integer(0x1950a86a).stop().bytes());
        rejects(TorchCheckpointFormatException.class, legacy, "legacy");
        Path tiny = tmp.resolve("tiny.pt");
        Files.write(tiny, new byte[] {'P', 'K'});
        rejects(TorchCheckpointFormatException.class, tiny, "too short");

        Path good = checkpoint("good.pt", stateDict(b -> b.str("w").tensor("FloatStorage", "0", 4, 0,
                new long[] {4}, new long[] {1})), 4);
        byte[] all = Files.readAllBytes(good);
        Path cut = tmp.resolve("cut.pt");
        Files.write(cut, Arrays.copyOf(all, all.length - 10));
        rejects(TorchCheckpointFormatException.class, cut, "end-of-central-directory");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        rejects(TorchCheckpointFormatException.class, cut, "end-of-central-directory");
    }

    @Test
    void bigEndianCheckpointsAreRefused() throws IOException {
        Path f = new TorchZipBuilder("be/").pickle(stateDict(b -> { })).record("byteorder", "big".getBytes())
                .write(tmp.resolve("be.pt"));
        rejects(TorchCheckpointFormatException.class, f, "'big'", "little-endian");
    }
}
