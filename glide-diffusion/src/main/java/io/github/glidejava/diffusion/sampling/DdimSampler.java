package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.BatchOps;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;

/**
 * DDIM ({@code ddim_sample}, Song et al. eq. 12): eps is re-derived from the (clipped) x_0 prediction,
 * {@code x_prev = x0 sqrt(ab_prev) + sqrt(1 - ab_prev - sigma^2) eps + sigma z} with
 * {@code sigma = eta sqrt((1 - ab_prev)/(1 - ab)) sqrt(1 - ab/ab_prev)}. eta = 0 (default) is deterministic; noise
 * is still drawn every step, as in the reference, and multiplied by 0. Works with C- or 2C-channel models.
 */
public final class DdimSampler extends AbstractSampler {
    private final double eta;

    public DdimSampler(GaussianDiffusion diffusion, SamplerOptions options) {
        super(diffusion, options);
        this.eta = options.etaOr(0.0);
    }

    public DdimSampler(GaussianDiffusion diffusion) {
        this(diffusion, SamplerOptions.defaults());
    }

    public double eta() {
        return eta;
    }

    @Override
    public String name() {
        return "ddim";
    }

    @Override
    public StepOutput step(INDArray modelOutput, int stepIndex, INDArray x, NoiseSource noise) {
        int t = timestepAt(stepIndex);
        int n = (int) x.size(0);
        int r = x.rank();
        int[] ts = GaussianDiffusion.fill(t, n);
        INDArray x0 = predictXStart(modelOutput, x, ts);
        INDArray eps = diffusion.predictEpsFromXStart(x, ts, x0);
        // float32 scalar arithmetic in the reference's order
        float ab = (float) diffusion.alphaCumprod(t);
        float abPrev = (float) diffusion.alphaCumprodPrev(t);
        float sigma = (float) eta * fsqrt((1f - abPrev) / (1f - ab)) * fsqrt(1f - ab / abPrev);
        INDArray z = noise.next(x.shape());
        // 1 - ab_prev - sigma^2 >= 0 exactly, but with eta near 1 and ab near 0 float32 can round it below zero,
        // where the reference's sqrt gives NaN; its true value there is ~0
        float epsScale = fsqrt(Math.max(0f, 1f - abPrev - sigma * sigma));
        INDArray meanPred = x0.mul(BatchOps.column(fsqrt(abPrev), n, r))
                .addi(eps.mul(BatchOps.column(epsScale, n, r)));
        float noiseScale = (t != 0 ? 1f : 0f) * sigma;
        INDArray sample = meanPred.add(z.mul(BatchOps.column(noiseScale, n, r)));
        return new StepOutput(sample, x0);
    }
}
