package io.github.glidejava.diffusion;

import java.util.Arrays;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Small INDArray helpers shared by the diffusion code (per-row coefficients, channel and row slices). */
public final class BatchOps {
    private BatchOps() {
    }

    /** A float32 {@code [N, 1, ..., 1]} array of the given rank holding one value per batch row. */
    public static INDArray column(float[] perRow, int rank) {
        long[] shape = new long[rank];
        Arrays.fill(shape, 1);
        shape[0] = perRow.length;
        return Nd4j.create(perRow, shape, 'c');
    }

    /**
     * {@code arr[t[i]]} rounded to float32 per row, as {@code [N, 1, ..., 1]}: glide's {@code _extract_into_tensor},
     * which casts the float64 coefficient to float32 before any arithmetic.
     */
    public static INDArray column(double[] arr, int[] t, int rank) {
        float[] v = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            v[i] = (float) arr[t[i]];
        }
        return column(v, rank);
    }

    /** The same value for every row, {@code [n, 1, ..., 1]}. */
    public static INDArray column(float value, int n, int rank) {
        float[] v = new float[n];
        Arrays.fill(v, value);
        return column(v, rank);
    }

    /** Channels {@code [from, to)} along dimension 1, as a new dense array. */
    public static INDArray channels(INDArray a, long from, long to) {
        return slice(a, 1, from, to);
    }

    /** Rows {@code [from, to)} along dimension 0, as a new dense array. */
    public static INDArray rows(INDArray a, long from, long to) {
        return slice(a, 0, from, to);
    }

    /**
     * A dense copy of {@code [from, to)} along one dimension. ND4J 1.0.0-M2.1 returns a wrong (rank-0) result when
     * an interval is taken from an array that is itself a view, so views are made dense first and the result shape
     * is checked.
     */
    private static INDArray slice(INDArray a, int dim, long from, long to) {
        if (from < 0 || to > a.size(dim) || from > to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") out of range for dimension " + dim
                    + " of shape " + Arrays.toString(a.shape()));
        }
        INDArray base = a.isView() ? a.dup() : a;
        INDArrayIndex[] idx = new INDArrayIndex[base.rank()];
        Arrays.fill(idx, NDArrayIndex.all());
        idx[dim] = NDArrayIndex.interval(from, to);
        INDArray out = base.get(idx).dup();
        long[] expected = base.shape().clone();
        expected[dim] = to - from;
        if (!Arrays.equals(out.shape(), expected)) {
            throw new IllegalStateException("ND4J slice returned shape " + Arrays.toString(out.shape()) + ", expected "
                    + Arrays.toString(expected));
        }
        return out;
    }

    /** int64 {@code [n]} filled with {@code value}. */
    public static INDArray longs(long value, int n) {
        long[] v = new long[n];
        Arrays.fill(v, value);
        return Nd4j.createFromArray(v);
    }

    /** Elementwise clamp to [lo, hi] into a new array. */
    public static INDArray clamp(INDArray a, double lo, double hi) {
        return org.nd4j.linalg.ops.transforms.Transforms.max(
                org.nd4j.linalg.ops.transforms.Transforms.min(a, hi, true), lo, false);
    }

    /** Requires a float32 array of rank >= 2. */
    public static void requireFloatBatch(INDArray a, String what) {
        if (a == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (a.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException(what + " must be float32, got " + a.dataType() + " "
                    + Arrays.toString(a.shape()));
        }
        if (a.rank() < 2) {
            throw new IllegalArgumentException(what + " must be [N, C, ...], got shape " + Arrays.toString(a.shape()));
        }
    }
}
