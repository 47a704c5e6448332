package io.github.glidejava.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.image.InpaintMasks.Source;

class InpaintMasksTest {
    @TempDir
    Path dir;

    private static BufferedImage grey(int... values) {
        BufferedImage img = new BufferedImage(values.length, 1, BufferedImage.TYPE_BYTE_GRAY);
        for (int x = 0; x < values.length; x++) {
            img.getRaster().setSample(x, 0, 0, values[x]);
        }
        return img;
    }

    private static float[] row(INDArray mask) {
        return mask.dup('c').data().asFloat();
    }

    @Test
    void lumaThresholdDecidesKeep() {
        BufferedImage img = grey(0, 127, 128, 255);
        INDArray white = InpaintMasks.fromImage(img, Source.LUMA_WHITE_KEEPS, 128);
        assertArrayEquals(new long[] {1, 1, 1, 4}, white.shape());
        assertEquals(DataType.FLOAT, white.dataType());
        assertArrayEquals(new float[] {0, 0, 1, 1}, row(white));
        assertArrayEquals(new float[] {1, 1, 0, 0}, row(InpaintMasks.fromImage(img, Source.LUMA_BLACK_KEEPS, 128)));
        assertArrayEquals(new float[] {0, 0, 0, 1}, row(InpaintMasks.fromImage(img, Source.LUMA_WHITE_KEEPS, 200)));
        assertArrayEquals(new float[] {0, 1, 1, 1}, row(InpaintMasks.fromImage(img, Source.LUMA_WHITE_KEEPS, 1)));
    }

    @Test
    void colourImagesUsePilLuma() {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xFF0000); // luma 76
        img.setRGB(1, 0, 0x00FF00); // luma 150
        img.setRGB(2, 0, 0x8080FF); // luma (128*19595 + 128*38470 + 255*7471 + 32768) >> 16 = 142
        assertArrayEquals(new float[] {0, 1, 1}, row(InpaintMasks.fromImage(img, Source.LUMA_WHITE_KEEPS, 128)));
        assertArrayEquals(new float[] {0, 1, 0}, row(InpaintMasks.fromImage(img, Source.LUMA_WHITE_KEEPS, 143)));
    }

    @Test
    void alphaOpaqueKeeps() throws IOException {
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_INT_ARGB);
        int[] alpha = {0, 127, 128, 255};
        for (int x = 0; x < 4; x++) {
            img.setRGB(x, 0, alpha[x] << 24 | 0xFFFFFF);
        }
        Path file = dir.resolve("alpha.png");
        ImageIO.write(img, "png", file.toFile());
        assertArrayEquals(new float[] {0, 0, 1, 1}, row(InpaintMasks.read(file, Source.ALPHA_OPAQUE_KEEPS)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InpaintMasks.fromImage(grey(1, 2), Source.ALPHA_OPAQUE_KEEPS, 128));
        assertTrue(e.getMessage().contains("no alpha channel"), e.getMessage());
    }

    @Test
    void resizingIsNearestNeighbour() throws IOException {
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(1, 0, 0, 255);
        img.getRaster().setSample(0, 1, 0, 255);
        Path file = dir.resolve("m.png");
        ImageIO.write(img, "png", file.toFile());
        INDArray m = InpaintMasks.read(file, 4, 4, Source.LUMA_WHITE_KEEPS, 128);
        assertArrayEquals(new long[] {1, 1, 4, 4}, m.shape());
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                float expected = (x / 2 == 1) != (y / 2 == 1) ? 1f : 0f;
                assertEquals(expected, m.getFloat(0, 0, y, x), "at " + x + "," + y);
            }
        }
    }

    @Test
    void batchesAndSizeChecks() {
        INDArray both = InpaintMasks.fromImages(List.of(grey(0, 255), grey(255, 0)), -1, -1, Source.LUMA_WHITE_KEEPS, 128);
        assertArrayEquals(new long[] {2, 1, 1, 2}, both.shape());
        assertArrayEquals(new float[] {0, 1, 1, 0}, row(both));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InpaintMasks.fromImages(List.of(grey(0, 255), grey(1, 2, 3)), -1, -1, Source.LUMA_WHITE_KEEPS, 128));
        assertTrue(e.getMessage().contains("3x1") && e.getMessage().contains("2x1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> InpaintMasks.fromImage(grey(1), Source.LUMA_WHITE_KEEPS, 0));
        assertThrows(IllegalArgumentException.class, () -> InpaintMasks.fromImage(grey(1), Source.LUMA_WHITE_KEEPS, 256));
        assertThrows(IllegalArgumentException.class, () -> InpaintMasks.fromImages(List.of(), -1, -1, Source.LUMA_WHITE_KEEPS, 128));
    }

    @Test
    void maskPictureRoundTrip() throws IOException {
        INDArray mask = InpaintMasks.fromImage(grey(0, 255, 255, 0, 200), Source.LUMA_WHITE_KEEPS, 128);
        BufferedImage picture = InpaintMasks.toImage(mask, 0);
        assertEquals(255, picture.getRaster().getSample(1, 0, 0));
        assertEquals(0, picture.getRaster().getSample(0, 0, 0));
        Path file = dir.resolve("mask.png");
        PngFiles.write(picture, file, Map.of());
        ImageTensorsTest.assertExact(mask, InpaintMasks.read(file, Source.LUMA_WHITE_KEEPS));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InpaintMasks.toImage(org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 1, 3, 2, 2), 0));
        assertTrue(e.getMessage().contains("[1, 3, 2, 2]"), e.getMessage());
    }
}
