package io.github.glidejava.diffusion.sampling;

/** Called after every sampling step; return false to cancel the run (it then throws {@link SamplingCancelledException}). */
@FunctionalInterface
public interface StepCallback {
    boolean onStep(StepInfo info);
}
