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
 * encoder_kv / proj_out, ResBlock skips) as one sgemm per sample, and linear layers as one sgemm; plus GroupNorm
 * (+SiLU) and SiLU through oneDNN's JIT element-wise kernels ({@link Dnnl}). Everything else,
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

    /** SiLU as one JIT-compiled oneDNN swish pass (ND4J's native swish runs ~3 ns per element on one core). */
    @Override
    public INDArray silu(INDArray x) {
        if (x.dataType() != DataType.FLOAT) {
            return ops.silu(x);
        }
        x = contiguous(x);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        Dnnl.swish(x, y);
        return y;
    }

    /**
     * GroupNorm (+ SiLU) in two passes over the data: the group statistics in Java (double accumulators, four
     * independent sums per group so the loop is not one long dependency chain), then oneDNN's binary multiply with
     * add and swish post-ops computing {@code swish(x * scale + shift)} with per-(sample, channel)
     * {@code scale = rstd * weight}, {@code shift = bias - mean * scale} (as PyTorch's CPU kernel).
     */
    @Override
    public INDArray groupNorm(INDArray x, int groups, double eps, INDArray weight, INDArray bias, boolean silu) {
        long[] s = x.shape();
        if (x.dataType() != DataType.FLOAT || s[1] % groups != 0) {
            return ops.groupNorm(x, groups, eps, weight, bias, silu);
        }
        x = contiguous(x);
        if (x.offset() != 0) {
            x = x.dup('c');   // the NIO view below is read from the start of the buffer
        }
        int n = (int) s[0], c = (int) s[1], cg = c / groups;
        long len = x.length() / ((long) n * c);
        long groupLen = len * cg;
        double[] mean = new double[n * groups];
        double[] rstd = new double[n * groups];
        java.nio.FloatBuffer buf = x.data().asNioFloat();
        java.util.stream.IntStream.range(0, n * groups).parallel().forEach(gi -> {
            float[] chunk = new float[(int) Math.min(groupLen, 16384)];
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
            long start = gi * groupLen;
            for (long pos = 0; pos < groupLen; pos += chunk.length) {
                int m = (int) Math.min(chunk.length, groupLen - pos);
                buf.get((int) (start + pos), chunk, 0, m);
                int i = 0;
                for (; i + 3 < m; i += 4) {
                    double a = chunk[i], b = chunk[i + 1], cc = chunk[i + 2], d = chunk[i + 3];
                    s0 += a;
                    s1 += b;
                    s2 += cc;
                    s3 += d;
                    q0 += a * a;
                    q1 += b * b;
                    q2 += cc * cc;
                    q3 += d * d;
                }
                for (; i < m; i++) {
                    double a = chunk[i];
                    s0 += a;
                    q0 += a * a;
                }
            }
            double mu = (s0 + s1 + s2 + s3) / groupLen;
            double var = Math.max(0.0, (q0 + q1 + q2 + q3) / groupLen - mu * mu);
            mean[gi] = mu;
            rstd[gi] = 1.0 / Math.sqrt(var + eps);
        });
        float[] w = weight.toFloatVector();
        float[] b = bias.toFloatVector();
        float[][] scale = new float[n][c];
        float[][] shift = new float[n][c];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                int gi = i * groups + ch / cg;
                float sc = (float) (rstd[gi] * w[ch]);
                scale[i][ch] = sc;
                shift[i][ch] = (float) (b[ch] - mean[gi] * sc);
            }
        }
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, s);
        Dnnl.scaleShift(x, Nd4j.createFromArray(scale), Nd4j.createFromArray(shift), y, silu);
        return y;
    }

    @Override
    public INDArray gelu(INDArray x) {
        return ops.gelu(x);
    }

    @Override
    public INDArray select(INDArray cond, INDArray a, INDArray b) {
        return ops.select(cond, a, b);
    }
}
