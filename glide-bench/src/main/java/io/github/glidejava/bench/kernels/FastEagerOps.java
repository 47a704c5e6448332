package io.github.glidejava.bench.kernels;

import java.util.List;
import java.util.function.Supplier;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.Shapes;
import io.github.glidejava.nn.ops.TensorOps;

/**
 * The eager back-end with GLIDE's matrix products sent straight to oneDNN's sgemm ({@link Gemm}) instead of ND4J's
 * matmul / conv2d ops: batched matmuls (the attention products, where ND4J's batched matmul reaches only 5-30
 * GFLOP/s) as one sgemm per batch entry on strided views without copies, 1x1 convolutions (attention qkv /
 * encoder_kv / proj_out, ResBlock skips) as one sgemm per sample, and linear layers as one sgemm. Everything else,
 * 3x3 convolutions included (oneDNN through ND4J already runs them at 130-180 GFLOP/s), is the wrapped
 * {@link EagerOps}. Results are the same products up to float32 summation order.
 */
public final class FastEagerOps implements TensorOps<INDArray> {
    private final EagerOps ops;

    public FastEagerOps(EagerOps ops) {
        this.ops = ops;
    }

    public EagerOps eager() {
        return ops;
    }

    // ---- the replaced kernels ---------------------------------------------------------------------------------

    /** A matrix operand: buffer offsets per batch entry, its leading dimension and whether it is stored transposed. */
    private record Operand(INDArray base, long offset, long batchStride, long ld, boolean transposed) {
    }

    /**
     * Describes the last two axes of {@code x} (rank 2 or 3) as a row-major matrix, or as a row-major matrix of the
     * transpose when the view is column-major (e.g. a permuted view); null when neither (then the caller copies).
     */
    private static Operand operand(INDArray x) {
        int r = x.rank();
        long[] st = x.stride();
        long rows = x.size(r - 2), cols = x.size(r - 1);
        long batchStride = r == 3 ? st[0] : 0;
        if (st[r - 1] == 1 && (st[r - 2] >= cols || rows == 1)) {
            return new Operand(x, 0, batchStride, Math.max(st[r - 2], cols), false);
        }
        if (st[r - 2] == 1 && (st[r - 1] >= rows || cols == 1)) {
            return new Operand(x, 0, batchStride, Math.max(st[r - 1], rows), true);
        }
        return null;
    }

    @Override
    public INDArray matmul(INDArray a, INDArray b, boolean transposeA, boolean transposeB) {
        long[] out = Shapes.matmul(a.shape(), b.shape(), transposeA, transposeB);
        int rank = a.rank();
        if (a.dataType() != DataType.FLOAT || b.dataType() != DataType.FLOAT || rank != b.rank()
                || (rank != 2 && rank != 3) || (rank == 3 && a.size(0) != b.size(0))) {
            return ops.matmul(a, b, transposeA, transposeB);
        }
        Operand oa = operand(a);
        if (oa == null) {
            a = a.dup('c');
            oa = operand(a);
        }
        Operand ob = operand(b);
        if (ob == null) {
            b = b.dup('c');
            ob = operand(b);
        }
        long m = out[rank - 2], n = out[rank - 1];
        long k = transposeA ? a.size(rank - 2) : a.size(rank - 1);
        INDArray c = Nd4j.createUninitialized(DataType.FLOAT, out);
        long batch = rank == 3 ? out[0] : 1;
        boolean ta = transposeA ^ oa.transposed(), tb = transposeB ^ ob.transposed();
        for (long i = 0; i < batch; i++) {
            Gemm.sgemm(ta, tb, m, n, k, 1f, a, i * oa.batchStride(), oa.ld(), b, i * ob.batchStride(), ob.ld(), 0f,
                    c, i * m * n, n);
        }
        return c;
    }

    @Override
    public INDArray conv2d(INDArray x, INDArray weight, INDArray bias, int stride, int padding) {
        long[] w = weight.shape();
        if (w[0] != 1 || w[1] != 1 || stride != 1 || padding != 0 || x.dataType() != DataType.FLOAT) {
            return ops.conv2d(x, weight, bias, stride, padding);
        }
        long[] out = Shapes.conv2d(x.shape(), w, stride, padding);
        x = contiguous(x);
        weight = contiguous(weight);
        long n = out[0], cin = w[2], cout = w[3], hw = out[2] * out[3];
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, out);
        // y[i] [cout, hw] = W^T [cout, cin] . x[i] [cin, hw]; W is stored [1, 1, cin, cout]
        for (long i = 0; i < n; i++) {
            Gemm.sgemm(true, false, cout, hw, cin, 1f, weight, 0, cout, x, i * cin * hw, hw, 0f, y, i * cout * hw, hw);
        }
        if (bias != null) {
            Nd4j.exec(new AddOp(y, bias.reshape(1, cout, 1, 1), y));
        }
        return y;
    }

    @Override
    public INDArray linear(INDArray x, INDArray weight, INDArray bias) {
        long[] s = x.shape();
        long in = s[s.length - 1];
        long outF = weight.size(0);
        if (x.dataType() != DataType.FLOAT || weight.dataType() != DataType.FLOAT || weight.size(1) != in) {
            return ops.linear(x, weight, bias);
        }
        INDArray x2 = contiguous(x).reshape('c', Shapes.length(s) / in, in);
        weight = contiguous(weight);
        long rows = x2.size(0);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, rows, outF);
        Gemm.sgemm(false, true, rows, outF, in, 1f, x2, 0, in, weight, 0, in, 0f, y, 0, outF);
        if (bias != null) {
            Nd4j.exec(new AddOp(y, bias.reshape(1, outF), y));
        }
        long[] os = s.clone();
        os[os.length - 1] = outF;
        return s.length == 2 ? y : y.reshape('c', os);
    }

    private static INDArray contiguous(INDArray x) {
        return x.ordering() == 'c' && org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(x) ? x : x.dup('c');
    }

    // ---- everything else: the eager back-end ------------------------------------------------------------------

    @Override
    public INDArray param(String key) {
        return ops.param(key);
    }

    @Override
    public INDArray constant(INDArray value) {
        return ops.constant(value);
    }

    @Override
    public long[] shape(INDArray x) {
        return ops.shape(x);
    }

    @Override
    public INDArray toFloat(INDArray x) {
        return ops.toFloat(x);
    }

    @Override
    public INDArray block(String name, Supplier<INDArray> body) {
        return ops.block(name, body);
    }

    @Override
    public INDArray add(INDArray a, INDArray b) {
        return ops.add(a, b);
    }

    @Override
    public INDArray sub(INDArray a, INDArray b) {
        return ops.sub(a, b);
    }

    @Override
    public INDArray mul(INDArray a, INDArray b) {
        return ops.mul(a, b);
    }

    @Override
    public INDArray div(INDArray a, INDArray b) {
        return ops.div(a, b);
    }

    @Override
    public INDArray add(INDArray a, double s) {
        return ops.add(a, s);
    }

    @Override
    public INDArray mul(INDArray a, double s) {
        return ops.mul(a, s);
    }

    @Override
    public INDArray exp(INDArray x) {
        return ops.exp(x);
    }

    @Override
    public INDArray log(INDArray x) {
        return ops.log(x);
    }

    @Override
    public INDArray sqrt(INDArray x) {
        return ops.sqrt(x);
    }

    @Override
    public INDArray rsqrt(INDArray x) {
        return ops.rsqrt(x);
    }

    @Override
    public INDArray square(INDArray x) {
        return ops.square(x);
    }

    @Override
    public INDArray erf(INDArray x) {
        return ops.erf(x);
    }

    @Override
    public INDArray tanh(INDArray x) {
        return ops.tanh(x);
    }

    @Override
    public INDArray sigmoid(INDArray x) {
        return ops.sigmoid(x);
    }

    @Override
    public INDArray cos(INDArray x) {
        return ops.cos(x);
    }

    @Override
    public INDArray sin(INDArray x) {
        return ops.sin(x);
    }

    @Override
    public INDArray reshape(INDArray x, long... shape) {
        return ops.reshape(x, shape);
    }

    @Override
    public INDArray permute(INDArray x, int... axes) {
        return ops.permute(x, axes);
    }

    @Override
    public INDArray concat(int axis, List<INDArray> xs) {
        return ops.concat(axis, xs);
    }

    @Override
    public INDArray slice(INDArray x, int axis, long from, long to) {
        return ops.slice(x, axis, from, to);
    }

    @Override
    public INDArray mean(INDArray x, boolean keepDims, int... axes) {
        return ops.mean(x, keepDims, axes);
    }

    @Override
    public INDArray softmax(INDArray x, int axis) {
        return ops.softmax(x, axis);
    }

    @Override
    public INDArray upsampleNearest2x(INDArray x) {
        return ops.upsampleNearest2x(x);
    }

    @Override
    public INDArray avgPool2x2(INDArray x) {
        return ops.avgPool2x2(x);
    }

    @Override
    public INDArray gatherRows(INDArray table, INDArray indices) {
        return ops.gatherRows(table, indices);
    }

    @Override
    public INDArray dropout(INDArray x, double p) {
        return ops.dropout(x, p);
    }

    @Override
    public INDArray silu(INDArray x) {
        return ops.silu(x);
    }

    @Override
    public INDArray gelu(INDArray x) {
        return ops.gelu(x);
    }

    @Override
    public INDArray groupNorm(INDArray x, int groups, double eps, INDArray weight, INDArray bias, boolean silu) {
        return ops.groupNorm(x, groups, eps, weight, bias, silu);
    }

    @Override
    public INDArray select(INDArray cond, INDArray a, INDArray b) {
        return ops.select(cond, a, b);
    }
}
