package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import io.github.glidejava.core.GlideBackend;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Hand-built torch.save archives: strided views, storage offsets, shared storages and every storage type. */
class TorchCheckpointSyntheticTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void backend() {
        GlideBackend.init();
    }

    static final float[] STORAGE = new float[24];

    static {
        for (int i = 0; i < STORAGE.length; i++) {
            STORAGE[i] = i * 1.5f - 7f;
        }
    }

    /** The view's elements gathered by index arithmetic, independently of the reader. */
    static float[] expectedView(long offset, long[] size, long[] stride) {
        int n = 1;
        for (long s : size) {
            n *= (int) s;
        }
        float[] out = new float[n];
        long[] idx = new long[size.length];
        for (int k = 0; k < n; k++) {
            long e = offset;
            for (int d = 0; d < size.length; d++) {
                e += idx[d] * stride[d];
            }
            out[k] = STORAGE[(int) e];
            for (int d = size.length - 1; d >= 0; d--) {
                if (++idx[d] < size[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    record View(String name, long offset, long[] size, long[] stride) {
    }

    static final List<View> VIEWS = List.of(
            new View("whole", 0, new long[] {6, 4}, new long[] {4, 1}),
            new View("transposed", 0, new long[] {4, 6}, new long[] {1, 4}),
            new View("row", 8, new long[] {4}, new long[] {1}),
            new View("column", 1, new long[] {6}, new long[] {4}),
            new View("expanded", 2, new long[] {3, 4}, new long[] {0, 1}),
            new View("permuted3d", 0, new long[] {2, 3, 4}, new long[] {1, 8, 2}),
            new View("sub_block", 5, new long[] {2, 2}, new long[] {4, 1}),
            new View("scalar", 5, new long[] {}, new long[] {}),
            new View("empty", 24, new long[] {0, 3}, new long[] {3, 1}),
            new View("tail", 20, new long[] {1, 4}, new long[] {4, 1}));

    private Path sharedStorageCheckpoint(String prefix, long mapStepIgnored, boolean deflate) throws IOException {
        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().mark();
        for (View v : VIEWS) {
            p.str(v.name).tensor("FloatStorage", "0", STORAGE.length, v.offset, v.size, v.stride);
        }
        p.op('u').stop();
        TorchZipBuilder z = new TorchZipBuilder(prefix).pickle(p).floats("0", STORAGE);
        if (deflate) {
            z.deflate("data.pkl").deflate("data/0");
        }
        return z.write(tmp.resolve(prefix.replace("/", "") + (deflate ? "_z" : "") + ".pt"));
    }

    @ParameterizedTest
    @ValueSource(longs = {FileBytes.DEFAULT_STEP, 64, 8})
    void stridedViewsOfOneSharedStorage(long mapStep) throws IOException {
        Path f = sharedStorageCheckpoint("archive/", mapStep, false);
        try (TorchCheckpoint c = TorchCheckpoint.open(f, mapStep)) {
            assertEquals("archive/", c.archivePrefix());
            assertEquals(VIEWS.stream().map(View::name).toList(), c.names());
            for (View v : VIEWS) {
                INDArray a = c.get(v.name);
                assertEquals(DataType.FLOAT, a.dataType(), v.name);
                assertArrayEquals(v.size, a.shape(), v.name);
                assertEquals('c', a.ordering());
                assertArrayEquals(expectedView(v.offset, v.size, v.stride), a.data().asFloat(), 0f, v.name);
                assertEquals(new TensorInfo(DType.F32, v.size), c.info(v.name));
            }
            // results are independent copies, even of the same storage
            INDArray w = c.get("whole");
            w.assign(0);
            assertEquals(STORAGE[8], c.get("row").getFloat(0), 0f);
        }
    }

    @Test
    void deflatedRecordsGiveTheSameTensors() throws IOException {
        Path stored = sharedStorageCheckpoint("x/", 0, false);
        Path deflated = sharedStorageCheckpoint("x/", 0, true);
        try (TorchCheckpoint a = TorchCheckpoint.open(stored); TorchCheckpoint b = TorchCheckpoint.open(deflated)) {
            for (View v : VIEWS) {
                assertEquals(a.get(v.name), b.get(v.name), v.name);
            }
        }
    }

    private static byte[] le(int width, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (width) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    @Test
    void everyStorageType() throws IOException {
        long[] longs = {Long.MIN_VALUE, -1, 0, 1L << 40, Long.MAX_VALUE};
        long[] ints = {Integer.MIN_VALUE, -5, 7, Integer.MAX_VALUE};
        long[] bools = {1, 0, 0, 1};
        long[] bf16 = {0x3f80, 0xc040, 0x0001, 0x7f80}; // 1, -3, smallest subnormal, +inf
        long[] halves = {0x3c00, 0x0001, 0x8400, 0x7bff}; // 1, 2^-24, -2^-14, 65504
        long[] doubles = {Double.doubleToLongBits(Math.PI), Double.doubleToLongBits(-1e300)};
        long[] bytes = {0, 200, 255};
        long[] shorts = {-32768, 12345};
        long[] chars = {-128, 127};
        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().mark()
                .str("l").tensor("LongStorage", "l", longs.length, 0, new long[] {longs.length}, new long[] {1})
                .str("i").tensor("IntStorage", "i", ints.length, 0, new long[] {2, 2}, new long[] {2, 1})
                .str("b").tensor("BoolStorage", "b", bools.length, 0, new long[] {4}, new long[] {1})
                .str("bf").tensor("BFloat16Storage", "bf", bf16.length, 0, new long[] {4}, new long[] {1})
                .str("h").tensor("HalfStorage", "h", halves.length, 0, new long[] {2, 2}, new long[] {1, 2})
                .str("d").tensor("DoubleStorage", "d", doubles.length, 0, new long[] {2}, new long[] {1})
                .str("u8").tensor("ByteStorage", "u8", bytes.length, 0, new long[] {3}, new long[] {1})
                .str("i16").tensor("ShortStorage", "i16", shorts.length, 0, new long[] {2}, new long[] {1})
                .str("i8").tensor("CharStorage", "i8", chars.length, 0, new long[] {2}, new long[] {1})
                .op('u').stop();
        Path f = new TorchZipBuilder("types/").pickle(p)
                .record("data/l", le(8, longs)).record("data/i", le(4, ints)).record("data/b", le(1, bools))
                .record("data/bf", le(2, bf16)).record("data/h", le(2, halves)).record("data/d", le(8, doubles))
                .record("data/u8", le(1, bytes)).record("data/i16", le(2, shorts)).record("data/i8", le(1, chars))
                .write(tmp.resolve("types.pt"));
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            assertEquals(DType.I64, c.info("l").dtype());
            assertArrayEquals(longs, c.get("l").data().asLong());
            assertEquals(DataType.INT, c.get("i").dataType());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, -5, 7, Integer.MAX_VALUE}, c.get("i").data().asInt());
            assertEquals(Nd4j.createFromArray(true, false, false, true), c.get("b"));
            assertArrayEquals(new float[] {1f, -3f, Float.intBitsToFloat(0x10000), Float.POSITIVE_INFINITY},
                    c.getFloat("bf").data().asFloat(), 0f);
            assertEquals(DataType.BFLOAT16, c.get("bf").dataType());
            // half storage [1, 2^-24, -2^-14, 65504] viewed with strides (1, 2): [[1, -2^-14], [2^-24, 65504]]
            assertArrayEquals(new float[] {1f, -0x1p-14f, 0x1p-24f, 65504f}, c.getFloat("h").data().asFloat(), 0f);
            assertEquals(DataType.HALF, c.get("h").dataType());
            assertArrayEquals(new double[] {Math.PI, -1e300}, c.get("d").data().asDouble(), 0);
            assertEquals((float) Math.PI, c.getFloat("d").getFloat(0), 0f);
            assertEquals(DataType.UBYTE, c.get("u8").dataType());
            assertArrayEquals(new int[] {0, 200, 255}, c.get("u8").castTo(DataType.INT).data().asInt());
            assertArrayEquals(new int[] {-32768, 12345}, c.get("i16").castTo(DataType.INT).data().asInt());
            assertArrayEquals(new int[] {-128, 127}, c.get("i8").castTo(DataType.INT).data().asInt());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.getFloat("l"));
            assertTrue(e.getMessage().contains("'l'") && e.getMessage().contains("I64"), e.getMessage());
        }
    }

    @Test
    void protocol4OpcodesParametersAndPlainDicts() throws IOException {
        // protocol 4 style: FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE; a Parameter wrapper; a plain dict root
        PickleBuilder p = new PickleBuilder().proto(4).op(0x95).raw(le(8, 0)).op('}').op(0x94).mark()
                .shortStr("weight").op(0x94)
                .stackGlobal("torch._utils", "_rebuild_parameter").op(0x94)
                .mark()
                .tensor("FloatStorage", "w", 4, 0, new long[] {2, 2}, new long[] {2, 1})
                .op(0x88) // requires_grad True
                .orderedDict()
                .tuple().reduce()
                .shortStr("bias").op(0x94)
                .global("torch._utils", "_rebuild_tensor").mark()
                .storage("FloatStorage", "w", 4).integer(2).ints(2).ints(1)
                .tuple().reduce()
                .op('u').stop();
        Path f = new TorchZipBuilder("p4/").pickle(p).floats("w", 1f, 2f, 3f, 4f)
                .record("byteorder", "little".getBytes()).write(tmp.resolve("p4.pt"));
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            assertEquals(List.of("weight", "bias"), c.names());
            assertEquals(Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}}), c.get("weight"));
            assertEquals(Nd4j.createFromArray(3f, 4f), c.get("bias"));
        }
    }

    @Test
    void stateDictMetadataBuildIsIgnored() throws IOException {
        // torch.save(state_dict) ends with BUILD setting {'_metadata': OrderedDict(...)} on the root
        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().put(0).mark()
                .str("w").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                .op('u')
                .op('}').str("_metadata").orderedDict().mark().str("").op('}').str("version").integer(1).op('s')
                .op('u').op('s')
                .op('b').stop();
        Path f = new TorchZipBuilder("m/").pickle(p).floats("0", 5f, 6f).write(tmp.resolve("m.pt"));
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            assertEquals(List.of("w"), c.names());
            assertEquals(Nd4j.createFromArray(5f, 6f), c.get("w"));
        }
    }
}
