package io.github.glidejava.core.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * An 8-bit RGB picture held compactly for training data: planar bytes {@code data[(c * height + y) * width + x]},
 * each 0..255 (read as unsigned). Immutable by convention: the operations return new images and never write into
 * {@code data}.
 *
 * <p>The preparation of a training picture follows Pillow so that it can be checked against it:
 * {@link #composited} is {@code Image.alpha_composite(background, img.convert("RGBA")).convert("RGB")},
 * {@link #resizeShorterSide} is {@code img.resize(..., Image.BICUBIC)} (antialiased when shrinking), and
 * {@link #crop} / {@link #toFloats} are exact.
 */
public record RgbImage(int height, int width, byte[] data) {
    /** Largest picture {@link #decode} accepts: a small file must not be able to demand gigabytes of memory. */
    public static final long MAX_PIXELS = 100_000_000L;
    /** Pictures of up to this many pixels (a 16 MB raster) are decoded from a file of any size. */
    public static final long PIXELS_WITHOUT_SIZE_CHECK = 4_000_000L;
    /**
     * Larger pictures need at least one byte of file per this many pixels. Real pictures stay below it (a
     * flat-colour RGB PNG reaches a few hundred pixels per byte, photographs less than ten; only a large, nearly
     * blank 1-bit or 2-bit PNG could exceed it); a header declaring more is damaged or a decompression bomb, and
     * believing it would let a 1 KB file demand a 400 MB raster.
     */
    public static final long MAX_PIXELS_PER_BYTE = 4096;

    /**
     * Refuses a declared picture size that no file of {@code fileBytes} bytes can honestly hold, before anything of
     * that size is allocated; the IOException's message gives the size, the limit and {@code name}.
     */
    public static void checkDeclaredSize(long width, long height, long fileBytes, String name) throws IOException {
        if (width <= 0 || height <= 0) {
            throw new IOException("image " + name + " declares a size of " + width + " x " + height
                    + " pixels; both must be positive");
        }
        long pixels = width * height;
        if (pixels > MAX_PIXELS) {
            throw new IOException("image " + name + " is " + width + " x " + height + " pixels, more than the "
                    + MAX_PIXELS / 1_000_000 + " megapixels accepted");
        }
        if (pixels > PIXELS_WITHOUT_SIZE_CHECK && pixels > MAX_PIXELS_PER_BYTE * fileBytes) {
            throw new IOException("image " + name + " declares " + width + " x " + height + " pixels in a file of "
                    + fileBytes + " bytes; a picture that large needs at least " + pixels / MAX_PIXELS_PER_BYTE
                    + " bytes (damaged header or decompression bomb)");
        }
    }

    public RgbImage {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (data.length != 3L * height * width) {
            throw new IllegalArgumentException("RGB data of length " + data.length + " does not fit 3x" + height + "x" + width);
        }
    }

    /**
     * Decodes an image held in memory with {@code javax.imageio} (PNG, JPEG, GIF, BMP, and WebP through the
     * TwelveMonkeys plug-in). Any failure, including a runtime exception from inside a decoder, becomes an
     * IOException naming {@code name} and the problem; so does a picture of more than {@link #MAX_PIXELS} pixels.
     */
    public static BufferedImage decode(byte[] bytes, String name) throws IOException {
        if (bytes.length == 0) {
            throw new IOException("image " + name + " is an empty file");
        }
        // in memory: ImageIO's default stream for an InputStream would spool it through a temporary file
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException("cannot read image " + name
                        + ": its content is not an image format javax.imageio can decode (expected PNG, JPEG, GIF, BMP or WebP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                checkDeclaredSize(reader.getWidth(0), reader.getHeight(0), bytes.length, name);
                BufferedImage img = reader.read(0);
                if (img == null || img.getWidth() <= 0 || img.getHeight() <= 0) {
                    throw new IOException("image is empty");
                }
                return img;
            } catch (IOException | RuntimeException e) {
                String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                throw new IOException("cannot decode " + reader.getFormatName() + " image " + name + ": " + why, e);
            } finally {
                reader.dispose();
            }
        }
    }

    /**
     * The picture's RGB over an opaque background colour {@code 0xRRGGBB}, with Pillow's {@code alpha_composite}
     * arithmetic; pictures without alpha keep their RGB as PIL's {@code convert("RGB")} gives it.
     */
    public static RgbImage composited(BufferedImage img, int backgroundRgb) {
        Pixels rgb = Pixels.rgb(img);
        Pixels alpha = Pixels.alpha(img);
        if (alpha != null) {
            Pixels.compositeOver(rgb, alpha, backgroundRgb);
        }
        return of(rgb);
    }

    /**
     * Resized (Pillow bicubic) so that the shorter side is {@code size}; the longer side becomes
     * {@code round(long * size / short)} (halves up), at least {@code size}.
     */
    public RgbImage resizeShorterSide(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive, got " + size);
        }
        int shortSide = Math.min(height, width);
        int longSide = Math.max(height, width);
        int scaledLong = (int) Math.max(size, (2L * longSide * size + shortSide) / (2L * shortSide));
        int outW = width <= height ? size : scaledLong;
        int outH = width <= height ? scaledLong : size;
        if (outW == width && outH == height) {
            return this;
        }
        return of(Resampling.bicubic(pixels(), outW, outH));
    }

    /** The window of {@code h x w} pixels whose top-left corner is ({@code top}, {@code left}). */
    public RgbImage crop(int top, int left, int h, int w) {
        if (top < 0 || left < 0 || h <= 0 || w <= 0 || top + h > height || left + w > width) {
            throw new IllegalArgumentException("crop " + w + "x" + h + " at (x=" + left + ", y=" + top
                    + ") does not fit in an image of " + width + "x" + height);
        }
        if (top == 0 && left == 0 && h == height && w == width) {
            return this;
        }
        byte[] out = new byte[3 * h * w];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(data, (c * height + top + y) * width + left, out, (c * h + y) * w, w);
            }
        }
        return new RgbImage(h, w, out);
    }

    /**
     * Writes the window {@code h x w} at ({@code top}, {@code left}), mirrored left-right when {@code flip}, into
     * {@code out} from {@code offset} as GLIDE's tensor values {@code v / 127.5 - 1} (C order, [3, h, w]).
     */
    public void toFloats(int top, int left, int h, int w, boolean flip, float[] out, int offset) {
        if (top < 0 || left < 0 || h <= 0 || w <= 0 || top + h > height || left + w > width) {
            throw new IllegalArgumentException("window " + w + "x" + h + " at (x=" + left + ", y=" + top
                    + ") does not fit in an image of " + width + "x" + height);
        }
        int o = offset;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                int row = (c * height + top + y) * width + left;
                for (int x = 0; x < w; x++) {
                    int v = data[row + (flip ? w - 1 - x : x)] & 0xFF;
                    out[o++] = v / 127.5f - 1f;
                }
            }
        }
    }

    /** The picture as a Java image (for saving or looking at it). */
    public BufferedImage toBufferedImage() {
        return pixels().toBufferedImage();
    }

    private Pixels pixels() {
        int[] px = new int[data.length];
        for (int i = 0; i < px.length; i++) {
            px[i] = data[i] & 0xFF;
        }
        return new Pixels(3, height, width, px);
    }

    private static RgbImage of(Pixels p) {
        byte[] b = new byte[p.data.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) p.data[i];
        }
        return new RgbImage(p.height, p.width, b);
    }
}
