package io.github.glidejava.diffusion.sampling;

import java.util.Objects;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.diffusion.BatchOps;
import io.github.glidejava.diffusion.GaussianDiffusion;

/** Shared state and helpers: the diffusion, options, the descending timestep list, x_0 prediction. */
abstract class AbstractSampler implements Sampler {
    static {
        GlideBackend.init();
    }

    final GaussianDiffusion diffusion;
    final SamplerOptions options;
    final int[] timesteps;

    AbstractSampler(GaussianDiffusion diffusion, SamplerOptions options) {
        this.diffusion = Objects.requireNonNull(diffusion, "diffusion");
        this.options = Objects.requireNonNull(options, "options");
        int n = diffusion.numTimesteps();
        timesteps = new int[n];
        for (int i = 0; i < n; i++) {
            timesteps[i] = n - 1 - i;
        }
    }

    @Override
    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    @Override
    public int[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public int numSteps() {
        return timesteps.length;
    }

    /** Respaced t of a step, with a clear error for an index out of range. */
    int timestepAt(int stepIndex) {
        if (stepIndex < 0 || stepIndex >= timesteps.length) {
            throw new IllegalArgumentException(name() + ": step index " + stepIndex + " out of range [0, "
                    + timesteps.length + ")");
        }
        return timesteps[stepIndex];
    }

    /** The x_0 prediction (denoised hook, clamp, then score conditioning when a condFn is set). */
    INDArray predictXStart(INDArray modelOutput, INDArray x, int[] ts) {
        BatchOps.requireFloatBatch(x, "x");
        INDArray x0 = diffusion.predictXStart(modelOutput, x, ts, options.clipDenoised(), options.denoisedFn());
        if (options.condFn() != null) {
            INDArray eps = diffusion.conditionedEps(options.condFn(), x0, x, ts);
            x0 = diffusion.predictXStartFromEps(x, ts, eps);
        }
        return x0;
    }

    static float fsqrt(float v) {
        return (float) Math.sqrt(v); // correctly rounded float32 sqrt
    }

    @Override
    public String toString() {
        return name() + "[" + timesteps.length + " steps, " + diffusion + "]";
    }
}
