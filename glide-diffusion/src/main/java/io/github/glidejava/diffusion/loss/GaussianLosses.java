package io.github.glidejava.diffusion.loss;

import java.util.Arrays;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;

/**
 * improved-diffusion's likelihood helpers ({@code losses.py}) in float32 with the reference's operation order:
 * Gaussian KL, the tanh approximation of the standard normal CDF and the discretized Gaussian log-likelihood of
 * 8-bit images scaled to [-1, 1].
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

    private GaussianLosses() {
    }

    /** KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)) element-wise, in nats. */
    public static INDArray normalKl(INDArray mean1, INDArray logvar1, INDArray mean2, INDArray logvar2) {
        sameShape(mean1, logvar1, "logvar1");
        sameShape(mean1, mean2, "mean2");
        sameShape(mean1, logvar2, "logvar2");
        INDArray diff = mean1.sub(mean2);
        INDArray acc = logvar2.add(-1.0).subi(logvar1)
                .addi(Transforms.exp(logvar1.sub(logvar2), false))
                .addi(diff.muli(diff).muli(Transforms.exp(logvar2.neg(), false)));
        return acc.muli(0.5);
    }

    /** KL against a scalar Gaussian, e.g. {@code normalKl(m, lv, 0, 0)} against the standard normal (the prior). */
    public static INDArray normalKl(INDArray mean1, INDArray logvar1, double mean2, double logvar2) {
        sameShape(mean1, logvar1, "logvar1");
        float lv2 = (float) logvar2;
        INDArray diff = mean1.sub(mean2);
        INDArray acc = logvar1.rsub((float) (-1.0f + lv2))
                .addi(Transforms.exp(logvar1.sub(lv2), false))
                .addi(diff.muli(diff).muli((float) Math.exp(-lv2)));
        return acc.muli(0.5);
    }

    /** {@code 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}. */
    public static INDArray approxStandardNormalCdf(INDArray x) {
        INDArray cube = x.mul(x).muli(x);
        INDArray inner = cube.muli(0.044715).addi(x).muli(SQRT_2_OVER_PI);
        return Transforms.tanh(inner, false).addi(1.0).muli(0.5);
    }

    /**
     * Log-likelihood (nats) of x under a Gaussian discretized to 256 bins of width 2/255 over [-1, 1]; the edge bins
     * extend to infinity ({@code x < -0.999}: log CDF(x + 1/255); {@code x > 0.999}: log(1 - CDF(x - 1/255))).
     * Logs are of values clamped to >= 1e-12.
     */
    public static INDArray discretizedGaussianLogLikelihood(INDArray x, INDArray means, INDArray logScales) {
        sameShape(x, means, "means");
        sameShape(x, logScales, "log_scales");
        INDArray centered = x.sub(means);
        INDArray invStdv = Transforms.exp(logScales.neg(), false);
        INDArray cdfPlus = approxStandardNormalCdf(centered.add(BIN_HALF_WIDTH).muli(invStdv));
        INDArray cdfMin = approxStandardNormalCdf(centered.sub(BIN_HALF_WIDTH).muli(invStdv));
        INDArray logCdfPlus = Transforms.log(Transforms.max(cdfPlus, LOG_CLAMP, true), false);
        INDArray logOneMinusCdfMin = Transforms.log(Transforms.max(cdfMin.rsub(1.0), LOG_CLAMP, false), false);
        INDArray logCdfDelta = Transforms.log(Transforms.max(cdfPlus.sub(cdfMin), LOG_CLAMP, false), false);
        float[] xv = x.dup().data().asFloat();
        float[] lo = logCdfPlus.dup().data().asFloat();
        float[] hi = logOneMinusCdfMin.dup().data().asFloat();
        float[] mid = logCdfDelta.dup().data().asFloat();
        float[] out = new float[xv.length];
        for (int i = 0; i < xv.length; i++) {
            out[i] = xv[i] < -0.999f ? lo[i] : xv[i] > 0.999f ? hi[i] : mid[i];
        }
        return Nd4j.create(out, x.shape(), 'c');
    }

    /** Mean over every dimension but the batch dimension: {@code [N, ...] -> [N]}. */
    public static INDArray meanFlat(INDArray a) {
        int[] dims = new int[a.rank() - 1];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = i + 1;
        }
        return dims.length == 0 ? a.dup() : a.mean(dims);
    }

    private static void sameShape(INDArray a, INDArray b, String what) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(what + " has shape " + Arrays.toString(b.shape()) + ", expected "
                    + Arrays.toString(a.shape()));
        }
    }
}
