package io.github.glidejava.diffusion.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.ClassifierFreeGuidance;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.Fixture;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;
import io.github.glidejava.diffusion.ReplayNoise;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.VarianceType;

/**
 * Parity with the recorded reference sampling runs ({@code sampling/*.safetensors}), dispatched on each file's
 * metadata config ("sampler", respacing, guidance scale, eta, clip_denoised).
 *
 * <ul>
 * <li>Files that record the raw model output per step ({@code output.step_model_out}, the guided runs): a replay
 * model returns the recorded output after checking it is called with the recorded original timestep; one step at
 * a time from the recorded previous sample (atol 1e-4) and the whole loop from the recorded x_T (atol 1e-3).</li>
 * <li>DDIM files without recorded model outputs (the upsampler, whose model is glide-nn's U-Net): every DDIM step
 * is checked from the recorded previous sample with the model replaced by the recorded x_0 prediction (eta = 0
 * DDIM depends on the model only through it). The whole loop with the real U-Net is left for glide-nn.</li>
 * </ul>
 */
class SamplingParityTest {
    static final double STEP_ATOL = 1e-4;
    static final double LOOP_ATOL = 1e-3;

    @TestFactory
    Stream<DynamicNode> samplingFixtures() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path f : RefFixtures.list("sampling", ".safetensors")) {
            nodes.add(DynamicContainer.dynamicContainer(f.getFileName().toString(), testsFor(f)));
        }
        return nodes.stream();
    }

    private static Stream<DynamicNode> testsFor(Path file) {
        List<DynamicNode> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest("per step", () -> {
            try (Fixture fx = Fixture.open(file)) {
                Run run = new Run(fx);
                if (fx.has("output.step_model_out")) {
                    run.stepsWithRecordedModelOutput();
                } else if (run.samplerType == SamplerType.DDIM) {
                    run.ddimStepsFromRecordedXStart();
                } else {
                    fail(fx.name() + ": sampler '" + run.samplerType.configName()
                            + "' without output.step_model_out needs the real model (glide-nn), not available here");
                }
            }
        }));
        tests.add(DynamicTest.dynamicTest("whole loop", () -> {
            try (Fixture fx = Fixture.open(file)) {
                org.junit.jupiter.api.Assumptions.assumeTrue(fx.has("output.step_model_out"), fx.name()
                        + ": the whole loop needs the real model (glide-nn U-Net from " + fx.config.path("params_file")
                        .asText() + "); only its steps are checked here");
                new Run(fx).wholeLoop();
            }
        }));
        return tests.stream();
    }

    /** Everything a run needs, taken from the fixture's config. */
    static final class Run {
        final Fixture fx;
        final GaussianDiffusion diffusion;
        final SamplerType samplerType;
        final Sampler sampler;
        final Double guidanceScale;
        final INDArray stepSample;
        final INDArray stepPred;
        final int[] stepT;
        final int[] stepTModel;
        final int steps;

        Run(Fixture fx) {
            this.fx = fx;
            JsonNode cfg = fx.config;
            JsonNode options = fx.cfg("options");
            diffusion = GaussianDiffusion.builder()
                    .schedule(options.get("noise_schedule").asText())
                    .steps(options.get("diffusion_steps").asInt())
                    .respacing(fx.cfg("timestep_respacing").asText())
                    .varianceType(VarianceType.LEARNED_RANGE)
                    .build();
            samplerType = SamplerType.named(fx.cfg("sampler").asText());
            SamplerOptions.Builder ob = SamplerOptions.builder().clipDenoised(fx.cfg("clip_denoised").asBoolean());
            JsonNode eta = cfg.get("eta");
            if (eta != null && !eta.isNull()) {
                ob.eta(eta.asDouble());
            }
            sampler = samplerType.create(diffusion, ob.build());
            JsonNode gs = cfg.get("guidance_scale");
            guidanceScale = gs == null || gs.isNull() ? null : gs.asDouble();
            stepSample = fx.get("output.step_sample");
            stepPred = fx.get("output.step_pred_xstart");
            stepT = Fixture.ints(fx.get("output.step_t"));
            stepTModel = Fixture.ints(fx.get("output.step_t_model"));
            steps = stepT.length;
            if (cfg.has("timestep_map")) {
                int[] map = new int[cfg.get("timestep_map").size()];
                for (int i = 0; i < map.length; i++) {
                    map[i] = cfg.get("timestep_map").get(i).asInt();
                }
                assertArrayEquals(map, diffusion.timestepMap(), fx.name() + ": timestep_map");
            }
            assertArrayEquals(stepT, sampler.timesteps(), fx.name() + ": visited timesteps");
            for (int i = 0; i < steps; i++) {
                assertEquals(stepTModel[i], diffusion.modelTimestep(stepT[i]), fx.name() + ": step_t_model[" + i + "]");
            }
            assertArrayEquals(shapeOf(fx.cfg("shape")),
                    fx.get("input.noise").shape(), fx.name() + ": shape");
        }

        static long[] shapeOf(JsonNode n) {
            long[] s = new long[n.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = n.get(i).asLong();
            }
            return s;
        }

        INDArray previous(int i) {
            return i == 0 ? fx.get("input.noise") : Fixture.slice(stepSample, i - 1);
        }

        /** Stochastic samplers need the recorded per-step noise; eta = 0 DDIM does not depend on it. */
        NoiseSource stepNoise(int i) {
            if (fx.has("input.step_noise")) {
                return ReplayNoise.of(Fixture.slice(fx.get("input.step_noise"), i));
            }
            assertTrue(samplerType == SamplerType.DDIM && ((DdimSampler) sampler).eta() == 0.0,
                    fx.name() + ": no input.step_noise for a stochastic sampler");
            return new SeededNoise(i);
        }

        /** Returns the recorded raw model output of step i after checking the timesteps it is called with. */
        DiffusionModel replay(INDArray recorded, int expectedT, String what) {
            return (x, t) -> {
                long[] ts = t.toLongVector();
                for (long v : ts) {
                    assertEquals(expectedT, v, what + ": model called with the wrong (original) timestep");
                }
                assertEquals(recorded.size(0), x.size(0), what + ": model batch");
                return recorded;
            };
        }

        DiffusionModel guided(DiffusionModel m) {
            return guidanceScale == null ? m : ClassifierFreeGuidance.wrap(m, guidanceScale);
        }

        void stepsWithRecordedModelOutput() {
            INDArray modelOut = fx.get("output.step_model_out");
            double worst = 0;
            for (int i = 0; i < steps; i++) {
                String what = fx.name() + " step " + i + " (t=" + stepT[i] + ", model t=" + stepTModel[i] + ")";
                INDArray x = previous(i);
                DiffusionModel model = guided(replay(Fixture.slice(modelOut, i), stepTModel[i], what));
                INDArray out = diffusion.callModel(model, x, GaussianDiffusion.fill(stepT[i], (int) x.size(0)));
                ReplayNoise noise = (ReplayNoise) stepNoise(i);
                StepOutput so = sampler.step(out, i, x, noise);
                assertEquals(1, noise.used(), what + ": noise draws per step");
                Fixture.assertClose(Fixture.slice(stepPred, i), so.predXStart(), STEP_ATOL, 0, what + " pred_xstart");
                Fixture.assertClose(Fixture.slice(stepSample, i), so.sample(), STEP_ATOL, 0, what + " sample");
                worst = Math.max(worst, Fixture.maxAbsDiff(Fixture.slice(stepSample, i), so.sample()));
            }
            System.out.printf("%s: %d steps from recorded model outputs, max |step sample diff| %.3g%n", fx.name(),
                    steps, worst);
        }

        void ddimStepsFromRecordedXStart() {
            double worst = 0;
            for (int i = 0; i < steps; i++) {
                String what = fx.name() + " step " + i + " (t=" + stepT[i] + ")";
                INDArray x = previous(i);
                int[] ts = GaussianDiffusion.fill(stepT[i], (int) x.size(0));
                // eps that reproduces the recorded x_0 prediction: DDIM depends on the model only through x_0
                INDArray eps = diffusion.predictEpsFromXStart(x, ts, Fixture.slice(stepPred, i));
                StepOutput so = sampler.step(eps, i, x, stepNoise(i));
                Fixture.assertClose(Fixture.slice(stepPred, i), so.predXStart(), STEP_ATOL, 0, what + " pred_xstart");
                Fixture.assertClose(Fixture.slice(stepSample, i), so.sample(), STEP_ATOL, 0, what + " sample");
                worst = Math.max(worst, Fixture.maxAbsDiff(Fixture.slice(stepSample, i), so.sample()));
            }
            System.out.printf("%s: %d DDIM steps from recorded x_0 predictions, max |step sample diff| %.3g%n",
                    fx.name(), steps, worst);
            Fixture.assertClose(fx.get("output.sample"), Fixture.slice(stepSample, steps - 1), 0, 0,
                    fx.name() + ": output.sample is the last step's sample");
        }

        void wholeLoop() {
            INDArray modelOut = fx.get("output.step_model_out");
            AtomicInteger calls = new AtomicInteger();
            DiffusionModel recorded = (x, t) -> {
                int i = calls.getAndIncrement();
                assertTrue(i < steps, fx.name() + ": model called more than " + steps + " times");
                for (long v : t.toLongVector()) {
                    assertEquals(stepTModel[i], v, fx.name() + " loop step " + i + ": model timestep");
                }
                return Fixture.slice(modelOut, i);
            };
            NoiseSource noise = fx.has("input.step_noise") ? ReplayNoise.ofStacked(fx.get("input.step_noise"))
                    : new SeededNoise(0);
            List<Integer> seen = new ArrayList<>();
            INDArray sample = SamplingLoop.sample(sampler, guided(recorded), fx.get("input.noise"), noise,
                    info -> {
                        seen.add(info.modelTimestep());
                        return true;
                    }, null);
            assertEquals(steps, calls.get(), fx.name() + ": model calls");
            assertEquals(steps, seen.size(), fx.name() + ": callbacks");
            if (noise instanceof ReplayNoise rn) {
                assertEquals(0, rn.remaining(), fx.name() + ": every recorded noise draw used");
            }
            Fixture.assertClose(fx.get("output.sample"), sample, LOOP_ATOL, 0, fx.name() + " final sample");
            System.out.printf("%s: whole loop, max |final sample diff| %.3g%n", fx.name(),
                    Fixture.maxAbsDiff(fx.get("output.sample"), sample));
        }
    }
}
