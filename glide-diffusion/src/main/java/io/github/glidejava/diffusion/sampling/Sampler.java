package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;

/**
 * A sampler ("scheduler" in diffusers): a list of timesteps and a {@link #step} that moves x from one timestep to
 * the next given the model's output there. {@link SamplingLoop} drives it. The timesteps are the respaced indices
 * of {@link #diffusion()} from noisiest to cleanest, so the step count is chosen by the diffusion's respacing
 * (e.g. {@code diffusion.respaced("50")}); the model is called with {@code diffusion().modelTimestep(t)}.
 *
 * <p>Multistep samplers keep state between steps: one run at a time per instance, steps in order (step 0 starts a
 * new run).
 */
public interface Sampler {
    GaussianDiffusion diffusion();

    /** Respaced timestep indices in the order they are visited (descending). */
    int[] timesteps();

    default int numSteps() {
        return timesteps().length;
    }

    /**
     * One step from {@code x} at {@code timesteps()[stepIndex]} to the next timestep (or to the clean sample after
     * the last step).
     *
     * @param modelOutput the model's output for (x, the original timestep): {@code [N, C or 2C, ...]}
     * @param noise       the noise source for stochastic samplers (they draw once per step)
     */
    StepOutput step(INDArray modelOutput, int stepIndex, INDArray x, NoiseSource noise);

    /** A short name for logs ("ddpm", "ddim", ...). */
    String name();
}
