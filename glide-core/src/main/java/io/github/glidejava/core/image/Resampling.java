package io.github.glidejava.core.image;

/**
 * Resizing of 8-bit images with the same arithmetic as Pillow's {@code Image.resize} (Resample.c), so that
 * {@code ImageTensors.read(file, size)} gives the pixels of the GLIDE notebook's
 * {@code Image.open(path).convert("RGB").resize((size, size), resample=Image.BICUBIC)}.
 *
 * <p>Bicubic: Keys' cubic convolution with a = -0.5 and support 2; when shrinking, the kernel is stretched by the
 * scale factor (antialiasing, as in Pillow). Separable: a horizontal pass then a vertical pass, each with
 * coefficients normalised to sum 1, converted to 22-bit fixed point, accumulated in integers and rounded and
 * clamped to 0..255 after each pass. Nearest: source pixel {@code floor((dst + 0.5) * in / out)} per axis
 * (accumulated by repeated addition, as Pillow does).
 */
final class Resampling {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private Resampling() {
    }

    static Pixels bicubic(Pixels in, int outWidth, int outHeight) {
        checkSize(outWidth, outHeight);
        Pixels cur = in;
        if (outWidth != in.width) {
            cur = horizontal(cur, outWidth);
        }
        if (outHeight != in.height) {
            cur = vertical(cur, outHeight);
        }
        return cur == in ? new Pixels(in.channels, in.height, in.width, in.data.clone()) : cur;
    }

    static Pixels nearest(Pixels in, int outWidth, int outHeight) {
        checkSize(outWidth, outHeight);
        int[] xs = nearestIndex(in.width, outWidth);
        int[] ys = nearestIndex(in.height, outHeight);
        Pixels out = new Pixels(in.channels, outHeight, outWidth);
        for (int c = 0; c < in.channels; c++) {
            for (int y = 0; y < outHeight; y++) {
                int src = (c * in.height + ys[y]) * in.width;
                int dst = (c * outHeight + y) * outWidth;
                for (int x = 0; x < outWidth; x++) {
                    out.data[dst + x] = in.data[src + xs[x]];
                }
            }
        }
        return out;
    }

    private static void checkSize(int w, int h) {
        if (w <= 0 || h <= 0) {
            throw new IllegalArgumentException("resize target must be positive, got " + w + "x" + h);
        }
    }

    private static int[] nearestIndex(int inSize, int outSize) {
        // Pillow (ImagingScaleAffine) steps the source position by repeated addition; so does this.
        double scale = (double) inSize / outSize;
        double pos = scale * 0.5;
        int[] idx = new int[outSize];
        for (int i = 0; i < outSize; i++) {
            idx[i] = Math.min(inSize - 1, (int) pos);
            pos += scale;
        }
        return idx;
    }

    /** Fixed-point coefficients for one axis: for output i, taps start at bounds[2i], count bounds[2i+1]. */
    private static final class Coefficients {
        final int ksize;
        final int[] bounds;
        final int[] k;

        Coefficients(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = 2.0 * filterScale;
            ksize = (int) Math.ceil(support) * 2 + 1;
            bounds = new int[outSize * 2];
            k = new int[outSize * ksize];
            double[] w = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = Math.max(0, (int) (center - support + 0.5));
                int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
                double ww = 0.0;
                for (int x = 0; x < xmax; x++) {
                    w[x] = cubic((x + xmin - center + 0.5) * ss);
                    ww += w[x];
                }
                for (int x = 0; x < xmax; x++) {
                    double v = ww != 0.0 ? w[x] / ww : w[x];
                    k[xx * ksize + x] = (int) (v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
                }
                bounds[2 * xx] = xmin;
                bounds[2 * xx + 1] = xmax;
            }
        }
    }

    private static double cubic(double x) {
        final double a = -0.5;
        x = Math.abs(x);
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    private static int clip8(long acc) {
        long v = acc >> PRECISION_BITS;
        return v < 0 ? 0 : v > 255 ? 255 : (int) v;
    }

    private static Pixels horizontal(Pixels in, int outWidth) {
        Coefficients co = new Coefficients(in.width, outWidth);
        Pixels out = new Pixels(in.channels, in.height, outWidth);
        for (int c = 0; c < in.channels; c++) {
            for (int y = 0; y < in.height; y++) {
                int row = (c * in.height + y) * in.width;
                int dst = (c * in.height + y) * outWidth;
                for (int xx = 0; xx < outWidth; xx++) {
                    int xmin = co.bounds[2 * xx];
                    int n = co.bounds[2 * xx + 1];
                    int kOff = xx * co.ksize;
                    long acc = 1L << (PRECISION_BITS - 1);
                    for (int x = 0; x < n; x++) {
                        acc += (long) in.data[row + xmin + x] * co.k[kOff + x];
                    }
                    out.data[dst + xx] = clip8(acc);
                }
            }
        }
        return out;
    }

    private static Pixels vertical(Pixels in, int outHeight) {
        Coefficients co = new Coefficients(in.height, outHeight);
        Pixels out = new Pixels(in.channels, outHeight, in.width);
        for (int c = 0; c < in.channels; c++) {
            int plane = c * in.height * in.width;
            for (int yy = 0; yy < outHeight; yy++) {
                int ymin = co.bounds[2 * yy];
                int n = co.bounds[2 * yy + 1];
                int kOff = yy * co.ksize;
                int dst = (c * outHeight + yy) * in.width;
                for (int x = 0; x < in.width; x++) {
                    long acc = 1L << (PRECISION_BITS - 1);
                    for (int y = 0; y < n; y++) {
                        acc += (long) in.data[plane + (ymin + y) * in.width + x] * co.k[kOff + y];
                    }
                    out.data[dst + x] = clip8(acc);
                }
            }
        }
        return out;
    }
}
