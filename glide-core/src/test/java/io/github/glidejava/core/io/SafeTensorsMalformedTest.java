package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import io.github.glidejava.core.GlideBackend;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** Every rule violation gives a SafeTensorsFormatException naming the file, the tensor and what was expected. */
class SafeTensorsMalformedTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void backend() {
        GlideBackend.init();
    }

    private Path file(String name, byte[] content) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, content);
        return f;
    }

    /** A file with the given header text (padded to 8) followed by {@code dataBytes} zero bytes. */
    private Path withHeader(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) & ~7;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) {
            b.put((byte) ' ');
        }
        return file(name, b.array());
    }

    private SafeTensorsFormatException rejects(Path f, String... fragments) {
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(f));
        assertTrue(e.getMessage().contains(f.toString()), "message names the file: " + e.getMessage());
        assertEquals(f, e.file());
        for (String s : fragments) {
            assertTrue(e.getMessage().contains(s), "message should contain '" + s + "': " + e.getMessage());
        }
        return e;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}";
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        rejects(file("short.safetensors", new byte[] {1, 0, 0}), "shorter than the 8-byte");
        rejects(file("empty.safetensors", new byte[0]), "shorter than the 8-byte");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put("{}      ".getBytes());
        rejects(file("beyond.safetensors", b.array()), "header length 1000 exceeds the 8 bytes");
    }

    @Test
    void absurdHeaderLengthsAllocateNothing() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).put("{}      ".getBytes());
        rejects(file("huge.safetensors", b.array()), "18446744073709551615");
        b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).put("{}      ".getBytes());
        rejects(file("huge2.safetensors", b.array()), "exceeds");
    }

    @Test
    void headerAboveTheLimitIsRejectedEvenWhenTheFileIsThatLarge() throws IOException {
        Path f = tmp.resolve("sparse.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(SafeTensors.MAX_HEADER_BYTES + 64); // sparse: costs no disk
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(SafeTensors.MAX_HEADER_BYTES + 8).array());
        }
        rejects(f, "exceeds the limit of " + SafeTensors.MAX_HEADER_BYTES);
    }

    @Test
    void truncatedFile() throws IOException {
        Path good = tmp.resolve("good.safetensors");
        SafeTensors.write(good, Map.of("w", Nd4j.rand(4, 4)));
        byte[] all = Files.readAllBytes(good);
        rejects(file("cut_data.safetensors", Arrays.copyOf(all, all.length - 5)), "'w'", "past the end",
                "truncated");
        rejects(file("cut_header.safetensors", Arrays.copyOf(all, 20)), "exceeds", "truncated");
    }

    @Test
    void invalidJson() throws IOException {
        rejects(withHeader("json.safetensors", "{\"a\": {\"dtype\": ", 0), "not valid JSON");
        rejects(withHeader("trailing.safetensors", "{} {}", 0), "not valid JSON");
        rejects(withHeader("array.safetensors", "[1,2]", 0), "does not start with '{'");
        rejects(withHeader("dup.safetensors", "{" + entry("x", "F32", "[1]", 0, 4) + "," + entry("x", "F32", "[1]", 4, 8)
                + "}", 8), "not valid JSON", "Duplicate field 'x'");
        byte[] badUtf8 = "{\"\u00e9\":1}".getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(8 + 8).order(ByteOrder.LITTLE_ENDIAN).putLong(8)
                .put(Arrays.copyOf(badUtf8, 8));
        rejects(file("utf8.safetensors", b.array()), "not valid JSON");
    }

    @Test
    void unknownDType() throws IOException {
        rejects(withHeader("dtype.safetensors", "{" + entry("w", "F8_E4M3", "[4]", 0, 4) + "}", 4),
                "tensor 'w'", "unknown or unsupported dtype 'F8_E4M3'", "F32");
        rejects(withHeader("dtype2.safetensors", "{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor 'w'", "dtype");
    }

    @Test
    void negativeDimension() throws IOException {
        rejects(withHeader("neg.safetensors", "{" + entry("w", "F32", "[2,-1]", 0, 0) + "}", 0), "tensor 'w'",
                "negative dimension");
    }

    @Test
    void shapeAndByteCountDisagree() throws IOException {
        rejects(withHeader("mismatch.safetensors", "{" + entry("w", "F32", "[2,3]", 0, 20) + "}", 20), "tensor 'w'",
                "needs 24 bytes", "span 20");
        rejects(withHeader("overflow.safetensors", "{" + entry("w", "F32", "[1099511627776,1099511627776]", 0, 4)
                + "}", 4), "tensor 'w'", "more elements");
        rejects(withHeader("fraction.safetensors", "{" + entry("w", "F32", "[1.5]", 0, 4) + "}", 4), "tensor 'w'",
                "'shape' element 0");
        rejects(withHeader("nooffsets.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'w'",
                "data_offsets");
    }

    @Test
    void overlappingOffsets() throws IOException {
        rejects(withHeader("overlap.safetensors", "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]",
                4, 12) + "}", 12), "tensor 'b'", "overlap tensor 'a'");
        rejects(withHeader("same.safetensors", "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]",
                0, 8) + "}", 8), "overlap");
    }

    @Test
    void outOfRangeOffsets() throws IOException {
        rejects(withHeader("range.safetensors", "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]",
                8, 16) + "}", 12), "tensor 'b'", "past the end of the data section (12 bytes");
        rejects(withHeader("backwards.safetensors", "{" + entry("a", "F32", "[0]", 8, 0) + "}", 8), "tensor 'a'",
                "0 <= begin <= end");
        rejects(withHeader("negative.safetensors", "{" + entry("a", "F32", "[1]", -4, 0) + "}", 8), "tensor 'a'",
                "0 <= begin <= end");
    }

    @Test
    void gapsAndTrailingBytesAreNotContiguous() throws IOException {
        rejects(withHeader("gap.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8,
                12) + "}", 12), "tensor 'b'", "leave bytes [4, 8)", "contiguous");
        rejects(withHeader("tail.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "}", 12), "cover 4 bytes",
                "holds 12 bytes");
    }

    @Test
    void metadataMustMapStringsToStrings() throws IOException {
        rejects(withHeader("md.safetensors", "{\"__metadata__\":{\"n\":1}}", 0), "__metadata__", "'n'",
                "must be a string");
        rejects(withHeader("md2.safetensors", "{\"__metadata__\":[1]}", 0), "__metadata__");
    }

    @Test
    void headerOrderNeedNotBeOffsetOrder() throws IOException {
        Path f = withHeader("order.safetensors", "{" + entry("b", "F32", "[1]", 4, 8) + "," + entry("a", "I64", "[]", 8,
                16) + "," + entry("z", "BOOL", "[0]", 0, 0) + "," + entry("c", "F32", "[1]", 0, 4) + "}", 16);
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(java.util.List.of("b", "a", "z", "c"), st.names());
        }
    }

    @Test
    void missingTensorNamesTheFile() throws IOException {
        Path f = tmp.resolve("ok.safetensors");
        SafeTensors.write(f, Map.of("w", Nd4j.rand(2)));
        try (SafeTensors st = SafeTensors.open(f)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> st.get("nope"));
            assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains(f.toString()), e.getMessage());
        }
    }
}
