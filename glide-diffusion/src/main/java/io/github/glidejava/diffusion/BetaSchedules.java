package io.github.glidejava.diffusion;

import java.util.function.DoubleUnaryOperator;

/**
 * Beta schedules in float64, computed with the same operation order as glide-text2im / improved-diffusion so the
 * arrays match the reference bit for bit (numpy {@code linspace} semantics, Python float arithmetic).
 */
public final class BetaSchedules {
    /** Largest beta of an alpha-bar schedule (prevents a singularity at t = T). */
    public static final double MAX_BETA = 0.999;

    private BetaSchedules() {
    }

    /**
     * Ho et al.'s linear schedule scaled to any number of steps: {@code linspace(scale*1e-4, scale*0.02, T)} with
     * {@code scale = 1000 / T}.
     */
    public static double[] linear(int numTimesteps) {
        requirePositive(numTimesteps);
        double scale = 1000.0 / numTimesteps;
        return linspace(scale * 0.0001, scale * 0.02, numTimesteps);
    }

    /** The cosine schedule of improved-diffusion (glide's "squaredcos_cap_v2"), betas capped at 0.999. */
    public static double[] squaredCosCapV2(int numTimesteps) {
        requirePositive(numTimesteps);
        return forAlphaBar(numTimesteps, t -> {
            double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
            return c * c; // Python's c ** 2 is the correctly rounded square, i.e. c * c
        }, MAX_BETA);
    }

    /** {@code beta_i = min(1 - alphaBar((i+1)/T) / alphaBar(i/T), maxBeta)}. */
    public static double[] forAlphaBar(int numTimesteps, DoubleUnaryOperator alphaBar, double maxBeta) {
        requirePositive(numTimesteps);
        double[] betas = new double[numTimesteps];
        for (int i = 0; i < numTimesteps; i++) {
            double t1 = (double) i / numTimesteps;
            double t2 = (double) (i + 1) / numTimesteps;
            betas[i] = Math.min(1 - alphaBar.applyAsDouble(t2) / alphaBar.applyAsDouble(t1), maxBeta);
        }
        return betas;
    }

    /**
     * numpy's {@code linspace(start, stop, num)} (endpoint included): {@code y[i] = i * step + start} with
     * {@code step = (stop - start) / (num - 1)}, and the last element set to {@code stop} exactly.
     */
    public static double[] linspace(double start, double stop, int num) {
        if (num < 0) {
            throw new IllegalArgumentException("linspace: num must be >= 0, got " + num);
        }
        double[] y = new double[num];
        if (num == 0) {
            return y;
        }
        int div = num - 1;
        double delta = stop - start;
        if (div == 0) {
            y[0] = start;
            return y;
        }
        double step = delta / div;
        for (int i = 0; i < num; i++) {
            // numpy divides then multiplies when the step underflows to zero
            y[i] = (step == 0 ? ((double) i / div) * delta : i * step) + start;
        }
        y[num - 1] = stop;
        return y;
    }

    private static void requirePositive(int numTimesteps) {
        if (numTimesteps < 1) {
            throw new IllegalArgumentException("number of diffusion steps must be >= 1, got " + numTimesteps);
        }
    }
}
