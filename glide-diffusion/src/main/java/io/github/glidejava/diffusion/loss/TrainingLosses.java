package io.github.glidejava.diffusion.loss;

import java.util.Objects;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.diffusion.BatchOps;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.MeanVariance;
import io.github.glidejava.diffusion.Posterior;

/**
 * improved-diffusion's {@code training_losses} for eps-prediction models (GLIDE's setting: EPSILON mean,
 * LEARNED_RANGE variance, no timestep rescaling), evaluated eagerly in float32. MSE / RESCALED_MSE add the vb
 * term when the variance is learned (in the reference it gets gradients only through the variance channels; the
 * values are identical); KL / RESCALED_KL use the vb term alone. vb terms are in bits, and at t == 0 the decoder
 * NLL replaces the KL.
 */
public final class TrainingLosses {
    private final GaussianDiffusion diffusion;
    private final LossType lossType;

    public TrainingLosses(GaussianDiffusion diffusion, LossType lossType) {
        this.diffusion = Objects.requireNonNull(diffusion, "diffusion");
        this.lossType = Objects.requireNonNull(lossType, "lossType");
    }

    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    public LossType lossType() {
        return lossType;
    }

    /**
     * The losses for x_0 diffused to respaced timesteps t with the given noise.
     *
     * @param xStart {@code [N, C, ...]} float32 data in [-1, 1]
     * @param t      per-row timestep indices of {@link #diffusion()}
     * @param noise  N(0, 1) noise of x's shape (e.g. from a {@link io.github.glidejava.diffusion.NoiseSource})
     */
    public LossTerms compute(DiffusionModel model, INDArray xStart, int[] t, INDArray noise) {
        BatchOps.requireFloatBatch(xStart, "x_start");
        INDArray xT = diffusion.qSample(xStart, t, noise);
        INDArray out = diffusion.callModel(model, xT, t);
        if (lossType.isKl()) {
            VbTerms vb = vbTerms(out, xStart, xT, t, false);
            INDArray loss = lossType == LossType.RESCALED_KL ? vb.output().mul(diffusion.numTimesteps()) : vb.output();
            return new LossTerms(loss, null, null, xT, out, vb);
        }
        VbTerms vbTerms = null;
        INDArray vb = null;
        if (diffusion.varianceType().learned()) {
            vbTerms = vbTerms(out, xStart, xT, t, false);
            vb = vbTerms.output();
            if (lossType == LossType.RESCALED_MSE) {
                vb = vb.mul(diffusion.numTimesteps() / 1000.0);
            }
        }
        INDArray eps = GaussianDiffusion.epsChannels(out, xT);
        INDArray diff = noise.sub(eps);
        INDArray mse = GaussianLosses.meanFlat(diff.muli(diff));
        INDArray loss = vb == null ? mse : mse.add(vb);
        return new LossTerms(loss, mse, vb, xT, out, vbTerms);
    }

    /** {@link #compute} with int64 {@code [N]} timesteps. */
    public LossTerms compute(DiffusionModel model, INDArray xStart, INDArray t, INDArray noise) {
        return compute(model, xStart, toInts(t), noise);
    }

    /** {@code _vb_terms_bpd} from a model output already computed for (x_t, t). */
    public VbTerms vbTerms(INDArray modelOutput, INDArray xStart, INDArray xT, int[] t, boolean clipDenoised) {
        Posterior q = diffusion.qPosterior(xStart, xT, t);
        MeanVariance p = diffusion.pMeanVariance(modelOutput, xT, t, clipDenoised, null);
        INDArray kl = GaussianLosses.meanFlat(
                GaussianLosses.normalKl(q.mean(), q.logVarianceClipped(), p.mean(), p.logVariance()))
                .divi(GaussianLosses.LN2);
        INDArray nll = GaussianLosses.meanFlat(GaussianLosses.discretizedGaussianLogLikelihood(
                xStart, p.mean(), p.logVariance().mul(0.5)).negi()).divi(GaussianLosses.LN2);
        float[] klv = kl.dup().data().asFloat();
        float[] nllv = nll.dup().data().asFloat();
        float[] outv = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            outv[i] = t[i] == 0 ? nllv[i] : klv[i];
        }
        return new VbTerms(Nd4j.createFromArray(outv), kl, nll, q.mean(), q.logVarianceClipped(), p.mean(),
                p.logVariance(), p.predXStart());
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
