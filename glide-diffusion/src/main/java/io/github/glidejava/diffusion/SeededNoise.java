package io.github.glidejava.diffusion;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.random.PortableRandom;

/**
 * Portable seeded Gaussian noise ({@link PortableRandom}): the same seed gives the same values on every run, JVM and
 * machine. Values are generated in C order; each call uses {@code ceil(n / 2)} pairs. Not thread-safe; sampling runs
 * are sequential.
 */
public final class SeededNoise implements NoiseSource {
    static {
        GlideBackend.init();
    }

    private final PortableRandom random;

    public SeededNoise(long seed) {
        this.random = new PortableRandom(seed);
    }

    /** Next raw 64-bit SplitMix64 output. */
    public long nextLong() {
        return random.nextLong();
    }

    /** Fills {@code out} with N(0, 1) values. */
    public void fill(float[] out) {
        random.fillGaussian(out);
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
