package io.github.glidejava.nn.ops.kernels;

import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.stream.IntStream;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.glidejava.nn.ops.ArrayPool;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.ops.Shapes;

/**
 * GLIDE's hot eager operations sent straight to oneDNN instead of ND4J's ops (used by
 * {@link io.github.glidejava.nn.ops.EagerOps} when {@link #available()}): batched matmuls (the attention products,
 * where ND4J's batched matmul reaches only 5-30 GFLOP/s) as one {@code dnnl_sgemm} per batch entry on strided views
 * without copies, 1x1 convolutions as one sgemm per sample, linear layers as one sgemm ({@link Gemm}), and GroupNorm
 * (+SiLU) and SiLU through oneDNN's JIT element-wise primitives ({@link Dnnl}). Results are the same up to float32
 * summation order. Each method returns null for a case it does not cover (then the caller runs its own op).
 *
 * <p>Only the availability check touches oneDNN's classes when the kernels are off, so this class is safe to load
 * on class paths without oneDNN's Java API or natives (the {@code cpu-plain} and {@code cuda} profiles).
 */
public final class OneDnnKernels {
    private static final Logger LOG = LoggerFactory.getLogger(OneDnnKernels.class);

    /** System property (or env {@code GLIDE_KERNELS}): {@code nd4j} forces ND4J's own ops everywhere. */
    public static final String PROPERTY = "glide.kernels";

    /**
     * System property (or env {@code GLIDE_CONV}): {@code nd4j} keeps ND4J's {@code conv2d} for the convolutions
     * other than 1x1 (the other kernels stay on), to compare the two.
     */
    public static final String CONV_PROPERTY = "glide.conv";
    private static final boolean CONV_PRIMITIVES = !"nd4j".equalsIgnoreCase(
            System.getProperty(CONV_PROPERTY, String.valueOf(System.getenv("GLIDE_CONV"))).trim());

    /** Whether convolutions other than 1x1 run as oneDNN primitives (forward and backward), not ND4J's ops. */
    public static boolean convPrimitives() {
        return CONV_PRIMITIVES && available();
    }

    private OneDnnKernels() {
    }

    /** Whether oneDNN's Java API and natives are usable here (checked once, by running a tiny sgemm and swish). */
    public static boolean available() {
        return Availability.AVAILABLE;
    }

    private static final class Availability {
        static final boolean AVAILABLE = probe();

        private static boolean probe() {
            String mode = System.getProperty(PROPERTY, System.getenv("GLIDE_KERNELS"));
            if (mode != null && mode.trim().toLowerCase(Locale.ROOT).equals("nd4j")) {
                LOG.info("eager kernels: ND4J ops ({}=nd4j)", PROPERTY);
                return false;
            }
            try {
                if (!Nd4j.getEnvironment().isCPU()) {
                    LOG.info("eager kernels: ND4J ops (oneDNN kernels need the CPU back-end)");
                    return false;
                }
                // [[1,2],[3,4]] . [[1,2],[3,4]]^T = [[5,11],[11,25]]
                INDArray a = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}});
                INDArray c = Nd4j.zeros(DataType.FLOAT, 2, 2);
                Gemm.sgemm(false, true, 2, 2, 2, 1f, a, 0, 2, a, 0, 2, 0f, c, 0, 2);
                INDArray s = Nd4j.zeros(DataType.FLOAT, 2, 2);
                Dnnl.swish(a, s);
                float[] got = c.data().asFloat();
                double swish2 = 2 / (1 + Math.exp(-2));
                if (got[0] != 5f || got[1] != 11f || got[2] != 11f || got[3] != 25f
                        || Math.abs(s.getDouble(0, 1) - swish2) > 1e-5) {
                    LOG.warn("eager kernels: ND4J ops (oneDNN self-check gave {} and {})", c, s);
                    return false;
                }
                LOG.info("eager kernels: oneDNN sgemm / JIT element-wise (set -D{}=nd4j for ND4J's ops)", PROPERTY);
                return true;
            } catch (Throwable t) {   // NoClassDefFoundError, UnsatisfiedLinkError, ...: no oneDNN here
                LOG.info("eager kernels: ND4J ops (oneDNN's Java API or natives unavailable: {})", t.toString());
                return false;
            }
        }
    }

    /** A matrix operand: its leading dimension, batch stride and whether it is stored transposed. */
    private record Operand(long batchStride, long ld, boolean transposed) {
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
            return new Operand(batchStride, Math.max(st[r - 2], cols), false);
        }
        if (st[r - 2] == 1 && (st[r - 1] >= rows || cols == 1)) {
            return new Operand(batchStride, Math.max(st[r - 1], rows), true);
        }
        return null;
    }

    /** {@code op(a) . op(b)} for float32 rank-2 or equal-batch rank-3 operands; null otherwise. */
    public static INDArray matmul(INDArray a, INDArray b, boolean transposeA, boolean transposeB) {
        int rank = a.rank();
        if (a.dataType() != DataType.FLOAT || b.dataType() != DataType.FLOAT || rank != b.rank()
                || (rank != 2 && rank != 3) || (rank == 3 && a.size(0) != b.size(0))) {
            return null;
        }
        long[] out = Shapes.matmul(a.shape(), b.shape(), transposeA, transposeB);
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
        INDArray c = ArrayPool.uninitialized(DataType.FLOAT, out);
        long batch = rank == 3 ? out[0] : 1;
        boolean ta = transposeA ^ oa.transposed(), tb = transposeB ^ ob.transposed();
        for (long i = 0; i < batch; i++) {
            Gemm.sgemm(ta, tb, m, n, k, 1f, a, i * oa.batchStride(), oa.ld(), b, i * ob.batchStride(), ob.ld(), 0f,
                    c, i * m * n, n);
        }
        return c;
    }

    /**
     * A float32 convolution: 1x1 unpadded ones with stride 1 as sgemm calls, all others as oneDNN convolution
     * primitives computing as {@code precision} says (Winograd only on feature maps of at least 2048 positions per
     * batch, where it measured faster; direct below). Null for other types, when oneDNN has no implementation, or
     * with {@code -Dglide.conv=nd4j} for the non-1x1 ones.
     */
    public static INDArray conv2d(INDArray x, INDArray weight, INDArray bias, int stride, int padding,
            Precision precision) {
        long[] w = weight.shape();
        if (w.length != 4 || x.dataType() != DataType.FLOAT || weight.dataType() != DataType.FLOAT
                || (bias != null && bias.dataType() != DataType.FLOAT)) {
            return null;
        }
        long[] out = Shapes.conv2d(x.shape(), w, stride, padding);
        if (w[0] != 1 || w[1] != 1 || stride != 1 || padding != 0) {
            if (!CONV_PRIMITIVES) {
                return null;
            }
            DnnlConv.Algorithm algorithm = convAlgorithm(precision, w, stride, out);
            INDArray y = ArrayPool.uninitialized(DataType.FLOAT, out);
            if (DnnlConv.forward(contiguous(x), contiguous(weight), bias == null ? null : contiguous(bias), stride,
                    padding, y, algorithm)) {
                return y;
            }
            y.close();
            return null;
        }
        x = contiguous(x);
        weight = contiguous(weight);
        long n = out[0], cin = w[2], cout = w[3], hw = out[2] * out[3];
        INDArray y = ArrayPool.uninitialized(DataType.FLOAT, out);
        // y[i] [cout, hw] = W^T [cout, cin] . x[i] [cin, hw]; W is stored [1, 1, cin, cout]
        for (long i = 0; i < n; i++) {
            Gemm.sgemm(true, false, cout, hw, cin, 1f, weight, 0, cout, x, i * cin * hw, hw, 0f, y, i * cout * hw, hw);
        }
        if (bias != null) {
            Nd4j.exec(new AddOp(y, bias.reshape(1, cout, 1, 1), y));
        }
        return y;
    }

    /**
     * How a convolution with weights {@code w [kH, kW, in, out]} and output {@code out} computes at
     * {@code precision}: Winograd only for 3x3 stride-1 layers on feature maps of at least 2048 positions per batch
     * (where it measured faster), direct otherwise. The forward and the training tape's backward both follow it.
     */
    public static DnnlConv.Algorithm convAlgorithm(Precision precision, long[] w, int stride, long[] out) {
        return switch (precision) {
            case FP32 -> DnnlConv.Algorithm.DIRECT;
            case BF16 -> DnnlConv.Algorithm.BF16;
            case WINOGRAD -> w[0] == 3 && w[1] == 3 && stride == 1 && out[0] * out[2] * out[3] >= 2048
                    ? DnnlConv.Algorithm.WINOGRAD : DnnlConv.Algorithm.DIRECT;
        };
    }

    /** {@code x [..., in] . weight[out, in]^T + bias} in float32; null otherwise. */
    public static INDArray linear(INDArray x, INDArray weight, INDArray bias) {
        long[] s = x.shape();
        if (s.length < 2 || x.dataType() != DataType.FLOAT || weight.dataType() != DataType.FLOAT
                || weight.rank() != 2 || weight.size(1) != s[s.length - 1]) {
            return null;
        }
        long in = s[s.length - 1];
        long outF = weight.size(0);
        INDArray x2 = contiguous(x).reshape('c', Shapes.length(s) / in, in);
        weight = contiguous(weight);
        long rows = x2.size(0);
        INDArray y = ArrayPool.uninitialized(DataType.FLOAT, rows, outF);
        Gemm.sgemm(false, true, rows, outF, in, 1f, x2, 0, in, weight, 0, in, 0f, y, 0, outF);
        if (bias != null) {
            Nd4j.exec(new AddOp(y, bias.reshape(1, outF), y));
        }
        long[] os = s.clone();
        os[os.length - 1] = outF;
        return s.length == 2 ? y : y.reshape('c', os);
    }

    private static INDArray contiguous(INDArray x) {
        return Shapes.cContiguous(x.shape(), x.stride()) ? x : x.dup('c');
    }

    /** SiLU as one JIT-compiled oneDNN swish pass (ND4J's native swish runs ~3 ns per element on one core). */
    public static INDArray silu(INDArray x) {
        if (x.dataType() != DataType.FLOAT) {
            return null;
        }
        x = contiguous(x);
        INDArray y = ArrayPool.uninitialized(DataType.FLOAT, x.shape());
        Dnnl.swish(x, y);
        return y;
    }

    /**
     * GroupNorm (+ SiLU) in two passes over the data: the group statistics in Java (double accumulators, four
     * independent sums per group so the loop is not one long dependency chain), then oneDNN's binary multiply with
     * add and swish post-ops computing {@code swish(x * scale + shift)} with per-(sample, channel)
     * {@code scale = rstd * weight}, {@code shift = bias - mean * scale} (as PyTorch's CPU kernel). Null for
     * non-float32 input or channels not divisible by the groups.
     */
    public static INDArray groupNorm(INDArray x, int groups, double eps, INDArray weight, INDArray bias, boolean silu) {
        return groupNorm(x, groups, eps, weight, bias, null, null, silu);
    }

    /**
     * The mean and {@code 1 / sqrt(var + eps)} of each of {@code count} consecutive groups of {@code groupLen}
     * float32 values from the start of {@code buf}, into {@code mean} and {@code rstd}: bulk reads, sums in double
     * (four independent sums the core overlaps), one task per group.
     */
    public static void groupStatistics(FloatBuffer buf, int count, long groupLen, double eps, double[] mean,
            double[] rstd) {
        IntStream.range(0, count).parallel().forEach(gi -> {
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
    }

    /**
     * {@link #groupNorm} followed by {@code * (1 + scale) + shift} with {@code scale}, {@code shift} of shape
     * {@code [N, C, 1, 1]} (both null: none), folded into the per-(sample, channel) affine of the same pass.
     */
    public static INDArray groupNorm(INDArray x, int groups, double eps, INDArray weight, INDArray bias,
            INDArray scale, INDArray shift, boolean silu) {
        long[] s = x.shape();
        if (x.dataType() != DataType.FLOAT || s.length < 2 || s[1] % groups != 0) {
            return null;
        }
        if ((scale == null) != (shift == null) || (scale != null
                && (scale.length() != s[0] * s[1] || shift.length() != s[0] * s[1]))) {
            return null;
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
        groupStatistics(x.data().asNioFloat(), n * groups, groupLen, eps, mean, rstd);
        float[] w = weight.toFloatVector();
        float[] b = bias.toFloatVector();
        float[] ms = scale == null ? null : scale.dup('c').data().asFloat();
        float[] mb = shift == null ? null : shift.dup('c').data().asFloat();
        float[][] a = new float[n][c];
        float[][] d = new float[n][c];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                int gi = i * groups + ch / cg;
                double sc = rstd[gi] * w[ch];
                double sh = b[ch] - mean[gi] * sc;
                if (ms != null) {
                    double m = 1.0 + ms[i * c + ch];
                    sc *= m;
                    sh = sh * m + mb[i * c + ch];
                }
                a[i][ch] = (float) sc;
                d[i][ch] = (float) sh;
            }
        }
        INDArray y = ArrayPool.uninitialized(DataType.FLOAT, s);
        Dnnl.scaleShift(x, Nd4j.createFromArray(a), Nd4j.createFromArray(d), y, silu);
        return y;
    }
}
