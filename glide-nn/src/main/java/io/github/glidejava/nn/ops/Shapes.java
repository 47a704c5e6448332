package io.github.glidejava.nn.ops;

import java.util.Arrays;

/** Shape arithmetic shared by the back-ends (the SameDiff back-end tracks every shape itself). */
public final class Shapes {
    private Shapes() {
    }

    /**
     * True when an array of {@code shape} with {@code stride} holds its elements in C order without gaps (the stride
     * of a size-1 axis does not matter). ND4J's {@code Shape.hasDefaultStridesForShape} says no for C-order arrays
     * whose shape ends in 1, and its {@code reshape} then copies them.
     */
    public static boolean cContiguous(long[] shape, long[] stride) {
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expect) {
                return false;
            }
            expect *= shape[i];
        }
        return true;
    }

    public static long length(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Replaces a single -1 in {@code target} so that it holds as many elements as {@code source}. */
    public static long[] resolveReshape(long[] source, long[] target) {
        long n = length(source);
        long known = 1;
        int unknown = -1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (unknown >= 0) {
                    throw new IllegalArgumentException("reshape " + Arrays.toString(source) + " -> "
                            + Arrays.toString(target) + ": more than one -1");
                }
                unknown = i;
            } else if (target[i] < 0) {
                throw new IllegalArgumentException("reshape to negative size " + Arrays.toString(target));
            } else {
                known *= target[i];
            }
        }
        long[] out = target.clone();
        if (unknown >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + Arrays.toString(source) + " to "
                        + Arrays.toString(target));
            }
            out[unknown] = n / known;
        } else if (known != n) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(source) + " ("
                    + n + " elements) to " + Arrays.toString(target) + " (" + known + " elements)");
        }
        return out;
    }

    /** NumPy broadcasting of two shapes. */
    public static long[] broadcast(long[] a, long[] b) {
        int r = Math.max(a.length, b.length);
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i < r - a.length ? 1 : a[i - (r - a.length)];
            long db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " cannot be broadcast together");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    public static long[] permute(long[] s, int[] axes) {
        if (axes.length != s.length) {
            throw new IllegalArgumentException("permute " + Arrays.toString(axes) + " of a rank-" + s.length + " tensor");
        }
        long[] out = new long[s.length];
        boolean[] seen = new boolean[s.length];
        for (int i = 0; i < axes.length; i++) {
            if (axes[i] < 0 || axes[i] >= s.length || seen[axes[i]]) {
                throw new IllegalArgumentException("invalid permutation " + Arrays.toString(axes));
            }
            seen[axes[i]] = true;
            out[i] = s[axes[i]];
        }
        return out;
    }

    public static long[] concat(int axis, long[][] shapes) {
        long[] out = shapes[0].clone();
        for (int k = 1; k < shapes.length; k++) {
            long[] s = shapes[k];
            if (s.length != out.length) {
                throw new IllegalArgumentException("concat of ranks " + out.length + " and " + s.length);
            }
            for (int i = 0; i < s.length; i++) {
                if (i != axis && s[i] != out[i]) {
                    throw new IllegalArgumentException("concat along axis " + axis + " of shapes "
                            + Arrays.toString(shapes[0]) + " and " + Arrays.toString(s));
                }
            }
            out[axis] += s[axis];
        }
        return out;
    }

    /** Output shape of a (possibly batched) matrix product. */
    public static long[] matmul(long[] a, long[] b, boolean ta, boolean tb) {
        if (a.length != b.length || a.length < 2 || a.length > 3) {
            throw new IllegalArgumentException("matmul needs two rank-2 or two rank-3 operands, got "
                    + Arrays.toString(a) + " and " + Arrays.toString(b));
        }
        int r = a.length;
        long m = ta ? a[r - 1] : a[r - 2];
        long ka = ta ? a[r - 2] : a[r - 1];
        long kb = tb ? b[r - 1] : b[r - 2];
        long n = tb ? b[r - 2] : b[r - 1];
        if (ka != kb || (r == 3 && a[0] != b[0])) {
            throw new IllegalArgumentException("matmul shapes do not agree: " + Arrays.toString(a)
                    + (ta ? "^T" : "") + " x " + Arrays.toString(b) + (tb ? "^T" : ""));
        }
        return r == 2 ? new long[] {m, n} : new long[] {a[0], m, n};
    }

    public static long[] conv2d(long[] x, long[] w, int stride, int padding) {
        if (x.length != 4 || w.length != 4) {
            throw new IllegalArgumentException("conv2d needs an NCHW input and a [kH, kW, in, out] weight, got "
                    + Arrays.toString(x) + " and " + Arrays.toString(w));
        }
        if (x[1] != w[2]) {
            throw new IllegalArgumentException("conv2d input has " + x[1] + " channels but the weight "
                    + Arrays.toString(w) + " expects " + w[2]);
        }
        long h = (x[2] + 2L * padding - w[0]) / stride + 1;
        long wd = (x[3] + 2L * padding - w[1]) / stride + 1;
        return new long[] {x[0], w[3], h, wd};
    }

    public static long[] reduce(long[] s, boolean keepDims, int[] axes) {
        boolean[] r = new boolean[s.length];
        for (int a : axes) {
            int ax = a < 0 ? a + s.length : a;
            if (ax < 0 || ax >= s.length) {
                throw new IllegalArgumentException("axis " + a + " out of range for shape " + Arrays.toString(s));
            }
            r[ax] = true;
        }
        long[] out = new long[keepDims ? s.length : s.length - countTrue(r)];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (r[i]) {
                if (keepDims) {
                    out[j++] = 1;
                }
            } else {
                out[j++] = s[i];
            }
        }
        return out;
    }

    private static int countTrue(boolean[] b) {
        int n = 0;
        for (boolean v : b) {
            if (v) {
                n++;
            }
        }
        return n;
    }
}
