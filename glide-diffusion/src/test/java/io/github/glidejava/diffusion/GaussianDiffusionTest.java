package io.github.glidejava.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GaussianDiffusionTest {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    static GaussianDiffusion cosine(String respacing, VarianceType v) {
        return GaussianDiffusion.builder().schedule(NoiseSchedule.SQUAREDCOS_CAP_V2).steps(1000).respacing(respacing)
                .varianceType(v).build();
    }

    static INDArray constant(float v, long... shape) {
        return Nd4j.valueArrayOf(shape, v, DataType.FLOAT);
    }

    static void assertAll(INDArray a, double expected, double tol, String what) {
        for (float f : a.dup().data().asFloat()) {
            assertEquals(expected, f, tol, what);
        }
    }

    @Test
    void builderValidates() {
        assertThrows(IllegalStateException.class, () -> GaussianDiffusion.builder().build());
        assertThrows(IllegalStateException.class,
                () -> GaussianDiffusion.builder().schedule("linear").betas(new double[] {0.1}).build());
        IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class,
                () -> GaussianDiffusion.builder().schedule("linear").steps(10).build());
        assertTrue(tooFew.getMessage().contains("outside (0, 1]"), tooFew.getMessage());
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                () -> GaussianDiffusion.builder().schedule("cosinus"));
        assertTrue(name.getMessage().contains("squaredcos_cap_v2"), name.getMessage());
        IllegalArgumentException resp = assertThrows(IllegalArgumentException.class,
                () -> GaussianDiffusion.builder().schedule("linear").respacing("ten").build());
        assertTrue(resp.getMessage().contains("'ten'"), resp.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> GaussianDiffusion.builder().schedule("linear").respacing("10,-1").build());
        assertThrows(IllegalArgumentException.class, () -> GaussianDiffusion.fromBetas(new double[] {0.5, 0.0},
                VarianceType.FIXED_SMALL));
    }

    @Test
    void respacingMapsToOriginalTimesteps() {
        GaussianDiffusion d = cosine("10", VarianceType.LEARNED_RANGE);
        assertEquals(10, d.numTimesteps());
        assertEquals(1000, d.originalNumTimesteps());
        assertEquals(999, d.modelTimestep(9));
        INDArray t = d.modelTimesteps(new int[] {9, 0});
        assertEquals(DataType.LONG, t.dataType());
        assertArrayEquals(new long[] {999, 0}, t.toLongVector());
        // re-respacing starts from the original process
        GaussianDiffusion again = d.respaced("ddim25");
        assertEquals(25, again.numTimesteps());
        assertEquals(40, again.modelTimestep(1));
        assertThrows(IllegalArgumentException.class, () -> d.modelTimestep(10));
        // a respaced process keeps the original alphas_cumprod at the kept steps
        double[] full = cosine("", VarianceType.LEARNED_RANGE).alphasCumprod();
        double[] spaced = d.alphasCumprod();
        int[] map = d.timestepMap();
        for (int i = 0; i < map.length; i++) {
            // 1 - (1 - r) loses relative precision when the ratio r of kept alphas_cumprod is tiny (also in the reference)
            assertEquals(full[map[i]], spaced[i], 1e-8 * full[map[i]]);
        }
    }

    @Test
    void oneStepProcessIsUsable() {
        GaussianDiffusion d = cosine("1", VarianceType.LEARNED_RANGE);
        assertEquals(1, d.numTimesteps());
        assertEquals(Math.log(d.betas()[0]), d.posteriorLogVarianceClipped()[0], 1e-15);
    }

    @Test
    void qSampleAndEpsRoundTrip() {
        GaussianDiffusion d = cosine("", VarianceType.LEARNED_RANGE);
        INDArray x0 = new SeededNoise(1).next(2, 3, 4, 4);
        INDArray eps = new SeededNoise(2).next(2, 3, 4, 4);
        int[] t = {10, 500};
        INDArray xt = d.qSample(x0, t, eps);
        double ab = d.alphasCumprod()[500];
        assertEquals(Math.sqrt(ab) * x0.getDouble(1, 2, 3, 3) + Math.sqrt(1 - ab) * eps.getDouble(1, 2, 3, 3),
                xt.getDouble(1, 2, 3, 3), 1e-6);
        INDArray x0Back = d.predictXStartFromEps(xt, t, eps);
        assertTrue(Fixture.maxAbsDiff(x0, x0Back) < 1e-5);
        INDArray epsBack = d.predictEpsFromXStart(xt, t, x0);
        assertTrue(Fixture.maxAbsDiff(eps, epsBack) < 1e-4);
        assertThrows(IllegalArgumentException.class, () -> d.qSample(x0, new int[] {1}, eps));
        assertThrows(IllegalArgumentException.class, () -> d.qSample(x0, new int[] {1, 1000}, eps));
    }

    @Test
    void learnedRangeInterpolatesBetweenPosteriorVarianceAndBeta() {
        GaussianDiffusion d = cosine("50", VarianceType.LEARNED_RANGE);
        int t = 20;
        INDArray x = new SeededNoise(3).next(1, 3, 2, 2);
        INDArray eps = new SeededNoise(4).next(1, 3, 2, 2);
        for (float v : new float[] {-1f, 0f, 1f, 2f}) {
            INDArray out = Nd4j.concat(1, eps, constant(v, 1, 3, 2, 2));
            MeanVariance mv = d.pMeanVariance(out, x, new int[] {t}, false, null);
            double frac = (v + 1) / 2.0;
            double expected = frac * Math.log(d.betas()[t]) + (1 - frac) * d.posteriorLogVarianceClipped()[t];
            assertAll(mv.logVariance(), expected, 1e-5, "log variance at v=" + v);
            assertAll(mv.variance(), Math.exp(expected), 1e-5 * Math.exp(expected), "variance at v=" + v);
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> d.pMeanVariance(eps, x, new int[] {t}, false, null));
        assertTrue(ex.getMessage().contains("FIXED_SMALL"), ex.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> d.pMeanVariance(new SeededNoise(1).next(1, 5, 2, 2), x, new int[] {t}, false, null));
        assertTrue(shape.getMessage().contains("[1, 5, 2, 2]"), shape.getMessage());
    }

    @Test
    void fixedVariances() {
        INDArray x = new SeededNoise(3).next(1, 3, 2, 2);
        INDArray eps = new SeededNoise(4).next(1, 3, 2, 2);
        GaussianDiffusion small = cosine("50", VarianceType.FIXED_SMALL);
        GaussianDiffusion large = cosine("50", VarianceType.FIXED_LARGE);
        for (int t : new int[] {0, 7}) {
            MeanVariance s = small.pMeanVariance(eps, x, new int[] {t}, false, null);
            MeanVariance l = large.pMeanVariance(eps, x, new int[] {t}, false, null);
            double pv = small.posteriorVariance()[t == 0 ? 1 : t];
            assertAll(s.logVariance(), small.posteriorLogVarianceClipped()[t], 1e-5, "small log var");
            assertAll(l.variance(), t == 0 ? pv : large.betas()[t], 1e-7, "large variance");
        }
        // learned-variance channels are ignored by fixed variances
        MeanVariance withExtra = small.pMeanVariance(Nd4j.concat(1, eps, eps), x, new int[] {3}, false, null);
        MeanVariance plain = small.pMeanVariance(eps, x, new int[] {3}, false, null);
        assertEquals(0, Fixture.maxAbsDiff(withExtra.mean(), plain.mean()));
    }

    @Test
    void denoisedHookRunsBeforeTheClamp() {
        GaussianDiffusion d = cosine("50", VarianceType.FIXED_SMALL);
        INDArray x = new SeededNoise(3).next(1, 3, 4, 4).muli(3);
        INDArray eps = new SeededNoise(4).next(1, 3, 4, 4);
        AtomicReference<INDArray> seen = new AtomicReference<>();
        MeanVariance mv = d.pMeanVariance(eps, x, new int[] {40}, true, x0 -> {
            seen.set(x0.dup());
            return x0.mul(10);
        });
        assertTrue(seen.get().amaxNumber().doubleValue() > 1, "hook sees the unclipped prediction");
        assertTrue(mv.predXStart().amaxNumber().doubleValue() <= 1.0, "clamped after the hook");
        INDArray expected = BatchOps.clamp(seen.get().mul(10), -1, 1);
        assertEquals(0, Fixture.maxAbsDiff(expected, mv.predXStart()));
        // the posterior mean at t = 0 is the clipped x_0 itself
        MeanVariance last = d.pMeanVariance(eps, x, new int[] {0}, true, null);
        assertTrue(Fixture.maxAbsDiff(last.predXStart(), last.mean()) < 1e-6);
    }

    @Test
    void gradientGuidanceHooks() {
        GaussianDiffusion d = cosine("50", VarianceType.FIXED_SMALL);
        int t = 25;
        INDArray x = new SeededNoise(5).next(1, 3, 2, 2);
        INDArray eps = new SeededNoise(6).next(1, 3, 2, 2);
        INDArray grad = new SeededNoise(7).next(1, 3, 2, 2);
        AtomicReference<long[]> gradT = new AtomicReference<>();
        GradientFunction g = (xx, ts) -> {
            gradT.set(ts.toLongVector());
            return grad;
        };
        MeanVariance mv = d.pMeanVariance(eps, x, new int[] {t}, false, null);
        INDArray mean = d.conditionMean(g, mv, x, new int[] {t});
        assertArrayEquals(new long[] {d.modelTimestep(t)}, gradT.get(), "cond_fn gets original timesteps");
        assertTrue(Fixture.maxAbsDiff(mv.mean().add(mv.variance().mul(grad)), mean) < 1e-6);
        MeanVariance score = d.conditionScore(g, mv, x, new int[] {t});
        double shift = Math.sqrt(1 - d.alphasCumprod()[t]) * d.sqrtRecipm1AlphasCumprod()[t];
        assertTrue(Fixture.maxAbsDiff(mv.predXStart().add(grad.mul(shift)), score.predXStart()) < 1e-4);
        assertTrue(Fixture.maxAbsDiff(d.qPosterior(score.predXStart(), x, new int[] {t}).mean(), score.mean()) < 1e-6);
    }
}
