package io.github.glidejava.diffusion.resample;

import java.util.Arrays;

/** Every timestep equally likely; every importance weight is 1 (improved-diffusion's {@code UniformSampler}). */
public final class UniformSampler extends ScheduleSampler {
    public UniformSampler(int numTimesteps, long seed) {
        super(numTimesteps, seed);
    }

    @Override
    public double[] weights() {
        double[] w = new double[numTimesteps()];
        Arrays.fill(w, 1.0);
        return w;
    }
}
