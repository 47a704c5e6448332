package io.github.glidejava.core.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PortableRandomTest {
    @Test
    void splitMix64MatchesTheReferenceImplementation() {
        // the first outputs of splitmix64.c (Vigna) seeded with 1234567
        PortableRandom r = new PortableRandom(1234567);
        assertEquals(6457827717110365317L, r.nextLong());
        assertEquals(3203168211198807973L, r.nextLong());
        assertEquals(Long.parseUnsignedLong("9817491932198370423"), r.nextLong());
    }

    @Test
    void theSameSeedGivesTheSameValues() {
        float[] a = new float[1001];
        float[] b = new float[1001];
        new PortableRandom(5).fillGaussian(a);
        new PortableRandom(5).fillGaussian(b);
        assertArrayEquals(a, b);
        float[] c = new float[1001];
        new PortableRandom(6).fillGaussian(c);
        assertTrue(a[0] != c[0] || a[1] != c[1], "another seed gives other values");
    }

    @Test
    void uniformValuesStayInTheirRangeAndCoverIt() {
        float[] v = new float[100_000];
        new PortableRandom(1).fillUniform(v, -0.25f, 0.25f);
        double min = 1, max = -1, sum = 0;
        for (float x : v) {
            min = Math.min(min, x);
            max = Math.max(max, x);
            sum += x;
        }
        assertTrue(min >= -0.25 && max < 0.25, min + " .. " + max);
        assertTrue(min < -0.249 && max > 0.249, "covers the range: " + min + " .. " + max);
        assertEquals(0.0, sum / v.length, 0.003);
    }

    @Test
    void gaussianValuesHaveUnitVariance() {
        float[] v = new float[100_001];
        new PortableRandom(2).fillGaussian(v);
        double sum = 0, sq = 0;
        for (float x : v) {
            sum += x;
            sq += x * x;
        }
        double mean = sum / v.length;
        assertEquals(0.0, mean, 0.01);
        assertEquals(1.0, sq / v.length - mean * mean, 0.02);
    }
}
