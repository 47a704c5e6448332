package io.github.glidejava.core.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

/**
 * Inpainting masks from images, in GLIDE's convention: a float32 tensor [N, 1, H, W] where <b>1 = keep</b> the
 * source pixel and <b>0 = generate</b> it (the notebook's {@code source_mask_64}; the model sees
 * {@code image * mask} and {@code mask}, and sampling re-imposes the source where the mask is 1).
 *
 * <p>The {@link Source} says which image values mean "keep": white (GLIDE's own mask pictures), black (the diffusers
 * and Stable Diffusion convention, white = repaint), or opaque alpha (the DALL-E edit convention, transparent =
 * repaint). A pixel is "bright" when its 8-bit luma (PIL {@code convert("L")}: 0.299 R + 0.587 G + 0.114 B) or
 * alpha is {@code >= threshold}. Resizing uses nearest neighbour (Pillow's rule), so a mask stays binary.
 */
public final class InpaintMasks {
    static {
        GlideBackend.init();
    }

    /** Threshold that splits 0..255 in half: values 128..255 are bright. */
    public static final int DEFAULT_THRESHOLD = 128;

    /** Which image values mean "keep the source pixel". */
    public enum Source {
        /** Luma >= threshold keeps; dark pixels are generated. */
        LUMA_WHITE_KEEPS,
        /** Luma < threshold keeps; bright pixels are generated (diffusers' convention). */
        LUMA_BLACK_KEEPS,
        /** Alpha >= threshold (opaque) keeps; transparent pixels are generated. */
        ALPHA_OPAQUE_KEEPS
    }

    private InpaintMasks() {
    }

    /** A mask file at its own size with {@link #DEFAULT_THRESHOLD}, as [1, 1, H, W]. */
    public static INDArray read(Path file, Source source) throws IOException {
        return read(file, -1, -1, source, DEFAULT_THRESHOLD);
    }

    /** A mask file resized (nearest) to width x height, as [1, 1, height, width]; width = -1 keeps the size. */
    public static INDArray read(Path file, int width, int height, Source source, int threshold) throws IOException {
        BufferedImage img = ImageTensors.readImage(file);
        try {
            return fromImages(List.of(img), width, height, source, threshold);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mask image " + file + ": " + e.getMessage(), e);
        }
    }

    /** A mask from an image at its own size, as [1, 1, H, W]. */
    public static INDArray fromImage(BufferedImage image, Source source, int threshold) {
        return fromImages(List.of(image), -1, -1, source, threshold);
    }

    /**
     * Masks from images, each resized (nearest) to width x height (width = -1: all must share one size), as
     * [N, 1, height, width].
     */
    public static INDArray fromImages(List<BufferedImage> images, int width, int height, Source source, int threshold) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no mask images given");
        }
        if (threshold < 1 || threshold > 255) {
            throw new IllegalArgumentException("mask threshold must be in 1..255 (values >= threshold are bright), got " + threshold);
        }
        if (width == 0 || width < -1 || height == 0 || height < -1 || (width < 0) != (height < 0)) {
            throw new IllegalArgumentException("mask size must be positive (or -1, -1 to keep it), got " + width + "x" + height);
        }
        List<Pixels> planes = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            BufferedImage img = images.get(i);
            Pixels p = source == Source.ALPHA_OPAQUE_KEEPS ? Pixels.alpha(img) : Pixels.luma(img);
            if (p == null) {
                throw new IllegalArgumentException("mask image " + i + " has no alpha channel (source " + source
                        + "); use LUMA_WHITE_KEEPS or LUMA_BLACK_KEEPS for opaque images");
            }
            if (width > 0) {
                p = Resampling.nearest(p, width, height);
            } else if (!planes.isEmpty() && (p.width != planes.get(0).width || p.height != planes.get(0).height)) {
                throw new IllegalArgumentException("mask image " + i + " is " + p.width + "x" + p.height + " but mask image 0 is "
                        + planes.get(0).width + "x" + planes.get(0).height + "; pass a size to resize");
            }
            planes.add(p);
        }
        Pixels first = planes.get(0);
        int per = first.data.length;
        float[] out = new float[per * planes.size()];
        boolean brightKeeps = source != Source.LUMA_BLACK_KEEPS;
        for (int n = 0; n < planes.size(); n++) {
            int[] v = planes.get(n).data;
            for (int i = 0; i < per; i++) {
                out[n * per + i] = (v[i] >= threshold) == brightKeeps ? 1f : 0f;
            }
        }
        return Nd4j.create(out, new long[] {planes.size(), 1, first.height, first.width}, DataType.FLOAT);
    }

    /** Mask {@code index} of [N, 1, H, W] (or [1, H, W]) as a grey picture: 1 (keep) white, 0 black. */
    public static BufferedImage toImage(INDArray masks, int index) {
        long[] s = ImageTensors.nchw(masks, "masks");
        if (s[1] != 1) {
            throw new IllegalArgumentException("expected masks as [N, 1, H, W], got shape " + Arrays.toString(masks.shape()));
        }
        if (index < 0 || index >= s[0]) {
            throw new IndexOutOfBoundsException("mask index " + index + " out of range for a batch of " + s[0]);
        }
        float[] v = ImageTensors.floats(masks.rank() == 4 ? masks.slice(index) : masks);
        int[] px = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            float m = Float.isNaN(v[i]) ? 0f : Math.max(0f, Math.min(1f, v[i]));
            px[i] = Math.round(m * 255f);
        }
        return new Pixels(1, (int) s[2], (int) s[3], px).toBufferedImage();
    }
}
