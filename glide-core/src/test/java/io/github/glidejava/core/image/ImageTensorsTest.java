package io.github.glidejava.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ImageTensorsTest {
    @TempDir
    Path dir;

    private static BufferedImage randomRgb(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        return img;
    }

    /** Same shape and bit-identical float values (INDArray.equals allows a tolerance). */
    static void assertExact(INDArray expected, INDArray actual) {
        assertArrayEquals(expected.shape(), actual.shape());
        assertArrayEquals(expected.dup('c').data().asFloat(), actual.dup('c').data().asFloat());
    }

    private static void assertSameRgb(BufferedImage a, BufferedImage b) {
        assertEquals(a.getWidth(), b.getWidth());
        assertEquals(a.getHeight(), b.getHeight());
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                assertEquals(a.getRGB(x, y) & 0xFFFFFF, b.getRGB(x, y) & 0xFFFFFF, "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void pixelsMapToMinusOneToOneInNchw() {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        img.setRGB(2, 1, 0xFF8000); // r = 255, g = 128, b = 0 at x = 2, y = 1
        INDArray t = ImageTensors.fromImage(img);
        assertArrayEquals(new long[] {1, 3, 2, 3}, t.shape());
        assertEquals(DataType.FLOAT, t.dataType());
        assertEquals(1f, t.getFloat(0, 0, 1, 2));
        assertEquals(128 / 127.5f - 1f, t.getFloat(0, 1, 1, 2));
        assertEquals(-1f, t.getFloat(0, 2, 1, 2));
        assertEquals(-1f, t.getFloat(0, 0, 0, 0));
    }

    @Test
    void everyByteValueRoundTripsExactly() {
        for (int v = 0; v < 256; v++) {
            assertEquals(v, ImageTensors.toByte(v / 127.5f - 1f), "value " + v);
        }
    }

    @Test
    void imageRoundTripIsExact() {
        BufferedImage img = randomRgb(17, 11, 1);
        assertSameRgb(img, ImageTensors.toImage(ImageTensors.fromImage(img), 0));
    }

    @Test
    void roundingIsHalfToEvenLikeTorchRound() {
        int halves = 0;
        int differsFromHalfUp = 0;
        for (int k = 0; k < 255; k++) {
            float x = (k + 0.5f) / 127.5f - 1f;
            float scaled = (x + 1f) * 127.5f;
            if (scaled != k + 0.5f) {
                continue; // not exactly a half in float32
            }
            halves++;
            int expected = k % 2 == 0 ? k : k + 1;
            assertEquals(expected, ImageTensors.toByte(x), "(x + 1) * 127.5 = " + scaled);
            if (expected != Math.round(scaled)) {
                differsFromHalfUp++;
            }
        }
        assertTrue(halves >= 20, "too few exact halves found: " + halves);
        assertTrue(differsFromHalfUp >= 10, "no case separates half-to-even from half-up");
    }

    @Test
    void valuesOutsideTheRangeAreClampedAndNanIsRejected() {
        assertEquals(255, ImageTensors.toByte(1.5f));
        assertEquals(0, ImageTensors.toByte(-3f));
        assertEquals(255, ImageTensors.toByte(Float.POSITIVE_INFINITY));
        assertEquals(0, ImageTensors.toByte(Float.NEGATIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> ImageTensors.toByte(Float.NaN));
        INDArray img = Nd4j.zeros(DataType.FLOAT, 1, 3, 2, 2);
        img.putScalar(new long[] {0, 1, 1, 0}, Float.NaN);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageTensors.toImage(img, 0));
        assertTrue(e.getMessage().contains("c=1, y=1, x=0"), e.getMessage());
    }

    @Test
    void quantizeRoundsTo255LevelsWithoutClamping() {
        INDArray x = Nd4j.createFromArray(new float[] {-1f, 0f, 0.3f, 1f, 1.2f}).reshape(1, 1, 1, 5);
        INDArray q = ImageTensors.quantize(x);
        assertArrayEquals(x.shape(), q.shape());
        float[] in = x.data().asFloat();
        for (int i = 0; i < in.length; i++) {
            float expected = (float) Math.rint((in[i] + 1f) * 127.5f) / 127.5f - 1f;
            assertEquals(expected, q.getFloat(0, 0, 0, i));
        }
        assertEquals(-1f, q.getFloat(0, 0, 0, 0));
        assertEquals(128 / 127.5f - 1f, q.getFloat(0, 0, 0, 1)); // 127.5 rounds to the even 128
        assertTrue(q.getFloat(0, 0, 0, 4) > 1f);
    }

    @Test
    void gridPlacesImagesRowMajorAndFillsEmptyCellsBlack() {
        int n = 5, c = 3, h = 2, w = 3;
        float[] data = new float[n * c * h * w];
        for (int i = 0; i < data.length; i++) {
            data[i] = i / (float) data.length; // every value distinct
        }
        INDArray batch = Nd4j.create(data, new long[] {n, c, h, w}, DataType.FLOAT);
        INDArray g = ImageTensors.grid(batch, 2);
        assertArrayEquals(new long[] {1, c, 3 * h, 2 * w}, g.shape());
        for (int i = 0; i < 6; i++) {
            int oy = (i / 2) * h, ox = (i % 2) * w;
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        float expected = i < n ? batch.getFloat(i, ch, y, x) : -1f;
                        assertEquals(expected, g.getFloat(0, ch, oy + y, ox + x), "cell " + i);
                    }
                }
            }
        }
        // One row, as the notebook's show_images: images side by side along the width.
        INDArray strip = ImageTensors.grid(batch, n);
        assertArrayEquals(new long[] {1, c, h, n * w}, strip.shape());
        assertEquals(batch.getFloat(4, 2, 1, 2), strip.getFloat(0, 2, 1, 4 * w + 2));
        assertArrayEquals(strip.shape(), ImageTensors.grid(batch, 99).shape());
        BufferedImage picture = ImageTensors.gridImage(batch, n);
        assertEquals(n * w, picture.getWidth());
        assertEquals(h, picture.getHeight());
        assertThrows(IllegalArgumentException.class, () -> ImageTensors.grid(batch, 0));
    }

    @Test
    void pngWriteAndReadIsExact() throws IOException {
        BufferedImage img = randomRgb(20, 13, 2);
        INDArray t = ImageTensors.fromImage(img);
        Path file = dir.resolve("out.png");
        ImageTensors.writePng(t, file, Map.of("prompt", "a corgi"));
        INDArray back = ImageTensors.read(file);
        assertExact(t, back);
        assertEquals(Map.of("prompt", "a corgi"), PngFiles.readText(file));
        // rank-3 [C, H, W] works too
        ImageTensors.writePng(t.slice(0), file, Map.of());
        assertExact(t, ImageTensors.read(file));
    }

    @Test
    void greyPngKeepsItsStoredValues() throws IOException {
        BufferedImage grey = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 256; i++) {
            grey.getRaster().setSample(i % 16, i / 16, 0, i);
        }
        Path file = dir.resolve("grey.png");
        ImageIO.write(grey, "png", file.toFile());
        INDArray t = ImageTensors.read(file);
        assertArrayEquals(new long[] {1, 3, 16, 16}, t.shape());
        for (int i = 0; i < 256; i++) {
            for (int ch = 0; ch < 3; ch++) {
                assertEquals(i / 127.5f - 1f, t.getFloat(0, ch, i / 16, i % 16), "grey " + i);
            }
        }
        // Writing a one-channel tensor gives a grey PNG with the same values.
        Path out = dir.resolve("grey2.png");
        ImageTensors.writePng(t.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)).dup(), out, null);
        BufferedImage back = ImageIO.read(out.toFile());
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, back.getType());
        assertEquals(77, back.getRaster().getSample(77 % 16, 77 / 16, 0));
    }

    @Test
    void sixteenBitPngKeepsTheHighByte() throws IOException {
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        int[] values = {0, 0x12FF, 0x8000, 0xFFFF};
        for (int x = 0; x < 4; x++) {
            img.getRaster().setSample(x, 0, 0, values[x]);
        }
        Path file = dir.resolve("sixteen.png");
        ImageIO.write(img, "png", file.toFile());
        INDArray t = ImageTensors.read(file);
        for (int x = 0; x < 4; x++) {
            assertEquals((values[x] >> 8) / 127.5f - 1f, t.getFloat(0, 0, 0, x));
        }
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, 0x00FF8040); // fully transparent, colour kept
        img.setRGB(1, 0, 0x80102030);
        Path file = dir.resolve("rgba.png");
        ImageIO.write(img, "png", file.toFile());
        INDArray t = ImageTensors.read(file);
        assertEquals(0xFF, ImageTensors.toByte(t.getFloat(0, 0, 0, 0)));
        assertEquals(0x80, ImageTensors.toByte(t.getFloat(0, 1, 0, 0)));
        assertEquals(0x30, ImageTensors.toByte(t.getFloat(0, 2, 0, 1)));
    }

    @Test
    void palettePngUsesPaletteColours() throws IOException {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED);
        img.setRGB(0, 0, 0xFF0000);
        img.setRGB(1, 0, 0x00FF00);
        img.setRGB(2, 0, 0x0000FF);
        Path file = dir.resolve("palette.png");
        ImageIO.write(img, "png", file.toFile());
        BufferedImage back = ImageTensors.toImage(ImageTensors.read(file), 0);
        assertSameRgb(img, back);
    }

    @Test
    void jpegIsReadCloseToTheOriginal() throws IOException {
        BufferedImage img = new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 32; x++) {
                img.setRGB(x, y, (x * 8) << 16 | (y * 10) << 8 | 128);
            }
        }
        Path file = dir.resolve("smooth.jpg");
        assertTrue(ImageIO.write(img, "jpeg", file.toFile()));
        INDArray t = ImageTensors.read(file);
        assertArrayEquals(new long[] {1, 3, 24, 32}, t.shape());
        INDArray exact = ImageTensors.fromImage(img);
        double maxDiff = Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.same.AMax(t.sub(exact))).getDouble(0);
        assertTrue(maxDiff < 12 / 127.5, "JPEG differs by " + maxDiff * 127.5 + " levels");
    }

    @Test
    void readWithSizeResizesWithPillowBicubic() throws IOException {
        BufferedImage img = randomRgb(30, 20, 3);
        Path file = dir.resolve("big.png");
        ImageIO.write(img, "png", file.toFile());
        INDArray t = ImageTensors.read(file, 8);
        assertArrayEquals(new long[] {1, 3, 8, 8}, t.shape());
        assertExact(ImageTensors.fromImage(ImageTensors.resize(img, 8, 8)), t);
        assertArrayEquals(new long[] {1, 3, 5, 7}, ImageTensors.read(file, 7, 5).shape());
    }

    @Test
    void batchesNeedEqualSizesUnlessResized() throws IOException {
        Path a = dir.resolve("a.png");
        Path b = dir.resolve("b.png");
        ImageIO.write(randomRgb(6, 4, 4), "png", a.toFile());
        ImageIO.write(randomRgb(5, 4, 5), "png", b.toFile());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageTensors.readBatch(List.of(a, b)));
        assertTrue(e.getMessage().contains("b.png") && e.getMessage().contains("5x4") && e.getMessage().contains("6x4"), e.getMessage());
        INDArray batch = ImageTensors.readBatch(List.of(a, b), 3, 3);
        assertArrayEquals(new long[] {2, 3, 3, 3}, batch.shape());
        assertExact(ImageTensors.read(b, 3), batch.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 2)));
        INDArray same = ImageTensors.readBatch(List.of(a, a));
        assertArrayEquals(new long[] {2, 3, 4, 6}, same.shape());
    }

    @Test
    void unreadableFilesAreNamed() throws IOException {
        Path missing = dir.resolve("missing.png");
        NoSuchFileException nf = assertThrows(NoSuchFileException.class, () -> ImageTensors.read(missing));
        assertTrue(nf.getMessage().contains("missing.png"), nf.getMessage());

        Path garbage = dir.resolve("garbage.png");
        Files.write(garbage, "this is not an image".getBytes());
        IOException e = assertThrows(IOException.class, () -> ImageTensors.read(garbage));
        assertTrue(e.getMessage().contains("garbage.png"), e.getMessage());

        Path good = dir.resolve("good.png");
        ImageIO.write(randomRgb(40, 40, 6), "png", good.toFile());
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = dir.resolve("truncated.png");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        e = assertThrows(IOException.class, () -> ImageTensors.read(truncated));
        assertTrue(e.getMessage().contains("truncated.png"), e.getMessage());

        e = assertThrows(IOException.class, () -> ImageTensors.read(dir));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void wrongShapesAreRejected() {
        INDArray fourChannels = Nd4j.zeros(DataType.FLOAT, 1, 4, 2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageTensors.toImage(fourChannels, 0));
        assertTrue(e.getMessage().contains("[1, 4, 2, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ImageTensors.toImage(Nd4j.zeros(DataType.FLOAT, 2, 2), 0));
        assertTrue(e.getMessage().contains("[2, 2]"), e.getMessage());
        INDArray two = Nd4j.zeros(DataType.FLOAT, 2, 3, 2, 2);
        assertThrows(IndexOutOfBoundsException.class, () -> ImageTensors.toImage(two, 2));
        e = assertThrows(IllegalArgumentException.class, () -> ImageTensors.writePng(two, dir.resolve("x.png"), null));
        assertTrue(e.getMessage().contains("batch of 2"), e.getMessage());
        assertEquals(2, ImageTensors.toImages(two).size());
    }

    @Test
    void writingIntoAMissingDirectoryFailsClearly() {
        INDArray img = Nd4j.zeros(DataType.FLOAT, 1, 3, 2, 2);
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> ImageTensors.writePng(img, dir.resolve("nope/out.png"), null));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void resizeNearestFollowsTorchsFloorRule() {
        // 2x3 -> 4x4: rows floor(y * 2/4) = 0,0,1,1; columns floor(x * 3/4) = 0,0,1,2
        INDArray x = Nd4j.create(new float[] {1, 2, 3, 4, 5, 6}, new long[] {1, 1, 2, 3}, 'c');
        INDArray up = ImageTensors.resizeNearest(x, 4, 4);
        assertArrayEquals(new long[] {1, 1, 4, 4}, up.shape());
        assertArrayEquals(new float[] {1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6, 4, 4, 5, 6}, up.data().asFloat());
        // 4x4 -> 2x2 takes every other pixel from the top left (Pillow's centred rule would take the other ones)
        INDArray down = ImageTensors.resizeNearest(up, 2, 2);
        assertArrayEquals(new float[] {1, 2, 4, 5}, down.dup('c').data().asFloat());
        assertEquals(x, ImageTensors.resizeNearest(x, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> ImageTensors.resizeNearest(x, 0, 4));
    }
}
