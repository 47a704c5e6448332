package io.github.glidejava.diffusion.loss;

import java.util.Locale;

/** improved-diffusion's LossType. */
public enum LossType {
    /** eps MSE (+ the variational bound term in bits when the variance is learned). */
    MSE,
    /** MSE with the vb term scaled by num_timesteps / 1000 (GLIDE / improved-diffusion's hybrid loss). */
    RESCALED_MSE,
    /** The variational bound term alone (bits). */
    KL,
    /** KL times num_timesteps. */
    RESCALED_KL;

    public boolean isKl() {
        return this == KL || this == RESCALED_KL;
    }

    /** By improved-diffusion name ("MSE", "RESCALED_MSE", "KL", "RESCALED_KL"), case-insensitive. */
    public static LossType named(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("unknown loss type '" + name + "'; expected MSE, RESCALED_MSE, KL or RESCALED_KL");
        }
    }
}
