package io.github.glidejava.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NoiseSourceTest {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    @Test
    void seededNoiseIsSplitMix64() {
        // java.util.SplittableRandom(seed).nextLong() is SplitMix64 with the same gamma: an independent known answer
        for (long seed : new long[] {0, 1, -1, 42, 0x123456789ABCDEFL}) {
            SeededNoise ours = new SeededNoise(seed);
            SplittableRandom jdk = new SplittableRandom(seed);
            for (int i = 0; i < 100; i++) {
                assertEquals(jdk.nextLong(), ours.nextLong(), "seed " + seed + " draw " + i);
            }
        }
    }

    @Test
    void sameSeedSameNoiseAndShape() {
        INDArray a = new SeededNoise(7).next(2, 3, 4, 5);
        INDArray b = new SeededNoise(7).next(2, 3, 4, 5);
        INDArray c = new SeededNoise(8).next(2, 3, 4, 5);
        assertArrayEquals(new long[] {2, 3, 4, 5}, a.shape());
        assertEquals(DataType.FLOAT, a.dataType());
        assertArrayEquals(a.data().asFloat(), b.data().asFloat());
        assertFalse(Arrays.equals(a.data().asFloat(), c.data().asFloat()));
        // successive draws continue the stream
        SeededNoise s = new SeededNoise(7);
        INDArray first = s.next(2, 3, 4, 5);
        INDArray second = s.next(2, 3, 4, 5);
        assertFalse(Arrays.equals(first.data().asFloat(), second.data().asFloat()));
    }

    @Test
    void seededNoiseIsStandardNormal() {
        int n = 200_000;
        float[] v = new SeededNoise(99).next(n).data().asFloat();
        double sum = 0;
        double sq = 0;
        double fourth = 0;
        int beyond2 = 0;
        for (float f : v) {
            sum += f;
            sq += f * f;
            fourth += (double) f * f * f * f;
            if (Math.abs(f) > 2) {
                beyond2++;
            }
        }
        double mean = sum / n;
        double var = sq / n - mean * mean;
        assertEquals(0, mean, 5 / Math.sqrt(n));
        assertEquals(1, var, 5 * Math.sqrt(2.0 / n));
        assertEquals(3, fourth / n, 0.05, "kurtosis");
        assertEquals(0.0455, (double) beyond2 / n, 0.003, "P(|z| > 2)");
    }

    @Test
    void replayNoiseFeedsRecordedDrawsInOrder() {
        INDArray a = Nd4j.createFromArray(1f, 2f).reshape(1, 2);
        INDArray b = Nd4j.createFromArray(3f, 4f).reshape(1, 2);
        ReplayNoise r = ReplayNoise.of(a, b);
        INDArray first = r.next(1, 2);
        first.addi(100); // a caller modifying a draw must not change the recording
        assertArrayEquals(new float[] {1f, 2f}, a.data().asFloat());
        assertArrayEquals(new float[] {3f, 4f}, r.next(1, 2).data().asFloat());
        assertEquals(2, r.used());
        IllegalStateException ex = assertThrows(IllegalStateException.class, () -> r.next(1, 2));
        assertTrue(ex.getMessage().contains("exhausted"), ex.getMessage());
    }

    @Test
    void replayNoiseChecksShapesAndUnstacks() {
        INDArray stacked = Nd4j.arange(12).castTo(DataType.FLOAT).reshape(3, 2, 2);
        ReplayNoise r = ReplayNoise.ofStacked(stacked);
        assertEquals(3, r.remaining());
        assertArrayEquals(new float[] {0, 1, 2, 3}, r.next(2, 2).data().asFloat());
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> r.next(4));
        assertTrue(ex.getMessage().contains("[2, 2]") && ex.getMessage().contains("[4]"), ex.getMessage());
        assertArrayEquals(new float[] {4, 5, 6, 7}, r.next(2, 2).data().asFloat());
    }
}
