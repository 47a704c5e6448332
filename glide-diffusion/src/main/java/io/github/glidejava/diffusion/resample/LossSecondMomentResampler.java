package io.github.glidejava.diffusion.resample;

import java.util.Arrays;

/**
 * improved-diffusion's {@code LossSecondMomentResampler}: keeps the last {@code historyPerTerm} losses of every
 * timestep; until every timestep has a full history (the warm-up) all weights are 1, afterwards
 * {@code w = sqrt(mean(history^2))} per timestep, normalised to sum 1, mixed with the uniform distribution:
 * {@code w * (1 - uniformProb) + uniformProb / N}. Computed in float64 in the reference's order, with numpy's
 * summation, so the weights equal the reference's exactly.
 */
public final class LossSecondMomentResampler extends LossAwareSampler {
    /** improved-diffusion's defaults. */
    public static final int DEFAULT_HISTORY_PER_TERM = 10;
    public static final double DEFAULT_UNIFORM_PROB = 0.001;

    private final int historyPerTerm;
    private final double uniformProb;
    private final double[][] lossHistory;
    private final int[] lossCounts;

    /**
     * Everything needed to resume: the loss history {@code [N][historyPerTerm]} (oldest first, unused slots 0), the
     * number of losses held per timestep and the generator's state.
     */
    public record State(double[][] lossHistory, int[] lossCounts, byte[] rngState) {
        public State {
            lossHistory = Arrays.stream(lossHistory).map(double[]::clone).toArray(double[][]::new);
            lossCounts = lossCounts.clone();
            rngState = rngState.clone();
        }
    }

    /** With improved-diffusion's defaults: history of 10 losses per timestep, uniform probability 0.001. */
    public LossSecondMomentResampler(int numTimesteps, long seed) {
        this(numTimesteps, DEFAULT_HISTORY_PER_TERM, DEFAULT_UNIFORM_PROB, seed);
    }

    public LossSecondMomentResampler(int numTimesteps, int historyPerTerm, double uniformProb, long seed) {
        super(numTimesteps, seed);
        if (historyPerTerm < 1) {
            throw new IllegalArgumentException("history_per_term must be >= 1, got " + historyPerTerm);
        }
        if (!(uniformProb >= 0 && uniformProb <= 1)) {
            throw new IllegalArgumentException("uniform_prob must be in [0, 1], got " + uniformProb);
        }
        this.historyPerTerm = historyPerTerm;
        this.uniformProb = uniformProb;
        this.lossHistory = new double[numTimesteps][historyPerTerm];
        this.lossCounts = new int[numTimesteps];
    }

    public int historyPerTerm() {
        return historyPerTerm;
    }

    public double uniformProb() {
        return uniformProb;
    }

    /** True once every timestep holds {@code historyPerTerm} losses. */
    public boolean warmedUp() {
        for (int c : lossCounts) {
            if (c != historyPerTerm) {
                return false;
            }
        }
        return true;
    }

    @Override
    public double[] weights() {
        int n = numTimesteps();
        double[] w = new double[n];
        if (!warmedUp()) {
            Arrays.fill(w, 1.0);
            return w;
        }
        double[] sq = new double[historyPerTerm];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < historyPerTerm; j++) {
                sq[j] = lossHistory[t][j] * lossHistory[t][j];
            }
            w[t] = Math.sqrt(NumpySums.sum(sq) / historyPerTerm);
        }
        double sum = NumpySums.sum(w);
        for (int t = 0; t < n; t++) {
            w[t] /= sum;
        }
        double keep = 1 - uniformProb;
        double floor = uniformProb / n;
        for (int t = 0; t < n; t++) {
            w[t] *= keep;
            w[t] += floor;
        }
        return w;
    }

    @Override
    public void updateWithAllLosses(int[] timesteps, double[] losses) {
        checkUpdate(timesteps, losses);
        for (int i = 0; i < timesteps.length; i++) {
            int t = timesteps[i];
            double[] h = lossHistory[t];
            if (lossCounts[t] == historyPerTerm) {
                // shift out the oldest loss
                System.arraycopy(h, 1, h, 0, historyPerTerm - 1);
                h[historyPerTerm - 1] = losses[i];
            } else {
                h[lossCounts[t]] = losses[i];
                lossCounts[t]++;
            }
        }
    }

    /** {@link #updateWithAllLosses(int[], double[])} with float32 losses (their exact values as doubles). */
    public void updateWithAllLosses(int[] timesteps, float[] losses) {
        double[] d = new double[losses.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = losses[i];
        }
        updateWithAllLosses(timesteps, d);
    }

    /** A copy of the loss history, {@code [N][historyPerTerm]}, oldest first. */
    public double[][] lossHistory() {
        return Arrays.stream(lossHistory).map(double[]::clone).toArray(double[][]::new);
    }

    /** How many losses each timestep holds (at most {@code historyPerTerm}). */
    public int[] lossCounts() {
        return lossCounts.clone();
    }

    /** Everything needed to resume sampling exactly where this sampler is. */
    public State state() {
        return new State(lossHistory, lossCounts, rngState());
    }

    /**
     * Restores a {@link #state()} taken from a sampler with the same number of timesteps and history length.
     *
     * @throws IllegalArgumentException when the shapes or counts do not fit (nothing is changed then)
     */
    public void restore(State state) {
        int n = numTimesteps();
        if (state.lossHistory().length != n || state.lossCounts().length != n) {
            throw new IllegalArgumentException("state is for " + state.lossCounts().length + " timesteps, this"
                    + " sampler has " + n);
        }
        for (int t = 0; t < n; t++) {
            if (state.lossHistory()[t].length != historyPerTerm) {
                throw new IllegalArgumentException("state has a history of " + state.lossHistory()[t].length
                        + " losses per timestep, expected " + historyPerTerm);
            }
            int c = state.lossCounts()[t];
            if (c < 0 || c > historyPerTerm) {
                throw new IllegalArgumentException("state loss count " + c + " for timestep " + t
                        + " is outside [0, " + historyPerTerm + "]");
            }
        }
        restoreRngState(state.rngState());
        for (int t = 0; t < n; t++) {
            System.arraycopy(state.lossHistory()[t], 0, lossHistory[t], 0, historyPerTerm);
            lossCounts[t] = state.lossCounts()[t];
        }
    }
}
