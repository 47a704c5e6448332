package io.github.glidejava.diffusion;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.UnaryOperator;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;

/**
 * A (possibly respaced) Gaussian diffusion process: every schedule coefficient in float64, computed once here with
 * glide-text2im's operation order, and the tensor math of improved-diffusion's {@code GaussianDiffusion}
 * ({@code q_sample}, {@code q_posterior_mean_variance}, {@code p_mean_variance}, eps / x0 conversions, gradient
 * guidance). Immutable and thread-safe.
 *
 * <p>Tensor methods take per-row RESPACED timesteps {@code t} (indices into this process, {@code 0 <= t <
 * numTimesteps()}); the model is always called with the ORIGINAL timesteps {@link #timestepMap()}{@code [t]}.
 * As in the reference, each float64 coefficient is rounded to float32 before it multiplies a float32 tensor.
 */
public final class GaussianDiffusion {
    static {
        GlideBackend.init();
    }

    private final double[] baseBetas;
    private final int[] timestepMap;
    private final VarianceType varianceType;

    private final double[] betas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] alphasCumprodNext;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] logOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final double[] logBetas;
    private final double[] fixedLargeVariance;
    private final double[] fixedLargeLogVariance;

    private GaussianDiffusion(double[] baseBetas, int[] useTimesteps, VarianceType varianceType) {
        checkBetas(baseBetas, "base betas");
        this.baseBetas = baseBetas.clone();
        this.varianceType = Objects.requireNonNull(varianceType, "varianceType");
        double[] baseCumprod = cumprodOneMinus(baseBetas);
        // SpacedDiffusion: new betas over the kept steps, alphas_cumprod recomputed (not copied) by cumprod
        double[] spaced = new double[useTimesteps.length];
        double last = 1.0;
        for (int k = 0; k < useTimesteps.length; k++) {
            double ac = baseCumprod[useTimesteps[k]];
            spaced[k] = 1 - ac / last;
            last = ac;
        }
        this.timestepMap = useTimesteps.clone();
        checkBetas(spaced, "respaced betas");
        this.betas = spaced;

        int n = spaced.length;
        alphasCumprod = cumprodOneMinus(spaced);
        alphasCumprodPrev = new double[n];
        alphasCumprodNext = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        logOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        logBetas = new double[n];
        fixedLargeVariance = new double[n];
        fixedLargeLogVariance = new double[n];
        for (int i = 0; i < n; i++) {
            double b = spaced[i];
            double ac = alphasCumprod[i];
            double acPrev = i == 0 ? 1.0 : alphasCumprod[i - 1];
            alphasCumprodPrev[i] = acPrev;
            alphasCumprodNext[i] = i == n - 1 ? 0.0 : alphasCumprod[i + 1];
            sqrtAlphasCumprod[i] = Math.sqrt(ac);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1.0 - ac);
            logOneMinusAlphasCumprod[i] = Math.log(1.0 - ac);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / ac - 1);
            posteriorVariance[i] = b * (1.0 - acPrev) / (1.0 - ac);
            posteriorMeanCoef1[i] = b * Math.sqrt(acPrev) / (1.0 - ac);
            posteriorMeanCoef2[i] = (1.0 - acPrev) * Math.sqrt(1.0 - b) / (1.0 - ac);
            logBetas[i] = Math.log(b);
        }
        for (int i = 0; i < n; i++) {
            // posterior variance is 0 at t = 0: the reference uses the value at t = 1 there. A 1-step process has no
            // t = 1 (the reference fails); beta is the natural stand-in.
            double pv = i > 0 ? posteriorVariance[i] : n > 1 ? posteriorVariance[1] : betas[0];
            posteriorLogVarianceClipped[i] = Math.log(pv);
            fixedLargeVariance[i] = i > 0 ? betas[i] : pv;
            fixedLargeLogVariance[i] = Math.log(fixedLargeVariance[i]);
        }
    }

    /** An un-respaced process with the given betas. */
    public static GaussianDiffusion fromBetas(double[] betas, VarianceType varianceType) {
        int[] all = new int[betas.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return new GaussianDiffusion(betas, all, varianceType);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** This process's base (un-respaced) process respaced with a glide respacing string ("50", "ddim25", "fast27"). */
    public GaussianDiffusion respaced(String respacing) {
        return new GaussianDiffusion(baseBetas, TimestepRespacing.spaceTimesteps(baseBetas.length, respacing),
                varianceType);
    }

    /** This process's base process with another variance type. */
    public GaussianDiffusion withVarianceType(VarianceType type) {
        return new GaussianDiffusion(baseBetas, timestepMap, type);
    }

    // ------------------------------------------------------------------ coefficients

    /** Number of (respaced) steps of this process. */
    public int numTimesteps() {
        return betas.length;
    }

    /** Number of steps of the original process the model was trained on. */
    public int originalNumTimesteps() {
        return baseBetas.length;
    }

    /** Original timestep for each respaced index (ascending). */
    public int[] timestepMap() {
        return timestepMap.clone();
    }

    /** The original timestep the model receives at respaced index {@code t}. */
    public int modelTimestep(int t) {
        return timestepMap[checkT(t)];
    }

    public VarianceType varianceType() {
        return varianceType;
    }

    public double[] baseBetas() {
        return baseBetas.clone();
    }

    public double[] betas() {
        return betas.clone();
    }

    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    public double[] alphasCumprodPrev() {
        return alphasCumprodPrev.clone();
    }

    public double[] alphasCumprodNext() {
        return alphasCumprodNext.clone();
    }

    public double[] sqrtAlphasCumprod() {
        return sqrtAlphasCumprod.clone();
    }

    public double[] sqrtOneMinusAlphasCumprod() {
        return sqrtOneMinusAlphasCumprod.clone();
    }

    public double[] logOneMinusAlphasCumprod() {
        return logOneMinusAlphasCumprod.clone();
    }

    public double[] sqrtRecipAlphasCumprod() {
        return sqrtRecipAlphasCumprod.clone();
    }

    public double[] sqrtRecipm1AlphasCumprod() {
        return sqrtRecipm1AlphasCumprod.clone();
    }

    public double[] posteriorVariance() {
        return posteriorVariance.clone();
    }

    public double[] posteriorLogVarianceClipped() {
        return posteriorLogVarianceClipped.clone();
    }

    public double[] posteriorMeanCoef1() {
        return posteriorMeanCoef1.clone();
    }

    public double[] posteriorMeanCoef2() {
        return posteriorMeanCoef2.clone();
    }

    public double[] logBetas() {
        return logBetas.clone();
    }

    /** log of FIXED_LARGE's variance: beta, with the posterior variance at t = 1 in place of t = 0. */
    public double[] fixedLargeLogVariance() {
        return fixedLargeLogVariance.clone();
    }

    /** alphas_cumprod at respaced index t (float64). */
    public double alphaCumprod(int t) {
        return alphasCumprod[checkT(t)];
    }

    /** alphas_cumprod_prev at respaced index t (1.0 at t = 0). */
    public double alphaCumprodPrev(int t) {
        return alphasCumprodPrev[checkT(t)];
    }

    // ------------------------------------------------------------------ tensor math

    /** int64 {@code [N]} original timesteps for respaced per-row indices t. */
    public INDArray modelTimesteps(int[] t) {
        long[] v = new long[t.length];
        for (int i = 0; i < t.length; i++) {
            v[i] = timestepMap[checkT(t[i])];
        }
        return Nd4j.createFromArray(v);
    }

    /** Respaced index t for every one of n rows. */
    public static int[] fill(int t, int n) {
        int[] a = new int[n];
        Arrays.fill(a, t);
        return a;
    }

    /** Calls the model with the original timesteps and checks the shape of what it returns. */
    public INDArray callModel(DiffusionModel model, INDArray x, int[] t) {
        INDArray out = model.predict(x, modelTimesteps(checkRows(x, t)));
        checkModelOutput(out, x);
        return out;
    }

    /** Diffuses x_0 to x_t: {@code sqrt(ab) * x0 + sqrt(1 - ab) * noise}. */
    public INDArray qSample(INDArray xStart, int[] t, INDArray noise) {
        BatchOps.requireFloatBatch(xStart, "x_start");
        checkSameShape(noise, xStart, "noise");
        checkRows(xStart, t);
        int r = xStart.rank();
        return xStart.mul(BatchOps.column(sqrtAlphasCumprod, t, r))
                .add(noise.mul(BatchOps.column(sqrtOneMinusAlphasCumprod, t, r)));
    }

    /** q(x_{t-1} | x_t, x_0). */
    public Posterior qPosterior(INDArray xStart, INDArray xT, int[] t) {
        checkSameShape(xStart, xT, "x_start");
        checkRows(xT, t);
        int r = xT.rank();
        INDArray mean = xStart.mul(BatchOps.column(posteriorMeanCoef1, t, r))
                .add(xT.mul(BatchOps.column(posteriorMeanCoef2, t, r)));
        INDArray variance = full(xT, BatchOps.column(posteriorVariance, t, r));
        INDArray logVar = full(xT, BatchOps.column(posteriorLogVarianceClipped, t, r));
        return new Posterior(mean, variance, logVar);
    }

    /** {@code sqrt(1/ab) * x_t - sqrt(1/ab - 1) * eps}. */
    public INDArray predictXStartFromEps(INDArray xT, int[] t, INDArray eps) {
        checkSameShape(eps, xT, "eps");
        int r = xT.rank();
        return xT.mul(BatchOps.column(sqrtRecipAlphasCumprod, checkRows(xT, t), r))
                .sub(eps.mul(BatchOps.column(sqrtRecipm1AlphasCumprod, t, r)));
    }

    /** {@code (sqrt(1/ab) * x_t - x0) / sqrt(1/ab - 1)}. */
    public INDArray predictEpsFromXStart(INDArray xT, int[] t, INDArray predXStart) {
        checkSameShape(predXStart, xT, "pred_xstart");
        int r = xT.rank();
        return xT.mul(BatchOps.column(sqrtRecipAlphasCumprod, checkRows(xT, t), r)).sub(predXStart)
                .div(BatchOps.column(sqrtRecipm1AlphasCumprod, t, r));
    }

    /**
     * The eps channels of a model output: the first C channels of a C- or 2C-channel output.
     *
     * @throws IllegalArgumentException when the output's shape is not {@code [N, C or 2C, ...]}
     */
    public static INDArray epsChannels(INDArray modelOutput, INDArray x) {
        checkModelOutput(modelOutput, x);
        long c = x.size(1);
        return modelOutput.size(1) == c ? modelOutput : BatchOps.channels(modelOutput, 0, c);
    }

    /**
     * The x_0 prediction of an eps model output: {@code denoisedFn} (if any), then the clamp to [-1, 1] when
     * {@code clip} (both before anything else uses it, as in the reference).
     */
    public INDArray predictXStart(INDArray modelOutput, INDArray x, int[] t, boolean clip,
                                  UnaryOperator<INDArray> denoisedFn) {
        INDArray eps = epsChannels(modelOutput, x);
        return processXStart(predictXStartFromEps(x, t, eps), clip, denoisedFn);
    }

    /**
     * improved-diffusion's {@code p_mean_variance} from a model output already computed for (x, t).
     *
     * @param modelOutput {@code [N, 2C, ...]} for learned variances, {@code [N, C, ...]} (or 2C, extra channels
     *                    ignored) for fixed ones
     * @param clip        clamp the x_0 prediction to [-1, 1] before the posterior mean
     * @param denoisedFn  optional hook applied to the x_0 prediction before the clamp
     */
    public MeanVariance pMeanVariance(INDArray modelOutput, INDArray x, int[] t, boolean clip,
                                      UnaryOperator<INDArray> denoisedFn) {
        BatchOps.requireFloatBatch(x, "x");
        checkModelOutput(modelOutput, x);
        checkRows(x, t);
        long c = x.size(1);
        int r = x.rank();
        INDArray eps;
        INDArray logVar;
        INDArray variance;
        if (varianceType.learned()) {
            if (modelOutput.size(1) != 2 * c) {
                throw new IllegalArgumentException("variance type " + varianceType + " needs a model output with 2*"
                        + c + " channels [eps, variance values], got shape " + Arrays.toString(modelOutput.shape())
                        + "; use VarianceType.FIXED_SMALL or FIXED_LARGE for an eps-only model");
            }
            eps = BatchOps.channels(modelOutput, 0, c);
            INDArray v = BatchOps.channels(modelOutput, c, 2 * c);
            if (varianceType == VarianceType.LEARNED_RANGE) {
                INDArray minLog = BatchOps.column(posteriorLogVarianceClipped, t, r);
                INDArray maxLog = BatchOps.column(logBetas, t, r);
                INDArray frac = v.add(1.0).divi(2.0);
                logVar = frac.mul(maxLog).addi(frac.rsub(1.0).muli(minLog));
            } else {
                logVar = v.dup();
            }
            variance = Transforms.exp(logVar, true);
        } else {
            eps = modelOutput.size(1) == c ? modelOutput : BatchOps.channels(modelOutput, 0, c);
            boolean large = varianceType == VarianceType.FIXED_LARGE;
            variance = full(x, BatchOps.column(large ? fixedLargeVariance : posteriorVariance, t, r));
            logVar = full(x, BatchOps.column(large ? fixedLargeLogVariance : posteriorLogVarianceClipped, t, r));
        }
        INDArray predXStart = processXStart(predictXStartFromEps(x, t, eps), clip, denoisedFn);
        INDArray mean = qPosterior(predXStart, x, t).mean();
        return new MeanVariance(mean, variance, logVar, predXStart, eps);
    }

    /** Calls the model (original timesteps) and returns {@link #pMeanVariance(INDArray, INDArray, int[], boolean, UnaryOperator)}. */
    public MeanVariance pMeanVariance(DiffusionModel model, INDArray x, int[] t, boolean clip,
                                      UnaryOperator<INDArray> denoisedFn) {
        return pMeanVariance(callModel(model, x, t), x, t, clip, denoisedFn);
    }

    /**
     * Sohl-Dickstein et al.'s conditioning ({@code condition_mean}): {@code mean + variance * grad}; the gradient
     * function receives original timesteps.
     */
    public INDArray conditionMean(GradientFunction condFn, MeanVariance pmv, INDArray x, int[] t) {
        INDArray grad = condFn.gradient(x, modelTimesteps(checkRows(x, t)));
        checkSameShape(grad, x, "cond_fn gradient");
        return pmv.mean().add(pmv.variance().mul(grad));
    }

    /**
     * Song et al.'s score conditioning ({@code condition_score}): {@code eps -= sqrt(1 - ab) * grad}, then x_0 and
     * the mean are recomputed from the new eps (no clamp, as in the reference).
     */
    public MeanVariance conditionScore(GradientFunction condFn, MeanVariance pmv, INDArray x, int[] t) {
        INDArray eps = conditionedEps(condFn, pmv.predXStart(), x, t);
        INDArray predXStart = predictXStartFromEps(x, t, eps);
        INDArray mean = qPosterior(predXStart, x, t).mean();
        return new MeanVariance(mean, pmv.variance(), pmv.logVariance(), predXStart, eps);
    }

    /** The eps of {@link #conditionScore}: {@code eps(x, x0) - sqrt(1 - ab) * grad}. */
    public INDArray conditionedEps(GradientFunction condFn, INDArray predXStart, INDArray x, int[] t) {
        int r = x.rank();
        INDArray grad = condFn.gradient(x, modelTimesteps(checkRows(x, t)));
        checkSameShape(grad, x, "cond_fn gradient");
        INDArray alphaBar = BatchOps.column(alphasCumprod, t, r);
        return predictEpsFromXStart(x, t, predXStart).sub(grad.mul(Transforms.sqrt(alphaBar.rsub(1.0), false)));
    }

    // ------------------------------------------------------------------ helpers

    private static INDArray processXStart(INDArray x0, boolean clip, UnaryOperator<INDArray> denoisedFn) {
        INDArray out = x0;
        if (denoisedFn != null) {
            out = denoisedFn.apply(out);
            checkSameShape(out, x0, "denoised_fn result");
        }
        return clip ? BatchOps.clamp(out, -1, 1) : out;
    }

    private static INDArray full(INDArray like, INDArray column) {
        return Nd4j.zeros(like.dataType(), like.shape()).addi(column);
    }

    /** Checks a model output is {@code [N, C or 2C, ...]} for x {@code [N, C, ...]}. */
    public static void checkModelOutput(INDArray out, INDArray x) {
        if (out == null) {
            throw new IllegalArgumentException("model returned null");
        }
        long[] os = out.shape();
        long[] xs = x.shape();
        boolean ok = os.length == xs.length && os[0] == xs[0] && (os[1] == xs[1] || os[1] == 2 * xs[1]);
        for (int i = 2; ok && i < xs.length; i++) {
            ok = os[i] == xs[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("model output shape " + Arrays.toString(os) + " does not fit input "
                    + Arrays.toString(xs) + ": expected [N, C or 2C, ...] = [" + xs[0] + ", " + xs[1] + " or "
                    + 2 * xs[1] + ", ...]");
        }
        if (out.dataType() != x.dataType()) {
            throw new IllegalArgumentException("model output is " + out.dataType() + ", expected " + x.dataType());
        }
    }

    private static void checkSameShape(INDArray a, INDArray like, String what) {
        if (a == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (!Arrays.equals(a.shape(), like.shape())) {
            throw new IllegalArgumentException(what + " has shape " + Arrays.toString(a.shape()) + ", expected "
                    + Arrays.toString(like.shape()));
        }
    }

    private int[] checkRows(INDArray x, int[] t) {
        if (t.length != x.size(0)) {
            throw new IllegalArgumentException("got " + t.length + " timesteps for a batch of " + x.size(0));
        }
        for (int ti : t) {
            checkT(ti);
        }
        return t;
    }

    private int checkT(int t) {
        if (t < 0 || t >= betas.length) {
            throw new IllegalArgumentException("timestep index " + t + " out of range [0, " + betas.length
                    + ") of this " + (betas.length == baseBetas.length ? "" : "respaced ") + "process");
        }
        return t;
    }

    private static double[] cumprodOneMinus(double[] betas) {
        double[] out = new double[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= 1.0 - betas[i];
            out[i] = acc;
        }
        return out;
    }

    private static void checkBetas(double[] betas, String what) {
        if (betas == null || betas.length == 0) {
            throw new IllegalArgumentException(what + ": need at least one beta");
        }
        for (int i = 0; i < betas.length; i++) {
            if (!(betas[i] > 0 && betas[i] <= 1)) {
                throw new IllegalArgumentException(what + "[" + i + "] = " + betas[i] + " is outside (0, 1]"
                        + (what.startsWith("respaced") ? "" : " (the linear schedule needs at least 20 steps)"));
            }
        }
    }

    @Override
    public String toString() {
        return "GaussianDiffusion[" + betas.length + " of " + baseBetas.length + " steps, " + varianceType + "]";
    }

    /** Fluent, validated configuration of a (respaced) process. */
    public static final class Builder {
        private NoiseSchedule schedule;
        private double[] betas;
        private int steps = 1000;
        private String respacing = "";
        private VarianceType varianceType = VarianceType.LEARNED_RANGE;

        private Builder() {
        }

        /** A named schedule (default: none; either a schedule or explicit betas is required). */
        public Builder schedule(NoiseSchedule schedule) {
            this.schedule = Objects.requireNonNull(schedule, "schedule");
            return this;
        }

        /** A schedule by glide name ("linear", "squaredcos_cap_v2"). */
        public Builder schedule(String name) {
            return schedule(NoiseSchedule.named(name));
        }

        /** Explicit base betas instead of a named schedule. */
        public Builder betas(double[] betas) {
            this.betas = Objects.requireNonNull(betas, "betas").clone();
            return this;
        }

        /** Steps of the original process (glide's diffusion_steps, default 1000). */
        public Builder steps(int steps) {
            this.steps = steps;
            return this;
        }

        /** glide's timestep_respacing ("" keeps every step; "100", "ddim50", "fast27", "10,10,3,2,2"). */
        public Builder respacing(String respacing) {
            this.respacing = respacing == null ? "" : respacing;
            return this;
        }

        /** Default LEARNED_RANGE (GLIDE). */
        public Builder varianceType(VarianceType varianceType) {
            this.varianceType = Objects.requireNonNull(varianceType, "varianceType");
            return this;
        }

        public GaussianDiffusion build() {
            if ((schedule == null) == (betas == null)) {
                throw new IllegalStateException("GaussianDiffusion.builder(): set exactly one of schedule(...) or betas(...)");
            }
            double[] base;
            if (betas != null) {
                base = betas;
            } else {
                if (steps < 1) {
                    throw new IllegalArgumentException("diffusion steps must be >= 1, got " + steps);
                }
                base = schedule.betas(steps);
            }
            return new GaussianDiffusion(base, TimestepRespacing.spaceTimesteps(base.length, respacing), varianceType);
        }
    }
}
