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

/** Pillow parity of resizing: pil_resize_cases.json holds Pillow's output (made by pil_resize_cases.py beside it). */
class ResamplingTest {
    @TestFactory
    Stream<DynamicTest> matchesPillowExactly() throws IOException {
        JsonNode root;
        try (InputStream in = ResamplingTest.class.getResourceAsStream("pil_resize_cases.json")) {
            root = new ObjectMapper().readTree(in);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            String name = c.get("filter").asText() + " " + c.get("width") + "x" + c.get("height") + " -> "
                    + c.get("out_width") + "x" + c.get("out_height");
            tests.add(DynamicTest.dynamicTest(name, () -> check(c)));
        }
        assertTrue(tests.size() > 0);
        return tests.stream();
    }

    private static void check(JsonNode c) {
        int channels = c.get("mode").asText().equals("RGB") ? 3 : 1;
        int w = c.get("width").asInt();
        int h = c.get("height").asInt();
        int ow = c.get("out_width").asInt();
        int oh = c.get("out_height").asInt();
        Pixels in = planar(HexFormat.of().parseHex(c.get("input_hex").asText()), channels, h, w);
        Pixels expected = planar(HexFormat.of().parseHex(c.get("output_hex").asText()), channels, oh, ow);
        Pixels out = c.get("filter").asText().equals("bicubic") ? Resampling.bicubic(in, ow, oh) : Resampling.nearest(in, ow, oh);
        assertEquals(oh, out.height);
        assertEquals(ow, out.width);
        assertArrayEquals(expected.data, out.data);
    }

    /** PIL's interleaved bytes (HWC) as planar pixels. */
    private static Pixels planar(byte[] hwc, int channels, int h, int w) {
        Pixels p = new Pixels(channels, h, w);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int ch = 0; ch < channels; ch++) {
                    p.data[(ch * h + y) * w + x] = hwc[(y * w + x) * channels + ch] & 0xFF;
                }
            }
        }
        return p;
    }

    @Test
    void sameSizeIsACopy() {
        Pixels in = new Pixels(1, 2, 2, new int[] {0, 50, 100, 255});
        Pixels out = Resampling.bicubic(in, 2, 2);
        assertArrayEquals(in.data, out.data);
        out.data[0] = 7;
        assertEquals(0, in.data[0]);
    }

    @Test
    void constantImageStaysConstant() {
        int[] data = new int[3 * 5 * 7];
        java.util.Arrays.fill(data, 200);
        Pixels out = Resampling.bicubic(new Pixels(3, 5, 7, data), 19, 3);
        for (int v : out.data) {
            assertEquals(200, v);
        }
    }

    @Test
    void rejectsNonPositiveSize() {
        Pixels in = new Pixels(1, 2, 2);
        assertThrows(IllegalArgumentException.class, () -> Resampling.bicubic(in, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> Resampling.nearest(in, 4, -1));
    }
}
