package io.github.glidejava.diffusion.sampling;

import java.util.Objects;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.diffusion.BatchOps;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;

/** The sampling loop: a short loop over {@link Sampler#step}, calling the model with the original timesteps. */
public final class SamplingLoop {
    static {
        GlideBackend.init();
    }

    private SamplingLoop() {
    }

    /** Samples from x_T = {@code noise.next(shape)}. */
    public static INDArray sample(Sampler sampler, DiffusionModel model, long[] shape, NoiseSource noise) {
        return sample(sampler, model, noise.next(shape), noise, null, null);
    }

    /** Samples from the given x_T. */
    public static INDArray sample(Sampler sampler, DiffusionModel model, INDArray xT, NoiseSource noise) {
        return sample(sampler, model, xT, noise, null, null);
    }

    /**
     * Samples from the given x_T.
     *
     * @param callback called after every step (may be null); returning false cancels
     * @param cancel   checked before every step (may be null)
     * @throws SamplingCancelledException when cancelled, with the partial result
     */
    public static INDArray sample(Sampler sampler, DiffusionModel model, INDArray xT, NoiseSource noise,
                                  StepCallback callback, CancellationToken cancel) {
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(noise, "noise");
        BatchOps.requireFloatBatch(xT, "x_T");
        GaussianDiffusion diffusion = sampler.diffusion();
        int[] timesteps = sampler.timesteps();
        int n = (int) xT.size(0);
        INDArray x = xT;
        INDArray predXStart = null;
        for (int i = 0; i < timesteps.length; i++) {
            if (cancel != null && cancel.isCancelled()) {
                throw new SamplingCancelledException(i, timesteps.length, x, predXStart);
            }
            int t = timesteps[i];
            INDArray out = diffusion.callModel(model, x, GaussianDiffusion.fill(t, n));
            StepOutput step = sampler.step(out, i, x, noise);
            x = step.sample();
            predXStart = step.predXStart();
            if (callback != null && !callback.onStep(new StepInfo(i, timesteps.length, t,
                    diffusion.modelTimestep(t), x, predXStart))) {
                throw new SamplingCancelledException(i + 1, timesteps.length, x, predXStart);
            }
        }
        return x;
    }
}
