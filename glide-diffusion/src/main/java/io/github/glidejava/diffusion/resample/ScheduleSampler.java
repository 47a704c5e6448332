package io.github.glidejava.diffusion.resample;

import java.util.Arrays;
import java.util.Locale;

import org.apache.commons.rng.RestorableUniformRandomProvider;
import org.apache.commons.rng.core.RandomProviderDefaultState;
import org.apache.commons.rng.simple.RandomSource;

import io.github.glidejava.diffusion.GaussianDiffusion;

/**
 * A distribution over the timesteps of a diffusion process, for drawing training timesteps (improved-diffusion's
 * {@code ScheduleSampler}): {@link #weights()} are unnormalised probabilities, {@link #sample} draws a batch from
 * them and returns the importance weights {@code 1 / (N p[t])} that make the weighted mean loss an unbiased estimate
 * of the uniformly weighted one. The draws use a seeded generator (not numpy's), whose state {@link #rngState()}
 * can be saved and {@link #restoreRngState restored}. Not thread-safe.
 */
public abstract class ScheduleSampler {
    private final int numTimesteps;
    private final RestorableUniformRandomProvider rng;

    protected ScheduleSampler(int numTimesteps, long seed) {
        if (numTimesteps < 1) {
            throw new IllegalArgumentException("number of timesteps must be >= 1, got " + numTimesteps);
        }
        this.numTimesteps = numTimesteps;
        this.rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
    }

    /**
     * improved-diffusion's {@code create_named_schedule_sampler}: {@code "uniform"} or {@code "loss-second-moment"}
     * (history 10, uniform probability 0.001) over the diffusion's timesteps.
     */
    public static ScheduleSampler named(String name, GaussianDiffusion diffusion, long seed) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "uniform" -> new UniformSampler(diffusion.numTimesteps(), seed);
            case "loss-second-moment" -> new LossSecondMomentResampler(diffusion.numTimesteps(), seed);
            default -> throw new IllegalArgumentException("unknown schedule sampler '" + name
                    + "'; expected uniform or loss-second-moment");
        };
    }

    public int numTimesteps() {
        return numTimesteps;
    }

    /** One non-negative weight per timestep (float64), proportional to the probability of drawing it. */
    public abstract double[] weights();

    /** {@code p = w / sum(w)}, the distribution {@link #sample} draws from. */
    public double[] probabilities() {
        double[] w = weights();
        double sum = NumpySums.sum(w);
        if (!(sum > 0) || !Double.isFinite(sum)) {
            throw new IllegalStateException("timestep weights must have a finite positive sum, got " + sum);
        }
        double[] p = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            p[i] = w[i] / sum;
        }
        return p;
    }

    /**
     * Draws {@code batchSize} timesteps independently from {@link #probabilities()} (inverse CDF, as numpy's
     * {@code choice}) and their importance weights.
     */
    public Sample sample(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        double[] p = probabilities();
        double[] cdf = new double[p.length];
        double acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            cdf[i] = acc;
        }
        double last = cdf[cdf.length - 1];
        for (int i = 0; i < cdf.length; i++) {
            cdf[i] /= last;
        }
        int[] ts = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            double u = rng.nextDouble();
            // the first index whose cdf exceeds u (searchsorted side='right')
            int lo = 0;
            int hi = cdf.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cdf[mid] > u) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            ts[b] = lo;
        }
        return new Sample(ts, importanceWeights(p, ts));
    }

    /** The importance weights {@code float32(1 / (N p[t]))} of given timesteps under the current probabilities. */
    public float[] importanceWeights(int[] timesteps) {
        return importanceWeights(probabilities(), timesteps);
    }

    private float[] importanceWeights(double[] p, int[] timesteps) {
        float[] w = new float[timesteps.length];
        for (int i = 0; i < timesteps.length; i++) {
            w[i] = (float) (1 / (p.length * p[checkTimestep(timesteps[i])]));
        }
        return w;
    }

    /** The generator's state, to resume the same sequence of draws with {@link #restoreRngState}. */
    public byte[] rngState() {
        return ((RandomProviderDefaultState) rng.saveState()).getState();
    }

    /** Restores a state from {@link #rngState()} of a sampler of the same class. */
    public void restoreRngState(byte[] state) {
        try {
            rng.restoreState(new RandomProviderDefaultState(state.clone()));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a timestep sampler generator state (" + state.length
                    + " bytes): " + e.getMessage(), e);
        }
    }

    protected int checkTimestep(int t) {
        if (t < 0 || t >= numTimesteps) {
            throw new IllegalArgumentException("timestep " + t + " out of range [0, " + numTimesteps + ")");
        }
        return t;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + numTimesteps + " timesteps, weights "
                + Arrays.toString(Arrays.copyOf(weights(), Math.min(8, numTimesteps)))
                + (numTimesteps > 8 ? "..." : "") + "]";
    }
}
