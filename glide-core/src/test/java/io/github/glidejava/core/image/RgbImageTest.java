package io.github.glidejava.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Training-picture preparation against Pillow: data/pil/cases.json holds what Pillow makes of the pictures beside it
 * (alpha composited on a background, resized so the shorter side is the training size); made by make_pil_cases.py.
 */
class RgbImageTest {
    private static final String DIR = "/io/github/glidejava/core/data/pil/";

    @TestFactory
    Stream<DynamicTest> matchesPillowWithinOneLevel() throws IOException {
        JsonNode root;
        try (InputStream in = RgbImageTest.class.getResourceAsStream(DIR + "cases.json")) {
            root = new ObjectMapper().readTree(in);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            String name = c.get("file").asText() + " -> short side " + c.get("size").asInt() + " on #" + c.get("background").asText();
            tests.add(DynamicTest.dynamicTest(name, () -> check(c)));
        }
        assertTrue(tests.size() > 0);
        return tests.stream();
    }

    private static void check(JsonNode c) throws IOException {
        byte[] file;
        try (InputStream in = RgbImageTest.class.getResourceAsStream(DIR + c.get("file").asText())) {
            file = in.readAllBytes();
        }
        RgbImage img = RgbImage.composited(RgbImage.decode(file, c.get("file").asText()),
                Integer.parseInt(c.get("background").asText(), 16)).resizeShorterSide(c.get("size").asInt());
        int w = c.get("width").asInt();
        int h = c.get("height").asInt();
        assertEquals(w, img.width());
        assertEquals(h, img.height());
        byte[] hwc = HexFormat.of().parseHex(c.get("rgb_hex").asText());
        int maxDiff = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int ch = 0; ch < 3; ch++) {
                    int expected = hwc[(y * w + x) * 3 + ch] & 0xFF;
                    int actual = img.data()[(ch * h + y) * w + x] & 0xFF;
                    maxDiff = Math.max(maxDiff, Math.abs(expected - actual));
                }
            }
        }
        assertTrue(maxDiff <= 1, "max difference from Pillow is " + maxDiff + " levels (at most 1 allowed)");
    }

    @Test
    void cropAndFloatsAreExact() {
        byte[] d = new byte[3 * 2 * 3];
        for (int i = 0; i < d.length; i++) {
            d[i] = (byte) (i * 15);
        }
        RgbImage img = new RgbImage(2, 3, d);
        RgbImage c = img.crop(1, 1, 1, 2);
        assertArrayEquals(new byte[] {(byte) 60, (byte) 75, (byte) 150, (byte) 165, (byte) 240, (byte) 255}, c.data());
        float[] out = new float[1 + 6];
        img.toFloats(1, 1, 1, 2, true, out, 1);
        assertEquals(75 / 127.5f - 1f, out[1]);
        assertEquals(60 / 127.5f - 1f, out[2]);
        assertEquals(1f, out[5]);
        assertEquals(240 / 127.5f - 1f, out[6]);
        assertThrows(IllegalArgumentException.class, () -> img.crop(1, 2, 1, 2));
    }

    @Test
    void hugeDeclaredSizeIsRefusedBeforeDecoding() throws IOException {
        // a PNG header declaring 20000 x 20000 pixels, with no picture data behind it
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17);
        ihdr.put(new byte[] {'I', 'H', 'D', 'R'}).putInt(20000).putInt(20000).put(new byte[] {8, 2, 0, 0, 0});
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(ihdr.array());
        out.write(new byte[] {0, 0, 0, 13});
        out.write(ihdr.array());
        out.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        IOException e = assertThrows(IOException.class, () -> RgbImage.decode(out.toByteArray(), "bomb.png"));
        assertTrue(e.getMessage().contains("bomb.png") && e.getMessage().contains("20000 x 20000 pixels"), e.getMessage());
    }

    @Test
    void undecodableBytesNameTheImage() {
        IOException e = assertThrows(IOException.class, () -> RgbImage.decode(new byte[] {1, 2, 3, 4}, "junk.png"));
        assertTrue(e.getMessage().contains("junk.png"), e.getMessage());
        byte[] truncated = new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H'};
        IOException t = assertThrows(IOException.class, () -> RgbImage.decode(truncated, "cut.png"));
        assertTrue(t.getMessage().contains("cut.png"), t.getMessage());
    }
}
