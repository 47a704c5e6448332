package io.github.glidejava.diffusion.pipeline;

import io.github.glidejava.diffusion.sampling.StepInfo;

/**
 * Called after every sampling step with the step's tensors (the sample and the x_0 prediction; do not modify them),
 * e.g. to preview intermediate images. Returning false cancels the call, which then throws
 * {@link io.github.glidejava.diffusion.sampling.SamplingCancelledException}. For guided base sampling the batch
 * holds the conditional rows followed by the unconditional ones; only the first half are the images.
 */
@FunctionalInterface
public interface PipelineStepCallback {
    boolean onStep(PipelineStage stage, int batch, StepInfo step);
}
