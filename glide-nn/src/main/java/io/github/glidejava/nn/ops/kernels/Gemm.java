package io.github.glidejava.nn.ops.kernels;

import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Row-major single-precision GEMM straight on INDArray buffers through oneDNN's {@code dnnl_sgemm} (JIT kernels for
 * the CPU at hand, AVX-512 where available), bypassing ND4J's matmul op: {@code C = alpha op(A) op(B) + beta C}.
 * Offsets and leading dimensions are in elements, counted from each array's first element.
 */
public final class Gemm {
    static {
        Loader.load(dnnl.class);
    }

    private Gemm() {
    }

    public static void sgemm(boolean transA, boolean transB, long m, long n, long k, float alpha,
            INDArray a, long aOffset, long lda, INDArray b, long bOffset, long ldb, float beta,
            INDArray c, long cOffset, long ldc) {
        int status = dnnl.dnnl_sgemm((byte) (transA ? 'T' : 'N'), (byte) (transB ? 'T' : 'N'), m, n, k, alpha,
                pointer(a, aOffset), lda, pointer(b, bOffset), ldb, beta, pointer(c, cOffset), ldc);
        if (status != dnnl.dnnl_success) {
            throw new IllegalStateException("dnnl_sgemm failed with status " + status + " (m=" + m + " n=" + n
                    + " k=" + k + ")");
        }
    }

    /**
     * The address of float element {@code offset} (counted from x's first element) for a {@code void*} parameter:
     * JavaCPP adds a plain pointer's position in bytes there, so a FloatPointer's position would be 4x too small.
     */
    public static org.bytedeco.javacpp.BytePointer address(INDArray x, long offset) {
        if (x.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("expected a float32 array, got " + x.dataType());
        }
        return new org.bytedeco.javacpp.BytePointer(x.data().addressPointer()).position(4 * offset);
    }

    /**
     * A pointer to element {@code offset} counted from x's first element. (A view's data buffer already starts at
     * the view's offset: {@code x.data().addressPointer()} is the address of x's first element.)
     */
    public static FloatPointer pointer(INDArray x, long offset) {
        if (x.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("sgemm needs float32 arrays, got " + x.dataType());
        }
        FloatPointer p = new FloatPointer(x.data().addressPointer());
        return p.position(offset);
    }
}
