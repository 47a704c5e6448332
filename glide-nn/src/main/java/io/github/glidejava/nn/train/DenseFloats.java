package io.github.glidejava.nn.train;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Direct float views of dense arrays and a chunked parallel loop for the element-wise updates. */
final class DenseFloats {
    /** Arrays below this size are updated on the calling thread. */
    private static final int CHUNK = 1 << 16;

    private DenseFloats() {
    }

    /**
     * The array's float32 elements as a buffer over its native memory (writes go to the array), positioned at its
     * first element.
     *
     * @throws IllegalArgumentException unless the array is float32, C order with default strides
     */
    static FloatBuffer of(INDArray a, String what) {
        if (a.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException(what + " must be float32, got " + a.dataType());
        }
        if (!dense(a) || a.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " must be a dense C-order array (no view), got shape "
                    + Arrays.toString(a.shape()) + " strides " + Arrays.toString(a.stride()) + " order "
                    + a.ordering());
        }
        FloatBuffer all = a.data().asNioFloat();
        int off = Math.toIntExact(a.offset());
        return all.position(off).slice().limit((int) a.length());
    }

    /** C-order contiguous: every dimension longer than 1 has the stride of the dimensions after it. */
    private static boolean dense(INDArray a) {
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] > 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    static void requireSameShape(INDArray a, INDArray like, String what) {
        if (!Arrays.equals(a.shape(), like.shape())) {
            throw new IllegalArgumentException(what + " has shape " + Arrays.toString(a.shape()) + ", expected "
                    + Arrays.toString(like.shape()));
        }
    }

    /** Runs {@code body} on {@code [from, to)} ranges covering {@code [0, n)}, in parallel for large n. */
    static void forRanges(int n, RangeBody body) {
        if (n <= CHUNK) {
            body.run(0, n);
            return;
        }
        int chunks = (n + CHUNK - 1) / CHUNK;
        IntStream.range(0, chunks).parallel().forEach((IntConsumer) c -> body.run(c * CHUNK,
                Math.min(n, (c + 1) * CHUNK)));
    }

    @FunctionalInterface
    interface RangeBody {
        void run(int from, int to);
    }
}
