package io.github.glidejava.diffusion.loss;

import java.util.Arrays;
import java.util.Objects;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.diffusion.BatchOps;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.VarianceType;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.TensorOps;

/**
 * improved-diffusion's {@code training_losses} for eps-prediction models (GLIDE's setting: EPSILON mean,
 * LEARNED_RANGE variance, no timestep rescaling). MSE / RESCALED_MSE add the vb term when the variance is learned;
 * KL / RESCALED_KL use the vb term alone. vb terms are in bits, and at t == 0 the decoder NLL replaces the KL.
 *
 * <p>The math is written once over {@link TensorOps}: on a differentiating back-end the loss is differentiable with
 * respect to the model output (and, through a {@link TensorModel}, the model's parameters). As in the reference,
 * the hybrid loss computes its vb term from {@code cat([eps.detach(), v])} ({@code frozen_out}): the vb term trains
 * only the variance channels and the MSE only the eps channels; the KL losses differentiate the vb term through both.
 * The data ({@code x_start}, noise) and the per-row schedule coefficients (float64 rounded to float32, then the
 * data's type) enter as constants. The {@link DiffusionModel} overloads run the same code on {@link EagerOps}.
 */
public final class TrainingLosses {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    private final GaussianDiffusion diffusion;
    private final LossType lossType;
    private final double snrGamma;

    public TrainingLosses(GaussianDiffusion diffusion, LossType lossType) {
        this(diffusion, lossType, 0.0);
    }

    /**
     * @param snrGamma Min-SNR-gamma weighting of the MSE term (Hang et al., 2023; diffusers' {@code --snr_gamma}):
     *                 each row's MSE is multiplied by {@code min(SNR(t), gamma) / SNR(t)}, so the nearly noise-free
     *                 timesteps, whose large and noisy eps errors otherwise dominate the gradient, count less than
     *                 the noisy ones where layout and colour (and so the caption) are decided. 0 = off (GLIDE's
     *                 loss). The vb term is left as it is.
     */
    public TrainingLosses(GaussianDiffusion diffusion, LossType lossType, double snrGamma) {
        this.diffusion = Objects.requireNonNull(diffusion, "diffusion");
        this.lossType = Objects.requireNonNull(lossType, "lossType");
        if (!(snrGamma >= 0) || Double.isInfinite(snrGamma)) {
            throw new IllegalArgumentException("snrGamma must be >= 0 (0 = off), got " + snrGamma);
        }
        if (snrGamma > 0 && lossType.isKl()) {
            throw new IllegalArgumentException("Min-SNR weighting (snrGamma " + snrGamma
                    + ") weights the MSE term, but loss " + lossType + " has none; use MSE or RESCALED_MSE");
        }
        this.snrGamma = snrGamma;
    }

    public double snrGamma() {
        return snrGamma;
    }

    /** The Min-SNR-gamma weights {@code min(SNR, gamma) / SNR} of timesteps t, SNR = alpha_bar / (1 - alpha_bar). */
    public double[] minSnrWeights(int[] t) {
        double[] ac = diffusion.alphasCumprod();
        double[] w = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            double snr = ac[t[i]] / (1.0 - ac[t[i]]);
            w[i] = Math.min(snr, snrGamma) / snr;
        }
        return w;
    }

    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    public LossType lossType() {
        return lossType;
    }

    // ------------------------------------------------------------------ eager

    /**
     * The losses for x_0 diffused to timesteps t with the given noise, evaluated eagerly.
     *
     * @param xStart {@code [N, C, ...]} float32 data in [-1, 1]
     * @param t      per-row timestep indices of {@link #diffusion()}
     * @param noise  N(0, 1) noise of x's shape (e.g. from a {@link io.github.glidejava.diffusion.NoiseSource})
     */
    public LossTerms<INDArray> compute(DiffusionModel model, INDArray xStart, int[] t, INDArray noise) {
        BatchOps.requireFloatBatch(xStart, "x_start");
        Objects.requireNonNull(model, "model");
        return compute(GaussianLosses.eager(), (x, ts) -> {
            INDArray out = model.predict(x, ts);
            GaussianDiffusion.checkModelOutput(out, x);
            return out;
        }, xStart, t, noise);
    }

    /** {@link #compute(DiffusionModel, INDArray, int[], INDArray)} with int64 {@code [N]} timesteps. */
    public LossTerms<INDArray> compute(DiffusionModel model, INDArray xStart, INDArray t, INDArray noise) {
        return compute(model, xStart, toInts(t), noise);
    }

    /** {@code _vb_terms_bpd} from a model output already computed for (x_t, t), evaluated eagerly. */
    public VbTerms<INDArray> vbTerms(INDArray modelOutput, INDArray xStart, INDArray xT, int[] t,
                                     boolean clipDenoised) {
        BatchOps.requireFloatBatch(xT, "x_t");
        GaussianDiffusion.checkModelOutput(modelOutput, xT);
        EagerOps ops = GaussianLosses.eager();
        Split<INDArray> split = split(ops, modelOutput, xT.size(1));
        return vbTerms(ops, split.eps(), split.v(), xStart, xT, t, clipDenoised);
    }

    // ------------------------------------------------------------------ any back-end

    /**
     * The losses on any back-end: {@code x_t = q_sample(x_start, t, noise)}, the model called once on
     * {@code (x_t, original timesteps)}, then the loss terms of {@link #lossType()}.
     *
     * @param ops    the back-end (the model runs on it too)
     * @param model  the network on that back-end
     * @param xStart {@code [N, C, ...]} float data in [-1, 1] (float32; float64 e.g. for gradient checks)
     * @param t      per-row timestep indices of {@link #diffusion()}
     * @param noise  N(0, 1) noise of x's shape and type
     */
    public <T> LossTerms<T> compute(TensorOps<T> ops, TensorModel<T> model, INDArray xStart, int[] t,
                                    INDArray noise) {
        checkData(xStart, "x_start");
        checkData(noise, "noise");
        if (!Arrays.equals(noise.shape(), xStart.shape()) || noise.dataType() != xStart.dataType()) {
            throw new IllegalArgumentException("noise is " + noise.dataType() + " " + Arrays.toString(noise.shape())
                    + ", expected x_start's " + xStart.dataType() + " " + Arrays.toString(xStart.shape()));
        }
        checkTimesteps(t, xStart.size(0));
        Coefficients k = new Coefficients(t, xStart);
        T xT = ops.add(ops.mul(k.col(ops, diffusion.sqrtAlphasCumprod()), ops.constant(xStart)),
                ops.mul(k.col(ops, diffusion.sqrtOneMinusAlphasCumprod()), ops.constant(noise)));
        T out = model.predict(xT, ops.constant(diffusion.modelTimesteps(t)));
        Split<T> split = split(ops, out, xStart.size(1));
        T eps = split.eps();
        T v = split.v();
        if (lossType.isKl()) {
            VbTerms<T> vb = vbTerms(ops, eps, v, xStart, xT, t, false);
            T loss = lossType == LossType.RESCALED_KL ? ops.mul(vb.output(), diffusion.numTimesteps()) : vb.output();
            return new LossTerms<>(loss, null, null, xT, out, vb);
        }
        VbTerms<T> vbTerms = null;
        T vb = null;
        if (diffusion.varianceType().learned()) {
            // frozen_out: the vb term must not move the mean, only the variance
            vbTerms = vbTerms(ops, ops.stopGradient(eps), v, xStart, xT, t, false);
            vb = vbTerms.output();
            if (lossType == LossType.RESCALED_MSE) {
                vb = ops.mul(vb, diffusion.numTimesteps() / 1000.0);
            }
        }
        T mse = GaussianLosses.meanFlat(ops, ops.square(ops.sub(ops.constant(noise), eps)));
        T weightedMse = snrGamma > 0
                ? ops.mul(mse, ops.constant(Nd4j.createFromArray(minSnrWeights(t)).castTo(xStart.dataType())))
                : mse;
        T loss = vb == null ? weightedMse : ops.add(weightedMse, vb);
        return new LossTerms<>(loss, mse, vb, xT, out, vbTerms);
    }

    /**
     * {@code _vb_terms_bpd} on any back-end from the model's eps and variance channels.
     *
     * @param eps          {@code [N, C, ...]} predicted noise
     * @param varValues    {@code [N, C, ...]} variance channels (null for a fixed variance)
     * @param xStart       the data x_0 (a constant)
     * @param xT           the diffused input
     * @param clipDenoised clamp the x_0 prediction to [-1, 1] (training uses false)
     */
    public <T> VbTerms<T> vbTerms(TensorOps<T> ops, T eps, T varValues, INDArray xStart, T xT, int[] t,
                                  boolean clipDenoised) {
        checkData(xStart, "x_start");
        checkTimesteps(t, xStart.size(0));
        if (!Arrays.equals(ops.shape(xT), xStart.shape())) {
            throw new IllegalArgumentException("x_t has shape " + Arrays.toString(ops.shape(xT))
                    + ", expected x_start's " + Arrays.toString(xStart.shape()));
        }
        VarianceType type = diffusion.varianceType();
        if (type.learned() != (varValues != null)) {
            throw new IllegalArgumentException("variance type " + type + (type.learned()
                    ? " needs the model's variance channels" : " takes no variance channels"));
        }
        Coefficients k = new Coefficients(t, xStart);
        T x0 = ops.constant(xStart);
        T trueMean = ops.add(ops.mul(k.col(ops, diffusion.posteriorMeanCoef1()), x0),
                ops.mul(k.col(ops, diffusion.posteriorMeanCoef2()), xT));
        T trueLogVar = k.full(ops, diffusion.posteriorLogVarianceClipped());
        T logVar = switch (type) {
            case LEARNED_RANGE -> {
                T frac = ops.mul(ops.add(varValues, 1.0), 0.5);
                yield ops.add(ops.mul(frac, k.col(ops, diffusion.logBetas())),
                        ops.mul(ops.add(ops.mul(frac, -1.0), 1.0), k.col(ops, diffusion.posteriorLogVarianceClipped())));
            }
            case LEARNED -> varValues;
            case FIXED_SMALL -> k.full(ops, diffusion.posteriorLogVarianceClipped());
            case FIXED_LARGE -> k.full(ops, diffusion.fixedLargeLogVariance());
        };
        T predXStart = ops.sub(ops.mul(k.col(ops, diffusion.sqrtRecipAlphasCumprod()), xT),
                ops.mul(k.col(ops, diffusion.sqrtRecipm1AlphasCumprod()), eps));
        if (clipDenoised) {
            // clamp(x, -1, 1) = -max(-max(x, -1), -1)
            predXStart = ops.mul(ops.clampMin(ops.mul(ops.clampMin(predXStart, -1.0), -1.0), -1.0), -1.0);
        }
        T modelMean = ops.add(ops.mul(k.col(ops, diffusion.posteriorMeanCoef1()), predXStart),
                ops.mul(k.col(ops, diffusion.posteriorMeanCoef2()), xT));
        T kl = ops.mul(GaussianLosses.meanFlat(ops, GaussianLosses.normalKl(ops, trueMean, trueLogVar, modelMean,
                logVar)), 1.0 / GaussianLosses.LN2);
        T nll = ops.mul(GaussianLosses.meanFlat(ops, ops.mul(GaussianLosses.discretizedGaussianLogLikelihood(ops,
                xStart, modelMean, ops.mul(logVar, 0.5)), -1.0)), 1.0 / GaussianLosses.LN2);
        double[] first = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            first[i] = t[i] == 0 ? 1.0 : 0.0;
        }
        T output = ops.select(ops.constant(Nd4j.createFromArray(first).castTo(xStart.dataType())), nll, kl);
        return new VbTerms<>(output, kl, nll, trueMean, trueLogVar, modelMean, logVar, predXStart);
    }

    /**
     * The scalar training objective {@code (loss * weights).mean()}: the mean over the batch of the per-element
     * losses weighted by the timestep sampler's importance weights.
     *
     * @param loss    {@code [N]} per-element losses ({@link LossTerms#loss()})
     * @param weights {@code [N]} importance weights (all 1 for uniform timesteps)
     * @return a scalar (rank 0)
     */
    public static <T> T weightedMean(TensorOps<T> ops, T loss, INDArray weights) {
        long[] s = ops.shape(loss);
        if (s.length != 1 || weights.rank() != 1 || weights.length() != s[0]) {
            throw new IllegalArgumentException("weights have shape " + Arrays.toString(weights.shape())
                    + ", expected [" + (s.length == 1 ? s[0] : "N") + "] for losses " + Arrays.toString(s));
        }
        return ops.mean(ops.mul(loss, ops.constant(weights)), false, 0);
    }

    /** The eps and variance channels of a model output (v null for a fixed variance). */
    private record Split<T>(T eps, T v) {
    }

    /** {@code [eps, variance values]} of a model output: the variance half is null for a fixed variance. */
    private <T> Split<T> split(TensorOps<T> ops, T out, long c) {
        long[] s = ops.shape(out);
        boolean learned = diffusion.varianceType().learned();
        if (s.length < 2 || (learned ? s[1] != 2 * c : s[1] != c && s[1] != 2 * c)) {
            throw new IllegalArgumentException("model output has shape " + Arrays.toString(s) + ", expected [N, "
                    + (learned ? 2 * c + "" : c + " or " + 2 * c) + ", ...] for variance type "
                    + diffusion.varianceType());
        }
        return new Split<>(s[1] == c ? out : ops.slice(out, 1, 0, c), learned ? ops.slice(out, 1, c, 2 * c) : null);
    }

    private static void checkData(INDArray a, String what) {
        if (a == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (a.dataType() != DataType.FLOAT && a.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException(what + " must be float32 (or float64), got " + a.dataType());
        }
        if (a.rank() < 2) {
            throw new IllegalArgumentException(what + " must be [N, C, ...], got shape " + Arrays.toString(a.shape()));
        }
    }

    private void checkTimesteps(int[] t, long batch) {
        if (t == null || t.length != batch) {
            throw new IllegalArgumentException("got " + (t == null ? 0 : t.length) + " timesteps for a batch of "
                    + batch);
        }
        diffusion.modelTimesteps(t); // range check
    }

    /** Per-row schedule coefficients as constants of the data's type and rank. */
    private record Coefficients(int[] t, INDArray like) {
        /** {@code [N, 1, ..., 1]}: float64 rounded to float32 (glide's _extract_into_tensor), in the data's type. */
        <T> T col(TensorOps<T> ops, double[] arr) {
            return ops.constant(BatchOps.column(arr, t, like.rank()).castTo(like.dataType()));
        }

        /** The same values expanded to the data's full shape. */
        <T> T full(TensorOps<T> ops, double[] arr) {
            INDArray column = BatchOps.column(arr, t, like.rank()).castTo(like.dataType());
            return ops.constant(Nd4j.zeros(like.dataType(), like.shape()).addi(column));
        }
    }

    private static int[] toInts(INDArray t) {
        if (t.rank() != 1) {
            throw new IllegalArgumentException("timesteps must be [N], got rank " + t.rank());
        }
        long[] v = t.toLongVector();
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.toIntExact(v[i]);
        }
        return out;
    }
}
