package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Progress of a sampling run, passed to a {@link StepCallback} after each step.
 *
 * @param stepIndex     0-based index of the step just taken
 * @param numSteps      total steps of the run
 * @param timestep      respaced timestep index the step started from
 * @param modelTimestep original timestep the model saw
 * @param sample        x after the step (do not modify)
 * @param predXStart    the step's x_0 prediction (do not modify)
 */
public record StepInfo(int stepIndex, int numSteps, int timestep, int modelTimestep, INDArray sample,
                       INDArray predXStart) {
}
