package io.github.glidejava.diffusion;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;

/**
 * Portable seeded Gaussian noise: the same seed gives the same values on every run, JVM and machine (ND4J's native
 * RNG can differ between builds). SplitMix64 (Steele, Lea and Flood 2014) drives the Box-Muller transform evaluated
 * with {@link StrictMath}, whose results are specified bit for bit. Values are generated in C order; each call uses
 * {@code ceil(n / 2)} pairs. Not thread-safe; sampling runs are sequential.
 */
public final class SeededNoise implements NoiseSource {
    static {
        GlideBackend.init();
    }

    private static final double TWO_PI = 2 * Math.PI;
    private static final double ULP53 = 0x1.0p-53;
    private long state;

    public SeededNoise(long seed) {
        this.state = seed;
    }

    /** Next raw 64-bit SplitMix64 output. */
    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code out} with N(0, 1) values. */
    public void fill(float[] out) {
        for (int i = 0; i < out.length; i += 2) {
            double u1 = ((nextLong() >>> 11) + 1) * ULP53; // (0, 1]: log stays finite
            double u2 = (nextLong() >>> 11) * ULP53;       // [0, 1)
            double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            double theta = TWO_PI * u2;
            out[i] = (float) (r * StrictMath.cos(theta));
            if (i + 1 < out.length) {
                out[i + 1] = (float) (r * StrictMath.sin(theta));
            }
        }
    }

    @Override
    public INDArray next(long... shape) {
        long n = 1;
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("negative dimension in noise shape " + java.util.Arrays.toString(shape));
            }
            n *= s;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("noise shape " + java.util.Arrays.toString(shape) + " is too large");
        }
        float[] buf = new float[(int) n];
        fill(buf);
        return Nd4j.create(buf, shape.clone(), 'c');
    }
}
