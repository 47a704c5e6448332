package io.github.glidejava.diffusion.resample;

/**
 * numpy's float64 summation ({@code pairwise_sum} of {@code np.add.reduce} over a contiguous axis), so that weights
 * computed from the same losses are the reference's to the bit: below 8 elements a plain loop, up to 128 eight
 * interleaved partial sums combined pairwise, above that recursive halving.
 */
final class NumpySums {
    private static final int BLOCK = 128;

    private NumpySums() {
    }

    static double sum(double[] a) {
        return sum(a, 0, a.length);
    }

    static double sum(double[] a, int off, int n) {
        if (n < 8) {
            double res = 0.0;
            for (int i = 0; i < n; i++) {
                res += a[off + i];
            }
            return res;
        }
        if (n <= BLOCK) {
            double[] r = new double[8];
            System.arraycopy(a, off, r, 0, 8);
            int i;
            for (i = 8; i < n - (n % 8); i += 8) {
                for (int j = 0; j < 8; j++) {
                    r[j] += a[off + i + j];
                }
            }
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) {
                res += a[off + i];
            }
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return sum(a, off, n2) + sum(a, off + n2, n - n2);
    }
}
