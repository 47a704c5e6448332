package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.diffusion.BatchOps;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.MeanVariance;
import io.github.glidejava.diffusion.NoiseSource;

/**
 * Ancestral sampling ({@code p_sample}): {@code x_{t-1} = mean + exp(log_var / 2) * z}. The variance is the
 * model's learned range or the diffusion's fixed variance ({@link io.github.glidejava.diffusion.VarianceType}).
 * Noise is drawn at EVERY step, including the last where it is masked out, so recorded noise replays exactly.
 */
public final class DdpmSampler extends AbstractSampler {
    public DdpmSampler(GaussianDiffusion diffusion, SamplerOptions options) {
        super(diffusion, options);
    }

    public DdpmSampler(GaussianDiffusion diffusion) {
        this(diffusion, SamplerOptions.defaults());
    }

    @Override
    public String name() {
        return "ddpm";
    }

    @Override
    public StepOutput step(INDArray modelOutput, int stepIndex, INDArray x, NoiseSource noise) {
        int t = timestepAt(stepIndex);
        int n = (int) x.size(0);
        int[] ts = GaussianDiffusion.fill(t, n);
        MeanVariance mv = diffusion.pMeanVariance(modelOutput, x, ts, options.clipDenoised(), options.denoisedFn());
        INDArray z = noise.next(x.shape());
        INDArray mean = options.condFn() == null ? mv.mean() : diffusion.conditionMean(options.condFn(), mv, x, ts);
        INDArray nonzeroMask = BatchOps.column(t != 0 ? 1f : 0f, n, x.rank());
        INDArray sample = mean.add(Transforms.exp(mv.logVariance().mul(0.5), false).muli(nonzeroMask).muli(z));
        return new StepOutput(sample, mv.predXStart());
    }
}
