package io.github.glidejava.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngFilesTest {
    @TempDir
    Path dir;

    private static BufferedImage image() {
        BufferedImage img = new BufferedImage(5, 4, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 20; i++) {
            img.setRGB(i % 5, i / 5, i * 0x0A0B0C);
        }
        return img;
    }

    private static Map<String, String> entries() {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("prompt", "an oil painting of a corgi");
        text.put("seed", "42");
        text.put("latin", "caf\u00e9 cr\u00e8me \u00bd");
        text.put("unicode", "\u4e00\u53ea\u732b \ud83d\udc36 \u0130stanbul");
        text.put("multi line", "first\nsecond\ttab");
        text.put("empty", "");
        return text;
    }

    @Test
    void textEntriesRoundTripInOrder() throws IOException {
        Path file = dir.resolve("gen.png");
        PngFiles.write(image(), file, entries());
        Map<String, String> back = PngFiles.readText(file);
        assertEquals(entries(), back);
        // File order: the tEXt entries in map order, then the iTXt ones.
        assertEquals(List.of("prompt", "seed", "latin", "multi line", "empty", "unicode"), List.copyOf(back.keySet()));
        // Latin-1 values use tEXt, others iTXt.
        String raw = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        assertTrue(raw.contains("tEXtprompt\0an oil painting"), "prompt should be a tEXt chunk");
        assertTrue(raw.contains("iTXtunicode\0"), "non-Latin-1 value should be an iTXt chunk");
        // The pixels are intact.
        BufferedImage back2 = ImageIO.read(file.toFile());
        for (int i = 0; i < 20; i++) {
            assertEquals(image().getRGB(i % 5, i / 5), back2.getRGB(i % 5, i / 5));
        }
    }

    @Test
    void writeIsAtomicAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("out.png");
        PngFiles.write(image(), file, Map.of("k", "first"));
        PngFiles.write(image(), file, Map.of("k", "second"));
        assertEquals(Map.of("k", "second"), PngFiles.readText(file));
        // A failing write (bad key) leaves the previous file untouched.
        assertThrows(IllegalArgumentException.class, () -> PngFiles.write(image(), file, Map.of(" bad", "x")));
        assertEquals(Map.of("k", "second"), PngFiles.readText(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("out.png"), files.map(p -> p.getFileName().toString()).collect(Collectors.toList()));
        }
    }

    @Test
    void invalidKeysAndValuesAreRejected() {
        for (String key : new String[] {"", " lead", "trail ", "two  spaces", "x".repeat(80), "\u043a\u043b\u044e\u0447", "tab\there"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PngFiles.encode(image(), Map.of(key, "v")), key);
            assertTrue(e.getMessage().contains("PNG text key"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> PngFiles.encode(image(), Map.of("k", "a\0b")));
        PngFiles.checkKeyword("x".repeat(79));
        PngFiles.checkKeyword("Creation Time");
    }

    @Test
    void readsCompressedAndLateChunks() throws IOException {
        byte[] png = PngFiles.encode(image(), Map.of("early", "1"));
        byte[] zTXt = concat("ztext".getBytes(StandardCharsets.ISO_8859_1), new byte[] {0, 0},
                deflate("compressed caf\u00e9".getBytes(StandardCharsets.ISO_8859_1)));
        byte[] iTXt = concat("itext".getBytes(StandardCharsets.ISO_8859_1), new byte[] {0, 1, 0},
                "en\0".getBytes(StandardCharsets.ISO_8859_1), "translated\0".getBytes(StandardCharsets.UTF_8),
                deflate("\u732b".getBytes(StandardCharsets.UTF_8)));
        byte[] tEXt = concat("late".getBytes(StandardCharsets.ISO_8859_1), new byte[] {0}, "after IDAT".getBytes(StandardCharsets.ISO_8859_1));
        int iend = png.length - 12;
        byte[] edited = concat(Arrays.copyOf(png, iend), chunk("zTXt", zTXt), chunk("iTXt", iTXt), chunk("tEXt", tEXt),
                Arrays.copyOfRange(png, iend, png.length));
        Map<String, String> text = PngFiles.readText(edited);
        assertEquals(Map.of("early", "1", "ztext", "compressed caf\u00e9", "itext", "\u732b", "late", "after IDAT"), text);
        assertArrayEquals(new String[] {"early", "ztext", "itext", "late"}, text.keySet().toArray(new String[0]));
    }

    @Test
    void nonPngAndTruncatedFilesAreReported() throws IOException {
        Path notPng = dir.resolve("x.png");
        Files.write(notPng, "GIF89a....".getBytes(StandardCharsets.ISO_8859_1));
        IOException e = assertThrows(IOException.class, () -> PngFiles.readText(notPng));
        assertTrue(e.getMessage().contains("x.png") && e.getMessage().contains("not a PNG"), e.getMessage());
        byte[] png = PngFiles.encode(image(), Map.of("a", "b"));
        Path cut = dir.resolve("cut.png");
        Files.write(cut, Arrays.copyOf(png, png.length - 20));
        e = assertThrows(IOException.class, () -> PngFiles.readText(cut));
        assertTrue(e.getMessage().contains("cut.png") && e.getMessage().contains("truncated"), e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> PngFiles.readText(dir.resolve("none.png")));
    }

    private static byte[] chunk(String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        return ByteBuffer.allocate(12 + data.length).putInt(data.length).put(t).put(data).putInt((int) crc.getValue()).array();
    }

    private static byte[] deflate(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DeflaterOutputStream d = new DeflaterOutputStream(out)) {
            d.write(data);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
