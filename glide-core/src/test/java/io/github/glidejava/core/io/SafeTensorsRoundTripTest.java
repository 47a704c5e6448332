package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.GlideBackend;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SafeTensorsRoundTripTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void backend() {
        GlideBackend.init();
    }

    /** A C-order array of {@code type} filled with seeded random bit patterns (0/1 for BOOL). */
    static INDArray randomArray(DType type, long[] shape, long seed) {
        INDArray a = TensorBytes.newArray(type.nd4jType(), shape);
        long bytes = a.length() * type.byteSize();
        if (bytes > 0) {
            byte[] b = new byte[(int) bytes];
            new Random(seed).nextBytes(b);
            if (type == DType.BOOL) {
                for (int i = 0; i < b.length; i++) {
                    b[i] &= 1;
                }
            }
            TensorBytes.window(a, 0, b.length).put(b);
        }
        return a;
    }

    static byte[] bytesOf(INDArray a, DType type) {
        INDArray d = TensorBytes.isDenseC(a) ? a : a.dup('c');
        int n = (int) (d.length() * type.byteSize());
        byte[] out = new byte[n];
        if (n > 0) {
            TensorBytes.window(d, 0, n).get(out);
        }
        return out;
    }

    static Stream<Arguments> dtypesAndShapes() {
        List<Arguments> out = new ArrayList<>();
        long[][] shapes = {{}, {1}, {7}, {3, 5}, {2, 3, 4}, {0}, {2, 0, 3}, {1, 1, 1, 1}};
        for (DType t : DType.values()) {
            for (long[] s : shapes) {
                out.add(Arguments.of(t, s));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dtypesAndShapes")
    void roundTripsEveryDTypeAndShape(DType type, long[] shape) throws IOException {
        INDArray a = randomArray(type, shape, 31L * type.ordinal() + shape.length);
        INDArray b = randomArray(type, new long[] {3}, 7);
        Path f = tmp.resolve("t.safetensors");
        LinkedHashMap<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("z.first", a);
        tensors.put("a.second", b);
        SafeTensors.write(f, tensors, Map.of());
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(List.of("z.first", "a.second"), st.names());
            assertEquals(new TensorInfo(type, shape), st.info("z.first"));
            INDArray r = st.get("z.first");
            assertEquals(type.nd4jType(), r.dataType());
            assertArrayEquals(shape, r.shape());
            assertArrayEquals(bytesOf(a, type), bytesOf(r, type));
            assertArrayEquals(bytesOf(b, type), bytesOf(st.get("a.second"), type));
            if (type.isFloatingPoint()) {
                INDArray fl = st.getFloat("z.first");
                assertEquals(DataType.FLOAT, fl.dataType());
                assertArrayEquals(shape, fl.shape());
                if (fl.length() > 0) {
                    // ND4J's own cast as an independent decoder (NaN patterns compared as NaN)
                    float[] expected = a.castTo(DataType.FLOAT).data().asFloat();
                    float[] actual = fl.data().asFloat();
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(Float.isNaN(expected[i]), Float.isNaN(actual[i]));
                        if (!Float.isNaN(expected[i])) {
                            assertEquals(expected[i], actual[i], 0f, "element " + i);
                        }
                    }
                }
            } else {
                assertThrows(IllegalArgumentException.class, () -> st.getFloat("z.first"));
            }
        }
        checkFormatRules(f);
    }

    /** The format's rules as other readers (the Rust reference) apply them, checked on the raw file. */
    static void checkFormatRules(Path f) throws IOException {
        byte[] all = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length must be a multiple of 8");
        assertTrue(8 + n <= all.length);
        String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{"));
        assertTrue(header.stripTrailing().endsWith("}"));
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '));
        JsonNode root = new ObjectMapper().readTree(header);
        long expected = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode offs = e.getValue().get("data_offsets");
            assertEquals(expected, offs.get(0).asLong(), "offsets contiguous in order");
            expected = offs.get(1).asLong();
        }
        assertEquals(all.length - 8 - n, expected, "data section exactly covered");
    }

    @Test
    void metadataRoundTripsAndEmptyMetadataIsOmitted() throws IOException {
        Path f = tmp.resolve("m.safetensors");
        Map<String, String> md = new LinkedHashMap<>();
        md.put("config", "{\"a\": [1, 2.5e-7], \"s\": \"\\u00e9\"}");
        md.put("unicode \u00e9\u4e2d", "line\nbreak \"quoted\" \u2603");
        md.put("empty", "");
        SafeTensors.write(f, Map.of("x", Nd4j.createFromArray(1f, 2f, 3f)), md);
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(md, st.metadata());
            assertEquals(List.copyOf(md.keySet()), List.copyOf(st.metadata().keySet()));
        }
        checkFormatRules(f);

        Path g = tmp.resolve("n.safetensors");
        SafeTensors.write(g, Map.of("x", Nd4j.createFromArray(1f)));
        String header = new String(Files.readAllBytes(g), StandardCharsets.UTF_8);
        assertFalse(header.contains("__metadata__"));
        try (SafeTensors st = SafeTensors.open(g)) {
            assertTrue(st.metadata().isEmpty());
        }
    }

    @Test
    void valuesSurviveExactly() throws IOException {
        Path f = tmp.resolve("v.safetensors");
        LinkedHashMap<String, INDArray> t = new LinkedHashMap<>();
        t.put("f", Nd4j.createFromArray(new float[][] {{1.5f, -0f, Float.MIN_VALUE}, {Float.MAX_VALUE, 3e-39f, 7f}}));
        t.put("l", Nd4j.createFromArray(Long.MIN_VALUE, -1L, Long.MAX_VALUE));
        t.put("i", Nd4j.createFromArray(Integer.MIN_VALUE, 0, Integer.MAX_VALUE));
        t.put("b", Nd4j.createFromArray(true, false, true, true));
        t.put("d", Nd4j.createFromArray(Math.PI, -Double.MIN_VALUE));
        t.put("scalar", Nd4j.scalar(42L));
        SafeTensors.write(f, t, Map.of("k", "v"));
        try (SafeTensors st = SafeTensors.open(f)) {
            for (String k : t.keySet()) {
                assertEquals(t.get(k), st.get(k), k);
            }
            assertEquals(0, st.get("scalar").rank());
            assertEquals(42L, st.get("scalar").getLong(0));
            assertEquals(Long.MIN_VALUE, st.get("l").getLong(0));
            assertEquals((float) Math.PI, st.getFloat("d").getFloat(0), 0f);
        }
    }

    @Test
    void nonContiguousViewsAreWrittenInCOrder() throws IOException {
        INDArray base = Nd4j.arange(0, 24).castTo(DataType.FLOAT).reshape(4, 6);
        LinkedHashMap<String, INDArray> t = new LinkedHashMap<>();
        t.put("transposed", base.transpose());
        t.put("f_order", base.dup('f'));
        t.put("row_view", base.getRow(2));
        t.put("col_view", base.getColumn(3));
        t.put("permuted", Nd4j.arange(0, 24).castTo(DataType.INT).reshape(2, 3, 4).permute(2, 0, 1));
        Path f = tmp.resolve("views.safetensors");
        SafeTensors.write(f, t);
        try (SafeTensors st = SafeTensors.open(f)) {
            for (Map.Entry<String, INDArray> e : t.entrySet()) {
                INDArray r = st.get(e.getKey());
                assertArrayEquals(e.getValue().shape(), r.shape(), e.getKey());
                assertEquals(e.getValue().dup('c'), r, e.getKey());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16", "F64", "F32", "I64", "BOOL"})
    void smallMappingWindowsGiveTheSameResult(DType type) throws IOException {
        // Windows of 64 bytes force every tensor to be copied in many chunks through several mappings.
        LinkedHashMap<String, INDArray> t = new LinkedHashMap<>();
        t.put("a", randomArray(type, new long[] {3}, 1));
        t.put("b", randomArray(type, new long[] {37, 11}, 2));
        t.put("c", randomArray(type, new long[] {5, 1, 9}, 3));
        Path f = tmp.resolve("w.safetensors");
        SafeTensors.write(f, t);
        try (SafeTensors big = SafeTensors.open(f); SafeTensors small = SafeTensors.open(f, 64)) {
            for (String k : t.keySet()) {
                assertArrayEquals(bytesOf(t.get(k), type), bytesOf(small.get(k), type), k);
                if (type.isFloatingPoint()) {
                    assertArrayEquals(big.getFloat(k).data().asFloat(), small.getFloat(k).data().asFloat(), 0f, k);
                }
            }
        }
    }

    @Test
    void halfDecodingIsExactForEveryBitPattern() {
        for (int h = 0; h < 1 << 16; h++) {
            int sign = h >>> 15;
            int exp = (h >>> 10) & 0x1f;
            int mant = h & 0x3ff;
            float actual = TensorBytes.halfToFloat((short) h);
            if (exp == 0x1f) {
                assertTrue(mant == 0 ? Float.isInfinite(actual) : Float.isNaN(actual), Integer.toHexString(h));
                if (mant != 0) {
                    assertEquals(mant, (Float.floatToRawIntBits(actual) >>> 13) & 0x3ff, "NaN payload");
                }
                assertEquals(sign, Float.floatToRawIntBits(actual) >>> 31);
                continue;
            }
            double magnitude = exp == 0 ? Math.scalb((double) mant, -24) : Math.scalb((double) (1024 + mant), exp - 25);
            double expected = sign == 1 ? -magnitude : magnitude;
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                    "half 0x" + Integer.toHexString(h));
        }
        assertEquals(Float.MIN_NORMAL * 0 + 5.9604645e-8f, TensorBytes.halfToFloat((short) 1));
        assertEquals(65504f, TensorBytes.halfToFloat((short) 0x7bff));
    }

    @Test
    void bfloat16DecodingIsTheUpperHalfOfAFloat() {
        assertEquals(1f, TensorBytes.bfloat16ToFloat((short) 0x3f80));
        assertEquals(-3f, TensorBytes.bfloat16ToFloat((short) 0xc040));
        assertTrue(Float.isNaN(TensorBytes.bfloat16ToFloat((short) 0x7fc1)));
        assertEquals(Float.intBitsToFloat(0x00010000), TensorBytes.bfloat16ToFloat((short) 0x0001));
    }

    @Test
    void writeRejectsBadInputWithTheTensorName() {
        Path f = tmp.resolve("bad.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(f, Map.of("__metadata__", Nd4j.createFromArray(1f))));
        assertTrue(e.getMessage().contains("reserved"), e.getMessage());
        Map<String, INDArray> withNull = new LinkedHashMap<>();
        withNull.put("w", null);
        e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, withNull));
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(f, Map.of("s", Nd4j.create("text"))));
        assertTrue(e.getMessage().contains("'s'") && e.getMessage().contains("UTF8"), e.getMessage());
        assertFalse(Files.exists(f));
    }

    @Test
    void writeIsAtomicAndLeavesNoTemporaryFiles() throws IOException {
        Path f = tmp.resolve("a.safetensors");
        SafeTensors.write(f, Map.of("x", Nd4j.createFromArray(1f, 2f)));
        try (SafeTensors old = SafeTensors.open(f)) {
            // replacing a file that is still mapped must not disturb the mapping
            SafeTensors.write(f, Map.of("y", Nd4j.createFromArray(5L)));
            assertEquals(Nd4j.createFromArray(1f, 2f), old.get("x"));
        }
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(List.of("y"), st.names());
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(f), s.toList());
        }
        // the result gets the permissions of any new file (umask), not a temp file's owner-only ones
        Path plain = Files.createFile(tmp.resolve("plain"));
        if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
            assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(f));
        }
    }
}
