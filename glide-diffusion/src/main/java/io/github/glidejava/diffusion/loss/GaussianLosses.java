package io.github.glidejava.diffusion.loss;

import java.util.Arrays;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.TensorOps;

/**
 * improved-diffusion's likelihood helpers ({@code losses.py}) with the reference's operation order: Gaussian KL,
 * the tanh approximation of the standard normal CDF and the discretized Gaussian log-likelihood of 8-bit images
 * scaled to [-1, 1].
 *
 * <p>Each is written once over {@link TensorOps}, so it is differentiable on a differentiating back-end; the
 * {@code INDArray} overloads run that same code on {@link EagerOps}.
 */
public final class GaussianLosses {
    static {
        GlideBackend.init();
    }

    /** ln 2, for nats -> bits. */
    public static final double LN2 = Math.log(2.0);
    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    private static final double BIN_HALF_WIDTH = 1.0 / 255.0;
    private static final double LOG_CLAMP = 1e-12;
    private static final double EDGE = 0.999;

    private GaussianLosses() {
    }

    /** An eager back-end for tensor code that reads no parameters. */
    static EagerOps eager() {
        return new EagerOps(k -> {
            throw new IllegalArgumentException("loss code has no parameters, but '" + k + "' was requested");
        });
    }

    /**
     * KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)) element-wise, in nats:
     * {@code 0.5 (-1 + logvar2 - logvar1 + exp(logvar1 - logvar2) + (mean1 - mean2)^2 exp(-logvar2))}. Operands
     * broadcast.
     */
    public static <T> T normalKl(TensorOps<T> ops, T mean1, T logvar1, T mean2, T logvar2) {
        T acc = ops.sub(ops.add(logvar2, -1.0), logvar1);
        acc = ops.add(acc, ops.exp(ops.sub(logvar1, logvar2)));
        acc = ops.add(acc, ops.mul(ops.square(ops.sub(mean1, mean2)), ops.exp(ops.mul(logvar2, -1.0))));
        return ops.mul(acc, 0.5);
    }

    /** {@link #normalKl(TensorOps, Object, Object, Object, Object)} on the eager back-end; all of one shape. */
    public static INDArray normalKl(INDArray mean1, INDArray logvar1, INDArray mean2, INDArray logvar2) {
        sameShape(mean1, logvar1, "logvar1");
        sameShape(mean1, mean2, "mean2");
        sameShape(mean1, logvar2, "logvar2");
        return normalKl(eager(), mean1, logvar1, mean2, logvar2);
    }

    /** KL against a scalar Gaussian, e.g. {@code normalKl(m, lv, 0, 0)} against the standard normal (the prior). */
    public static INDArray normalKl(INDArray mean1, INDArray logvar1, double mean2, double logvar2) {
        sameShape(mean1, logvar1, "logvar1");
        INDArray m2 = Nd4j.valueArrayOf(mean1.shape(), mean2, mean1.dataType());
        INDArray lv2 = Nd4j.valueArrayOf(mean1.shape(), logvar2, mean1.dataType());
        return normalKl(eager(), mean1, logvar1, m2, lv2);
    }

    /** {@code 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public static <T> T approxStandardNormalCdf(TensorOps<T> ops, T x) {
        T cube = ops.mul(ops.square(x), x);
        T inner = ops.mul(ops.add(x, ops.mul(cube, 0.044715)), SQRT_2_OVER_PI);
        return ops.mul(ops.add(ops.tanh(inner), 1.0), 0.5);
    }

    /** {@link #approxStandardNormalCdf(TensorOps, Object)} on the eager back-end. */
    public static INDArray approxStandardNormalCdf(INDArray x) {
        return approxStandardNormalCdf(eager(), x);
    }

    /**
     * Log-likelihood (nats) of the data {@code x} under a Gaussian discretized to 256 bins of width 2/255 over
     * [-1, 1]; the edge bins extend to infinity ({@code x < -0.999}: log CDF(x + 1/255); {@code x > 0.999}:
     * log(1 - CDF(x - 1/255))). Logs are of values clamped to >= 1e-12 ({@code clampMin}, no gradient below);
     * the branches are picked per element with {@code select}, so a gradient reaches only the chosen one.
     *
     * @param x         the data (a constant: the branch masks are read from its values), in the back-end's float
     *                  type
     * @param means     the Gaussian means, x's shape
     * @param logScales log standard deviations, x's shape
     */
    public static <T> T discretizedGaussianLogLikelihood(TensorOps<T> ops, INDArray x, T means, T logScales) {
        checkShape(ops.shape(means), x.shape(), "means");
        checkShape(ops.shape(logScales), x.shape(), "log_scales");
        T centered = ops.sub(ops.constant(x), means);
        T invStdv = ops.exp(ops.mul(logScales, -1.0));
        T cdfPlus = approxStandardNormalCdf(ops, ops.mul(invStdv, ops.add(centered, BIN_HALF_WIDTH)));
        T cdfMin = approxStandardNormalCdf(ops, ops.mul(invStdv, ops.add(centered, -BIN_HALF_WIDTH)));
        T logCdfPlus = ops.log(ops.clampMin(cdfPlus, LOG_CLAMP));
        T logOneMinusCdfMin = ops.log(ops.clampMin(ops.add(ops.mul(cdfMin, -1.0), 1.0), LOG_CLAMP));
        T logCdfDelta = ops.log(ops.clampMin(ops.sub(cdfPlus, cdfMin), LOG_CLAMP));
        T low = ops.constant(edgeMask(x, true));
        T high = ops.constant(edgeMask(x, false));
        return ops.select(low, logCdfPlus, ops.select(high, logOneMinusCdfMin, logCdfDelta));
    }

    /** {@link #discretizedGaussianLogLikelihood(TensorOps, INDArray, Object, Object)} on the eager back-end. */
    public static INDArray discretizedGaussianLogLikelihood(INDArray x, INDArray means, INDArray logScales) {
        sameShape(x, means, "means");
        sameShape(x, logScales, "log_scales");
        return discretizedGaussianLogLikelihood(eager(), x, means, logScales);
    }

    /**
     * 1 where {@code x < -0.999} ({@code low}) or {@code x > 0.999}, else 0, in x's type. The threshold is compared
     * in x's precision, as torch compares a float32 tensor with a Python float.
     */
    static INDArray edgeMask(INDArray x, boolean low) {
        if (!x.dataType().isFPType()) {
            throw new IllegalArgumentException("x must be a floating-point tensor, got " + x.dataType());
        }
        boolean single = x.dataType() != DataType.DOUBLE;
        double edge = single ? (double) (float) EDGE : EDGE;
        double[] v = x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] m = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            m[i] = (low ? v[i] < -edge : v[i] > edge) ? 1.0 : 0.0;
        }
        return Nd4j.create(m, x.shape(), 'c').castTo(x.dataType());
    }

    /**
     * Mean over every dimension but the batch dimension: {@code [N, ...] -> [N]} ({@code mean_flat}). The axes are
     * reduced one at a time from the last: the same mean, but each float32 sum runs over one axis only, which keeps it
     * as accurate as torch's cascade summation (one ND4J reduction over C*H*W accumulates sequentially and is ~10x
     * further from the exact mean).
     */
    public static <T> T meanFlat(TensorOps<T> ops, T a) {
        T out = a;
        for (int axis = ops.shape(a).length - 1; axis >= 1; axis--) {
            out = ops.mean(out, false, axis);
        }
        return out;
    }

    /** {@link #meanFlat(TensorOps, Object)} of an INDArray (a fresh array). */
    public static INDArray meanFlat(INDArray a) {
        return a.rank() < 2 ? a.dup() : meanFlat(eager(), a);
    }

    private static void sameShape(INDArray a, INDArray b, String what) {
        checkShape(b.shape(), a.shape(), what);
    }

    private static void checkShape(long[] got, long[] expected, String what) {
        if (!Arrays.equals(got, expected)) {
            throw new IllegalArgumentException(what + " has shape " + Arrays.toString(got) + ", expected "
                    + Arrays.toString(expected));
        }
    }
}
