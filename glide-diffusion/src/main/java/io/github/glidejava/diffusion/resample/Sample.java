package io.github.glidejava.diffusion.resample;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One batch of timesteps drawn by a {@link ScheduleSampler}.
 *
 * @param timesteps per-row timesteps in {@code [0, numTimesteps)}
 * @param weights   per-row importance weights {@code 1 / (N p[t])} (float32, as improved-diffusion returns them),
 *                  to multiply the per-row losses by
 */
public record Sample(int[] timesteps, float[] weights) {
    public Sample {
        if (timesteps.length != weights.length) {
            throw new IllegalArgumentException(timesteps.length + " timesteps but " + weights.length + " weights");
        }
        timesteps = timesteps.clone();
        weights = weights.clone();
    }

    @Override
    public int[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public float[] weights() {
        return weights.clone();
    }

    /** The timesteps as int64 {@code [N]}. */
    public INDArray timestepsArray() {
        long[] v = new long[timesteps.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = timesteps[i];
        }
        return Nd4j.createFromArray(v);
    }

    /** The weights as float32 {@code [N]}, e.g. for {@code TrainingLosses.weightedMean}. */
    public INDArray weightsArray() {
        return Nd4j.createFromArray(weights.clone());
    }
}
