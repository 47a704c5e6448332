package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one sampler step returns.
 *
 * @param sample     x at the next (less noisy) timestep; after the last step, the final sample
 * @param predXStart the x_0 prediction used by the step (clipped when the sampler clips)
 */
public record StepOutput(INDArray sample, INDArray predXStart) {
}
