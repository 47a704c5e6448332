package io.github.glidejava.core.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.color.ColorSpace;

/**
 * 8-bit samples of an image, planar: {@code data[(c * height + y) * width + x]}, each 0..255. The channel layout is
 * the caller's (RGB for pictures, one channel for masks).
 */
final class Pixels {
    final int channels;
    final int height;
    final int width;
    final int[] data;

    Pixels(int channels, int height, int width) {
        this(channels, height, width, new int[Math.multiplyExact(Math.multiplyExact(channels, height), width)]);
    }

    Pixels(int channels, int height, int width, int[] data) {
        if (data.length != channels * height * width) {
            throw new IllegalArgumentException("pixel data of length " + data.length + " does not fit "
                    + channels + "x" + height + "x" + width);
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.data = data;
    }

    int get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }

    /** One channel as a new single-channel image. */
    Pixels channel(int c) {
        int plane = height * width;
        int[] out = new int[plane];
        System.arraycopy(data, c * plane, out, 0, plane);
        return new Pixels(1, height, width, out);
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /**
     * RGB samples as PIL's {@code Image.convert("RGB")} gives them: palette entries looked up, grey replicated to
     * three channels, alpha dropped (not composited), no colour management (embedded ICC profiles and the gamma of
     * Java's linear grey colour space are ignored, as in PIL). Samples wider than 8 bits keep their high byte; 1, 2
     * and 4-bit samples are scaled to 0..255.
     */
    static Pixels rgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        Pixels out = new Pixels(3, h, w);
        int plane = w * h;
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        if (cm instanceof IndexColorModel icm) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int idx = r.getSample(x, y, 0);
                    int o = y * w + x;
                    out.data[o] = icm.getRed(idx);
                    out.data[plane + o] = icm.getGreen(idx);
                    out.data[2 * plane + o] = icm.getBlue(idx);
                }
            }
            return out;
        }
        int type = cm.getColorSpace().getType();
        int colors = cm.getNumColorComponents();
        if (type == ColorSpace.TYPE_GRAY && colors == 1) {
            int bits = cm.getComponentSize(0);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = to8(r.getSample(x, y, 0), bits);
                    int o = y * w + x;
                    out.data[o] = v;
                    out.data[plane + o] = v;
                    out.data[2 * plane + o] = v;
                }
            }
            return out;
        }
        if (type == ColorSpace.TYPE_RGB && colors == 3) {
            for (int c = 0; c < 3; c++) {
                int bits = cm.getComponentSize(c);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out.data[c * plane + y * w + x] = to8(r.getSample(x, y, c), bits);
                    }
                }
            }
            return out;
        }
        // Other colour spaces (e.g. CMYK): let Java convert to sRGB.
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = img.getRGB(x, y);
                int o = y * w + x;
                out.data[o] = (argb >> 16) & 0xFF;
                out.data[plane + o] = (argb >> 8) & 0xFF;
                out.data[2 * plane + o] = argb & 0xFF;
            }
        }
        return out;
    }

    /** Luma as PIL's {@code convert("L")}: grey images as stored, colour ones by ITU-R 601-2 in 16-bit fixed point. */
    static Pixels luma(BufferedImage img) {
        ColorModel cm = img.getColorModel();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && cm.getNumColorComponents() == 1) {
            return rgb(img).channel(0);
        }
        Pixels rgb = rgb(img);
        int plane = rgb.width * rgb.height;
        int[] out = new int[plane];
        for (int i = 0; i < plane; i++) {
            out[i] = (rgb.data[i] * 19595 + rgb.data[plane + i] * 38470 + rgb.data[2 * plane + i] * 7471 + 0x8000) >> 16;
        }
        return new Pixels(1, rgb.height, rgb.width, out);
    }

    /** The alpha channel (0 = transparent, 255 = opaque), or null when the image has none. */
    static Pixels alpha(BufferedImage img) {
        ColorModel cm = img.getColorModel();
        if (!cm.hasAlpha()) {
            return null;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        Pixels out = new Pixels(1, h, w);
        Raster r = img.getRaster();
        if (cm instanceof IndexColorModel icm) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    out.data[y * w + x] = icm.getAlpha(r.getSample(x, y, 0));
                }
            }
            return out;
        }
        int band = cm.getNumComponents() - 1; // alpha is the last component
        int bits = cm.getComponentSize(band);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                out.data[y * w + x] = to8(r.getSample(x, y, band), bits);
            }
        }
        return out;
    }

    /**
     * Composites {@code rgb} with per-pixel {@code alpha} over an opaque background colour {@code 0xRRGGBB}, in
     * place, with the integer arithmetic of Pillow's {@code Image.alpha_composite} (7 extra bits of precision,
     * rounded divisions by 255), so that the result equals
     * {@code alpha_composite(Image.new("RGBA", size, bg), img).convert("RGB")}.
     */
    static void compositeOver(Pixels rgb, Pixels alpha, int backgroundRgb) {
        final int precisionBits = 7;
        int plane = rgb.width * rgb.height;
        int[] bg = {(backgroundRgb >> 16) & 0xFF, (backgroundRgb >> 8) & 0xFF, backgroundRgb & 0xFF};
        for (int i = 0; i < plane; i++) {
            int a = alpha.data[i];
            if (a == 0) {
                for (int c = 0; c < 3; c++) {
                    rgb.data[c * plane + i] = bg[c];
                }
                continue;
            }
            // The background is opaque: its weight is 255 * (255 - a), so outA * 255 = a * 255 + 255 * (255 - a).
            long outa255 = a * 255L + 255L * (255 - a);
            long coef1 = a * 255L * 255L * (1L << precisionBits) / outa255;
            long coef2 = 255L * (1L << precisionBits) - coef1;
            for (int c = 0; c < 3; c++) {
                long tmp = rgb.data[c * plane + i] * coef1 + bg[c] * coef2 + (0x80L << precisionBits);
                rgb.data[c * plane + i] = (int) ((((tmp >> 8) + tmp) >> 8) >> precisionBits);
            }
        }
    }

    private static int to8(int v, int bits) {
        if (bits == 8) {
            return v;
        }
        if (bits > 8) {
            return v >>> (bits - 8);
        }
        return v * 255 / ((1 << bits) - 1);
    }

    // ------------------------------------------------------------------------------------------------ encoding

    /** An sRGB (3 channels) or grey (1 channel) image holding exactly these samples. */
    BufferedImage toBufferedImage() {
        BufferedImage img;
        int plane = width * height;
        if (channels == 3) {
            img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            int[] argb = new int[plane];
            for (int i = 0; i < plane; i++) {
                argb[i] = 0xFF000000 | data[i] << 16 | data[plane + i] << 8 | data[2 * plane + i];
            }
            img.setRGB(0, 0, width, height, argb, 0, width);
        } else if (channels == 1) {
            img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
            // Raster samples, not setRGB: Java's grey colour space is linear and setRGB would apply a gamma curve.
            img.getRaster().setSamples(0, 0, width, height, 0, data);
        } else {
            throw new IllegalArgumentException("cannot make a picture of " + channels + " channels; expected 1 (grey) or 3 (RGB)");
        }
        return img;
    }
}
