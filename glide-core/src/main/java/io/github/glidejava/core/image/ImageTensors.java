package io.github.glidejava.core.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

/**
 * Conversions between image files and GLIDE's image tensors: NCHW float32 in [-1, 1], RGB.
 *
 * <p>Pixels to tensor: {@code x = v / 127.5 - 1} in float32 (the notebook's
 * {@code th.from_numpy(img).float() / 127.5 - 1}). Tensor to pixels: {@code clamp(round((x + 1) * 127.5), 0, 255)}
 * in float32 with round-half-to-even, like the notebook's {@code ((x + 1) * 127.5).round().clamp(0, 255)}
 * ({@code torch.round}). Integer pixel values therefore survive a round trip exactly.
 *
 * <p>Files are decoded with {@code javax.imageio} (PNG, JPEG, BMP, GIF, ...) into RGB as PIL's {@code convert("RGB")}
 * does (see {@link #fromImage(BufferedImage)}). Resizing uses Pillow's bicubic filter (a = -0.5, antialiased when
 * shrinking, 8-bit fixed-point passes), so {@code read(file, 256)} reproduces the inpainting notebook's
 * {@code Image.open(path).convert("RGB").resize((256, 256), resample=Image.BICUBIC)} (JPEG decoding itself may differ
 * from libjpeg-turbo by a level here and there).
 */
public final class ImageTensors {
    static {
        GlideBackend.init();
    }

    private ImageTensors() {
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Decodes an image file.
     *
     * @throws NoSuchFileException when the file does not exist
     * @throws IOException naming the file when no decoder recognises it or decoding fails
     */
    public static BufferedImage readImage(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "image file not found");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException("cannot read image " + file + ": not a regular file");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new IOException("cannot open image " + file);
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException("cannot read image " + file
                        + ": its content is not a format javax.imageio can decode (expected PNG or JPEG)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                RgbImage.checkDeclaredSize(reader.getWidth(0), reader.getHeight(0), Files.size(file), file.toString());
                BufferedImage img = reader.read(0);
                if (img == null || img.getWidth() <= 0 || img.getHeight() <= 0) {
                    throw new IOException("image " + file + " is empty");
                }
                return img;
            } catch (IOException | RuntimeException e) {
                String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                throw new IOException("cannot decode " + reader.getFormatName() + " image " + file + ": " + why, e);
            } finally {
                reader.dispose();
            }
        }
    }

    /** An image file as a [1, 3, H, W] tensor at its own size. */
    public static INDArray read(Path file) throws IOException {
        return fromImage(readImage(file));
    }

    /** An image file resized (Pillow bicubic) to size x size, as [1, 3, size, size]. */
    public static INDArray read(Path file, int size) throws IOException {
        return read(file, size, size);
    }

    /** An image file resized (Pillow bicubic) to width x height, as [1, 3, height, width]. */
    public static INDArray read(Path file, int width, int height) throws IOException {
        return fromImage(readImage(file), width, height);
    }

    /** Image files of equal size as [N, 3, H, W]; a file of another size is an error naming both sizes. */
    public static INDArray readBatch(List<Path> files) throws IOException {
        return readBatch(files, -1, -1);
    }

    /** Image files, each resized (Pillow bicubic) to width x height, as [N, 3, height, width]. */
    public static INDArray readBatch(List<Path> files, int width, int height) throws IOException {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no image files given");
        }
        List<Pixels> all = new ArrayList<>(files.size());
        for (Path f : files) {
            Pixels p = Pixels.rgb(readImage(f));
            if (width > 0) {
                p = Resampling.bicubic(p, width, height);
            } else if (!all.isEmpty() && (p.width != all.get(0).width || p.height != all.get(0).height)) {
                throw new IllegalArgumentException("image " + f + " is " + p.width + "x" + p.height + " but "
                        + files.get(0) + " is " + all.get(0).width + "x" + all.get(0).height
                        + "; a batch needs equal sizes (pass a size to resize)");
            }
            all.add(p);
        }
        return toTensor(all);
    }

    /**
     * An image as [1, 3, H, W] in [-1, 1]. RGB as PIL's {@code convert("RGB")}: palette entries looked up, grey
     * replicated, alpha dropped (not composited), embedded colour profiles ignored; 16-bit samples keep their high byte.
     */
    public static INDArray fromImage(BufferedImage image) {
        return toTensor(List.of(Pixels.rgb(image)));
    }

    /** An image resized with Pillow's bicubic filter to width x height, as [1, 3, height, width]. */
    public static INDArray fromImage(BufferedImage image, int width, int height) {
        return toTensor(List.of(Resampling.bicubic(Pixels.rgb(image), width, height)));
    }

    /** An image's RGB pixels resized with Pillow's bicubic filter (see the class comment). */
    public static BufferedImage resize(BufferedImage image, int width, int height) {
        return Resampling.bicubic(Pixels.rgb(image), width, height).toBufferedImage();
    }

    static INDArray toTensor(List<Pixels> images) {
        Pixels first = images.get(0);
        int per = first.data.length;
        float[] data = new float[Math.multiplyExact(per, images.size())];
        for (int n = 0; n < images.size(); n++) {
            int[] px = images.get(n).data;
            for (int i = 0; i < per; i++) {
                data[n * per + i] = px[i] / 127.5f - 1f;
            }
        }
        return Nd4j.create(data, new long[] {images.size(), first.channels, first.height, first.width}, DataType.FLOAT);
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** GLIDE's tensor-to-pixel rule for one value: {@code clamp(round_half_even((x + 1) * 127.5), 0, 255)} in float32. */
    public static int toByte(float x) {
        if (Float.isNaN(x)) {
            throw new IllegalArgumentException("image value is NaN");
        }
        double v = Math.rint((x + 1f) * 127.5f);
        return v <= 0 ? 0 : v >= 255 ? 255 : (int) v;
    }

    /**
     * The upsampler's input quantisation from the notebook: {@code ((x + 1) * 127.5).round() / 127.5 - 1} in float32
     * (round half to even, no clamp). Returns a new float32 array of the same shape.
     */
    public static INDArray quantize(INDArray x) {
        float[] v = floats(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.rint((v[i] + 1f) * 127.5f) / 127.5f - 1f;
        }
        return Nd4j.create(v, x.shape(), DataType.FLOAT);
    }

    /** Image {@code index} of [N, C, H, W] (or the single image [C, H, W]), C = 3 (RGB) or 1 (grey). */
    public static BufferedImage toImage(INDArray images, int index) {
        return pixels(images, index).toBufferedImage();
    }

    /** Every image of [N, C, H, W] (or [C, H, W]), C = 3 or 1. */
    public static List<BufferedImage> toImages(INDArray images) {
        long[] s = nchw(images, "images");
        List<BufferedImage> out = new ArrayList<>((int) s[0]);
        for (int i = 0; i < s[0]; i++) {
            out.add(toImage(images, i));
        }
        return out;
    }

    /**
     * A batch laid out in rows of {@code columns} images (row-major), as [1, C, rows * H, columns * W]; cells past the
     * last image are -1 (black). {@code columns = N} gives the notebook's {@code show_images} strip (images side by
     * side along the width).
     */
    public static INDArray grid(INDArray images, int columns) {
        long[] s = nchw(images, "images");
        int n = (int) s[0];
        int c = (int) s[1];
        int h = (int) s[2];
        int w = (int) s[3];
        if (columns <= 0) {
            throw new IllegalArgumentException("grid columns must be positive, got " + columns);
        }
        int cols = Math.min(columns, n);
        int rows = (n + cols - 1) / cols;
        int gw = cols * w;
        int gh = rows * h;
        float[] src = floats(images);
        float[] out = new float[c * gh * gw];
        Arrays.fill(out, -1f);
        for (int i = 0; i < n; i++) {
            int oy = (i / cols) * h;
            int ox = (i % cols) * w;
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(src, ((i * c + ch) * h + y) * w, out, (ch * gh + oy + y) * gw + ox, w);
                }
            }
        }
        return Nd4j.create(out, new long[] {1, c, gh, gw}, DataType.FLOAT);
    }

    /** The grid of {@link #grid} as a picture. */
    public static BufferedImage gridImage(INDArray images, int columns) {
        return toImage(grid(images, columns), 0);
    }

    /**
     * Writes one image ([1, C, H, W] or [C, H, W], C = 3 or 1) as PNG with text entries (e.g. "prompt", "seed"),
     * atomically. See {@link PngFiles} for the text rules.
     */
    public static void writePng(INDArray image, Path file, Map<String, String> text) throws IOException {
        long[] s = nchw(image, "image");
        if (s[0] != 1) {
            throw new IllegalArgumentException("writePng takes one image, got a batch of " + s[0]
                    + " (shape " + Arrays.toString(image.shape()) + "); use toImage(images, i) or writeGridPng");
        }
        PngFiles.write(toImage(image, 0), file, text);
    }

    /** Writes a batch as one PNG grid ({@link #grid}) with text entries, atomically. */
    public static void writeGridPng(INDArray images, int columns, Path file, Map<String, String> text) throws IOException {
        PngFiles.write(gridImage(images, columns), file, text);
    }

    static Pixels pixels(INDArray images, int index) {
        long[] s = nchw(images, "images");
        int c = (int) s[1];
        if (c != 3 && c != 1) {
            throw new IllegalArgumentException("expected an image tensor with 3 (RGB) or 1 (grey) channels in dimension "
                    + (images.rank() - 3) + ", got shape " + Arrays.toString(images.shape()));
        }
        if (index < 0 || index >= s[0]) {
            throw new IndexOutOfBoundsException("image index " + index + " out of range for a batch of " + s[0]);
        }
        INDArray one = images.rank() == 4 ? images.slice(index) : images;
        float[] v = floats(one);
        int[] px = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (Float.isNaN(v[i])) {
                int hw = (int) (s[2] * s[3]);
                throw new IllegalArgumentException(String.format("image %d holds NaN at [c=%d, y=%d, x=%d]",
                        index, i / hw, (i % hw) / s[3], (i % hw) % s[3]));
            }
            px[i] = toByte(v[i]);
        }
        return new Pixels(c, (int) s[2], (int) s[3], px);
    }

    /**
     * Nearest-neighbour resize of a tensor [N, C, h, w] as torch's {@code F.interpolate(mode="nearest")}: output
     * pixel (y, x) takes source pixel {@code (floor(y * h / height), floor(x * w / width))} (not Pillow's centred
     * rule, see {@link #resize}); GLIDE's inpainting notebook brings its 64x64 mask to 256x256 this way. A mask stays
     * binary. Returns a float32 copy.
     */
    public static INDArray resizeNearest(INDArray x, int height, int width) {
        long[] s = nchw(x, "x");
        if (x.rank() != 4 || height < 1 || width < 1) {
            throw new IllegalArgumentException("resizeNearest needs a [N, C, h, w] tensor and a size >= 1x1, got shape "
                    + Arrays.toString(x.shape()) + " to " + height + "x" + width);
        }
        if (s[2] == height && s[3] == width) {
            return x.castTo(DataType.FLOAT).dup();
        }
        int planes = (int) (s[0] * s[1]);
        int h = (int) s[2];
        int w = (int) s[3];
        float[] in = floats(x);
        float[] out = new float[planes * height * width];
        // float32 scale, as torch computes it
        float sy = (float) h / height;
        float sx = (float) w / width;
        for (int p = 0; p < planes; p++) {
            for (int y = 0; y < height; y++) {
                int iy = Math.min((int) Math.floor(y * sy), h - 1);
                for (int xx = 0; xx < width; xx++) {
                    int ix = Math.min((int) Math.floor(xx * sx), w - 1);
                    out[(p * height + y) * width + xx] = in[(p * h + iy) * w + ix];
                }
            }
        }
        return Nd4j.create(out, new long[] {s[0], s[1], height, width}, 'c');
    }

    /** Shape as [N, C, H, W]; a rank-3 [C, H, W] counts as N = 1. */
    static long[] nchw(INDArray x, String what) {
        if (x == null) {
            throw new NullPointerException(what);
        }
        long[] s = x.shape();
        long[] out = x.rank() == 3 ? new long[] {1, s[0], s[1], s[2]} : x.rank() == 4 ? s : null;
        if (out == null || out[0] == 0 || out[1] == 0 || out[2] == 0 || out[3] == 0) {
            throw new IllegalArgumentException("expected " + what + " as a non-empty [N, C, H, W] or [C, H, W] tensor, got shape "
                    + Arrays.toString(s));
        }
        return out;
    }

    /** Values in C order as float32. */
    static float[] floats(INDArray x) {
        INDArray f = x.dataType() == DataType.FLOAT ? x : x.castTo(DataType.FLOAT);
        return f.dup('c').data().asFloat();
    }
}
