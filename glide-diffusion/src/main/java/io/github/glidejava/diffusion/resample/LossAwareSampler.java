package io.github.glidejava.diffusion.resample;

/**
 * A sampler whose weights follow the training losses (improved-diffusion's {@code LossAwareSampler}). With one
 * process, {@code update_with_local_losses} is {@link #updateWithAllLosses}: feed it every training step's timesteps
 * and their per-row losses ({@code losses["loss"].detach()}, before the importance weights).
 */
public abstract class LossAwareSampler extends ScheduleSampler {
    protected LossAwareSampler(int numTimesteps, long seed) {
        super(numTimesteps, seed);
    }

    /**
     * Records one loss per timestep, in order (a timestep appearing twice is recorded twice).
     *
     * @throws IllegalArgumentException when the lengths differ, a timestep is out of range or a loss is not finite
     *                                  (checked before anything is recorded)
     */
    public abstract void updateWithAllLosses(int[] timesteps, double[] losses);

    protected void checkUpdate(int[] timesteps, double[] losses) {
        if (timesteps.length != losses.length) {
            throw new IllegalArgumentException(timesteps.length + " timesteps but " + losses.length + " losses");
        }
        for (int i = 0; i < timesteps.length; i++) {
            checkTimestep(timesteps[i]);
            if (!Double.isFinite(losses[i])) {
                throw new IllegalArgumentException("loss " + losses[i] + " for timestep " + timesteps[i]
                        + " is not finite");
            }
        }
    }
}
