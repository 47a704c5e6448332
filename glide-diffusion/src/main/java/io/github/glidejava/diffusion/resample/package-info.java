/**
 * improved-diffusion's timestep samplers for training ({@code resample.py}): {@link
 * io.github.glidejava.diffusion.resample.UniformSampler} and the loss-aware {@link
 * io.github.glidejava.diffusion.resample.LossSecondMomentResampler}, which draws timesteps with probability
 * proportional to the root mean square of their recent losses and returns the importance weights that keep the
 * weighted loss unbiased. Draws come from a seeded generator whose state can be saved and restored for resuming.
 */
package io.github.glidejava.diffusion.resample;
