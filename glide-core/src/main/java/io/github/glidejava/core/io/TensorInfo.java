package io.github.glidejava.core.io;

import java.util.Arrays;
import java.util.Objects;

/** Element type and shape of one stored tensor. Immutable. */
public final class TensorInfo {
    private final DType dtype;
    private final long[] shape;
    private final long numel;

    public TensorInfo(DType dtype, long[] shape) {
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        long n = 1;
        for (long d : this.shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        this.numel = n;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape (empty for a scalar). */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements (1 for a scalar, 0 when a dimension is 0). */
    public long numel() {
        return numel;
    }

    /** Bytes of data: numel * element size. */
    public long byteSize() {
        return Math.multiplyExact(numel, dtype.byteSize());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return 31 * dtype.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
