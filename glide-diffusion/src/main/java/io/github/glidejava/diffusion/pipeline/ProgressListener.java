package io.github.glidejava.diffusion.pipeline;

/**
 * Progress of a pipeline call, reported after every sampling step on the calling thread (e.g. to drive a progress
 * bar). Batches run one after the other, each through the base stage and then the upsampling stage.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (stage, step, numSteps, batch, numBatches) -> { };

    /**
     * @param step       steps done in this stage and batch, 1..numSteps
     * @param batch      0-based batch index
     * @param numBatches batches in this call ({@code ceil(imagesPerPrompt / batchSize)})
     */
    void onStep(PipelineStage stage, int step, int numSteps, int batch, int numBatches);
}
