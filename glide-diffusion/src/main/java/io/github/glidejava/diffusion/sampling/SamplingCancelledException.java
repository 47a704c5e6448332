package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

/** A sampling run was cancelled; carries the partial result. */
public final class SamplingCancelledException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient INDArray partialSample;
    private final transient INDArray lastPredXStart;
    private final int stepsCompleted;

    public SamplingCancelledException(int stepsCompleted, int numSteps, INDArray partialSample,
                                      INDArray lastPredXStart) {
        super("sampling cancelled after " + stepsCompleted + " of " + numSteps + " steps");
        this.stepsCompleted = stepsCompleted;
        this.partialSample = partialSample;
        this.lastPredXStart = lastPredXStart;
    }

    public int stepsCompleted() {
        return stepsCompleted;
    }

    /** x after the last completed step (x_T when none completed). */
    public INDArray partialSample() {
        return partialSample;
    }

    /** x_0 prediction of the last completed step, null when none completed. */
    public INDArray lastPredXStart() {
        return lastPredXStart;
    }
}
