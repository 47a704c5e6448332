package io.github.glidejava.diffusion;

/** How the reverse-process variance is obtained (improved-diffusion's ModelVarType). */
public enum VarianceType {
    /**
     * The model outputs 2C channels {@code [eps, v]}; {@code v} in [-1, 1] interpolates the log variance between the
     * posterior variance (v = -1) and beta (v = 1). GLIDE's models.
     */
    LEARNED_RANGE,
    /** The model outputs 2C channels {@code [eps, log variance]}. */
    LEARNED,
    /** C-channel eps model, variance = the posterior variance (beta-tilde). */
    FIXED_SMALL,
    /** C-channel eps model, variance = beta (with beta-tilde at t = 0 for a finite log). */
    FIXED_LARGE;

    /** True when the model output carries variance channels (2C channels). */
    public boolean learned() {
        return this == LEARNED_RANGE || this == LEARNED;
    }
}
