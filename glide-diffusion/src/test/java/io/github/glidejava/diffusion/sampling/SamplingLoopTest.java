package io.github.glidejava.diffusion.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.Fixture;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.VarianceType;

class SamplingLoopTest {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    static final GaussianDiffusion D = GaussianDiffusion.builder().schedule("squaredcos_cap_v2").respacing("8")
            .varianceType(VarianceType.LEARNED_RANGE).build();
    /** A learned-range model: eps = 0.1 x, variance values 0. */
    static final DiffusionModel MODEL = (x, t) -> org.nd4j.linalg.factory.Nd4j.concat(1, x.mul(0.1), x.mul(0));

    /** Counts draws. */
    static final class CountingNoise implements NoiseSource {
        final SeededNoise inner = new SeededNoise(3);
        int draws;

        @Override
        public INDArray next(long... shape) {
            draws++;
            return inner.next(shape);
        }
    }

    @Test
    void callbackSeesEveryStepInOrder() {
        List<StepInfo> infos = new ArrayList<>();
        List<Long> modelT = new ArrayList<>();
        DiffusionModel model = (x, t) -> {
            modelT.add(t.getLong(0));
            return MODEL.predict(x, t);
        };
        INDArray out = SamplingLoop.sample(new DdpmSampler(D), model, new SeededNoise(1).next(2, 3, 4, 4),
                new SeededNoise(2), info -> infos.add(info), null);
        assertEquals(8, infos.size());
        int[] map = D.timestepMap();
        for (int i = 0; i < 8; i++) {
            StepInfo info = infos.get(i);
            assertEquals(i, info.stepIndex());
            assertEquals(8, info.numSteps());
            assertEquals(7 - i, info.timestep());
            assertEquals(map[7 - i], info.modelTimestep());
            assertEquals((long) map[7 - i], modelT.get(i));
        }
        assertSame(out, infos.get(7).sample());
        // the last DDPM step adds no noise: the result is the clipped x_0 prediction
        assertTrue(Fixture.maxAbsDiff(infos.get(7).predXStart(), out) < 1e-6);
        assertTrue(out.amaxNumber().doubleValue() <= 1.0);
    }

    @Test
    void callbackReturningFalseCancelsWithPartialResult() {
        List<INDArray> samples = new ArrayList<>();
        SamplingCancelledException ex = assertThrows(SamplingCancelledException.class,
                () -> SamplingLoop.sample(new DdimSampler(D), MODEL, new SeededNoise(1).next(1, 3, 4, 4),
                        new SeededNoise(2), info -> {
                            samples.add(info.sample());
                            return info.stepIndex() < 2;
                        }, null));
        assertEquals(3, ex.stepsCompleted());
        assertSame(samples.get(2), ex.partialSample());
        assertTrue(ex.getMessage().contains("3 of 8"), ex.getMessage());
    }

    @Test
    void cancellationTokenStopsBeforeTheNextStep() {
        CancellationToken token = new CancellationToken();
        INDArray xT = new SeededNoise(1).next(1, 3, 4, 4);
        token.cancel();
        SamplingCancelledException before = assertThrows(SamplingCancelledException.class,
                () -> SamplingLoop.sample(new DdimSampler(D), MODEL, xT, new SeededNoise(2), null, token));
        assertEquals(0, before.stepsCompleted());
        assertSame(xT, before.partialSample());
        assertNull(before.lastPredXStart());
        CancellationToken later = new CancellationToken();
        SamplingCancelledException mid = assertThrows(SamplingCancelledException.class,
                () -> SamplingLoop.sample(new DdimSampler(D), MODEL, xT, new SeededNoise(2), info -> {
                    if (info.stepIndex() == 4) {
                        later.cancel();
                    }
                    return true;
                }, later));
        assertEquals(5, mid.stepsCompleted());
    }

    @Test
    void noiseDrawsPerStep() {
        int[] expected = {8, 8, 0, 8};
        SamplerType[] types = {SamplerType.DDPM, SamplerType.DDIM, SamplerType.DPM_SOLVER_PP_2M,
                SamplerType.EULER_ANCESTRAL};
        for (int i = 0; i < types.length; i++) {
            CountingNoise noise = new CountingNoise();
            SamplingLoop.sample(types[i].create(D, SamplerOptions.defaults()), MODEL, new long[] {1, 3, 4, 4}, noise);
            assertEquals(expected[i] + 1, noise.draws, types[i] + ": x_T plus draws per step");
        }
    }

    @Test
    void badModelOutputAndStepOrder() {
        INDArray xT = new SeededNoise(1).next(1, 3, 4, 4);
        DiffusionModel wrong = (x, t) -> x.reshape(1, 3, 16);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> SamplingLoop.sample(new DdimSampler(D), wrong, xT, new SeededNoise(2)));
        assertTrue(ex.getMessage().contains("[1, 3, 16]") && ex.getMessage().contains("[1, 3, 4, 4]"), ex.getMessage());
        DpmSolverMultistepSampler dpm = new DpmSolverMultistepSampler(D);
        INDArray out = MODEL.predict(xT, D.modelTimesteps(new int[] {7}));
        dpm.step(out, 0, xT, new SeededNoise(0));
        IllegalStateException order = assertThrows(IllegalStateException.class,
                () -> dpm.step(out, 2, xT, new SeededNoise(0)));
        assertTrue(order.getMessage().contains("expected step 1"), order.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DdimSampler(D).step(out, 8, xT, new SeededNoise(0)));
        // a C-channel model cannot drive DDPM with learned variance, but can drive DDIM
        DiffusionModel epsOnly = (x, t) -> x.mul(0.1);
        assertThrows(IllegalArgumentException.class,
                () -> SamplingLoop.sample(new DdpmSampler(D), epsOnly, xT, new SeededNoise(2)));
        assertArrayEquals(xT.shape(), SamplingLoop.sample(new DdimSampler(D), epsOnly, xT, new SeededNoise(2)).shape());
    }

    @Test
    void samplerNames() {
        assertEquals(SamplerType.DDPM, SamplerType.named("p_sample"));
        assertEquals(SamplerType.DPM_SOLVER_PP_2M, SamplerType.named("DPM++2M"));
        assertEquals(SamplerType.EULER_ANCESTRAL, SamplerType.named("euler_a"));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> SamplerType.named("plms"));
        assertTrue(ex.getMessage().contains("ddim"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SamplerOptions.builder().eta(-1).build());
    }
}
