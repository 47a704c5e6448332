package io.github.glidejava.core.random;

import java.nio.FloatBuffer;
import java.util.function.Consumer;

/**
 * Seeded random numbers that are the same on every run, JVM and machine. ND4J's seeded generators are not: in
 * ND4J 1.0.0-M2.1 the same seed gave different values in two processes. SplitMix64 (Steele, Lea and Flood 2014)
 * gives the bits; Gaussians come from the Box-Muller transform evaluated with {@link StrictMath}, whose results are
 * specified bit for bit. Not thread-safe.
 */
public final class PortableRandom {
    private static final double TWO_PI = 2 * Math.PI;
    private static final double ULP53 = 0x1.0p-53;
    private static final float ULP24 = 0x1.0p-24f;
    /** Even, so that Gaussian pairs never straddle two chunks. */
    private static final int CHUNK = 1 << 16;
    private long state;

    public PortableRandom(long seed) {
        this.state = seed;
    }

    /** Next raw 64-bit SplitMix64 output. */
    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code out} with N(0, 1) values, a pair per two draws. */
    public void fillGaussian(float[] out) {
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

    /**
     * Writes the {@code n} values {@link #fillGaussian(float[])} gives an array of length {@code n} to positions
     * {@code 0 .. n-1} of {@code out} (e.g. a fresh off-heap array's buffer), through a small reused chunk: nothing
     * proportional to {@code n} on the Java heap.
     */
    public void fillGaussian(FloatBuffer out, long n) {
        fill(out, n, chunk -> fillGaussian(chunk));
    }

    /** {@link #fillUniform(float[], float, float)} into a buffer, as {@link #fillGaussian(FloatBuffer, long)}. */
    public void fillUniform(FloatBuffer out, long n, float low, float high) {
        fill(out, n, chunk -> fillUniform(chunk, low, high));
    }

    private static void fill(FloatBuffer out, long n, Consumer<float[]> draw) {
        if (n < 0 || n > out.limit()) {
            throw new IllegalArgumentException(n + " values do not fit a buffer of " + out.limit());
        }
        float[] chunk = new float[(int) Math.min(n, CHUNK)];
        for (long done = 0; done < n; done += chunk.length) {
            int m = (int) Math.min(chunk.length, n - done);
            float[] part = m == chunk.length ? chunk : new float[m];
            draw.accept(part);
            out.put((int) done, part, 0, m);
        }
    }

    /** Fills {@code out} with values uniform in {@code [low, high)}, one draw each (24 random bits). */
    public void fillUniform(float[] out, float low, float high) {
        float width = high - low;
        for (int i = 0; i < out.length; i++) {
            out[i] = low + width * ((nextLong() >>> 40) * ULP24);
        }
    }
}
