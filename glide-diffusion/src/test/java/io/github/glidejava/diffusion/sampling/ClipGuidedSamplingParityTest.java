package io.github.glidejava.diffusion.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.ClipGuidance;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.Fixture;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.GradientFunction;
import io.github.glidejava.diffusion.MeanVariance;
import io.github.glidejava.diffusion.ReplayNoise;
import io.github.glidejava.diffusion.VarianceType;
import io.github.glidejava.nn.clip.ClipConfig;
import io.github.glidejava.nn.clip.ClipModel;
import io.github.glidejava.nn.unet.TextEncoder;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * CLIP-guided DDPM sampling against the reference (glide-text2im's clip_guided notebook on the tiny base model and
 * the tiny noised CLIP): one guided step ({@code clip/guided_step}: p_mean_variance, cond_fn with the ORIGINAL
 * timestep, condition_mean, the sample) and a short guided loop ({@code clip/guided_loop}: each step from the
 * recorded previous sample, then the whole loop from x_T with the real U-Net and CLIP). Models, prompts, respacing
 * and every shape come from the fixtures' metadata.
 */
class ClipGuidedSamplingParityTest {
    /** The fixtures' suggested tolerances. */
    private static final double ATOL = 1e-5;
    private static final double GRAD_ATOL = 1e-4;
    private static final double MODEL_ATOL = 1e-4;
    private static final double STEP_ATOL = 1e-4;
    private static final double LOOP_ATOL = 1e-3;

    private static ClipModel clip(Fixture fx) throws IOException {
        ClipConfig config = ClipConfig.load(RefFixtures.require(fx.cfg("clip_config_file").asText()));
        StateDict params = StateDict.load(RefFixtures.require(fx.cfg("clip_params_file").asText()));
        return ClipModel.fromStateDicts(config, params.subDict("param.image_encoder."), params.subDict("param.text_encoder."));
    }

    private static List<String> prompts(Fixture fx) {
        List<String> out = new ArrayList<>();
        fx.cfg("prompts").forEach(p -> out.add(p.asText()));
        return out;
    }

    private static GaussianDiffusion diffusion(Fixture fx) {
        JsonNode options = fx.cfg("options");
        GaussianDiffusion d = GaussianDiffusion.builder()
                .schedule(options.get("noise_schedule").asText())
                .steps(options.get("diffusion_steps").asInt())
                .respacing(fx.cfg("timestep_respacing").asText())
                .varianceType(VarianceType.LEARNED_RANGE)
                .build();
        JsonNode map = fx.cfg("timestep_map");
        int[] expected = new int[map.size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = map.get(i).asInt();
        }
        assertArrayEquals(expected, d.timestepMap(), fx.name() + ": timestep_map");
        return d;
    }

    /** The guidance, checked to be called with the expected original timesteps; remembers its last gradient. */
    private static final class Recording implements GradientFunction {
        final GradientFunction inner;
        INDArray expectedT;
        INDArray last;
        int calls;

        Recording(GradientFunction inner) {
            this.inner = inner;
        }

        @Override
        public INDArray gradient(INDArray x, INDArray t) {
            if (expectedT != null) {
                assertArrayEquals(expectedT.toLongVector(), t.toLongVector(), "cond_fn timesteps (original, un-respaced)");
            }
            calls++;
            last = inner.gradient(x, t);
            return last;
        }
    }

    @Test
    void oneGuidedStep() throws IOException {
        try (Fixture fx = Fixture.open(RefFixtures.require("clip/guided_step.safetensors"))) {
            GaussianDiffusion diffusion = diffusion(fx);
            boolean clipDenoised = fx.cfg("clip_denoised").asBoolean();
            INDArray x = fx.get("input.x");
            int[] t = Fixture.ints(fx.get("input.t"));
            INDArray tModel = diffusion.modelTimesteps(t);
            assertArrayEquals(fx.get("output.t_model").toLongVector(), tModel.toLongVector(), "t_model");

            Text2ImUNet unet = fx.recordedModel();
            Fixture.assertClose(fx.get("output.model_out"),
                    unet.forward(x, tModel, fx.get("input.tokens"), fx.get("input.mask")), MODEL_ATOL, 0, "model_out");

            MeanVariance mv = diffusion.pMeanVariance(fx.get("output.model_out"), x, t, clipDenoised, null);
            Fixture.assertClose(fx.get("output.mean"), mv.mean(), ATOL, 0, "mean");
            Fixture.assertClose(fx.get("output.variance"), mv.variance(), ATOL, 0, "variance");
            Fixture.assertClose(fx.get("output.log_variance"), mv.logVariance(), ATOL, 0, "log_variance");
            Fixture.assertClose(fx.get("output.pred_xstart"), mv.predXStart(), ATOL, 0, "pred_xstart");

            ClipModel clip = clip(fx);
            var batch = clip.encodePrompts(prompts(fx));
            assertEquals(fx.get("input.clip_tokens").castTo(DataType.LONG), batch.tokens(), "clip_tokens of the prompts");
            assertEquals(fx.get("input.clip_text_len").castTo(DataType.LONG), batch.lengths(), "clip_text_len");
            Recording cond = new Recording(ClipGuidance.of(clip, prompts(fx), fx.cfg("grad_scale").asDouble()));
            cond.expectedT = tModel;
            INDArray condMean = diffusion.conditionMean(cond, mv, x, t);
            Fixture.assertClose(fx.get("output.cond_grad"), cond.last, GRAD_ATOL, 0, "cond_grad");
            Fixture.assertClose(fx.get("output.cond_mean"), condMean, ATOL, 0, "cond_mean");
            System.out.printf("%s: max |diff| cond_grad %.3g, cond_mean %.3g%n", fx.name(),
                    Fixture.maxAbsDiff(fx.get("output.cond_grad"), cond.last), Fixture.maxAbsDiff(fx.get("output.cond_mean"), condMean));

            // The same step through the DDPM sampler, row by row (the rows may have different timesteps; every term,
            // the guidance gradient included, is computed per row).
            ClipGuidance guidance = ClipGuidance.of(clip, prompts(fx), fx.cfg("grad_scale").asDouble());
            for (int r = 0; r < t.length; r++) {
                long row = r;
                ClipGuidance rowGuidance = ClipGuidance.of(clip, guidance.textEmbeddings().get(
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(row, row + 1), org.nd4j.linalg.indexing.NDArrayIndex.all()), guidance.scale());
                DdpmSampler sampler = new DdpmSampler(diffusion,
                        SamplerOptions.builder().clipDenoised(clipDenoised).condFn(rowGuidance).build());
                ReplayNoise noise = ReplayNoise.of(rowOf(fx.get("input.noise"), row));
                StepOutput out = sampler.step(rowOf(fx.get("output.model_out"), row), indexOf(sampler.timesteps(), t[r]),
                        rowOf(x, row), noise);
                assertEquals(0, noise.remaining(), "one noise draw per step");
                Fixture.assertClose(rowOf(fx.get("output.sample"), row), out.sample(), ATOL, 0, "sample row " + r + " (t=" + t[r] + ")");
                Fixture.assertClose(rowOf(fx.get("output.pred_xstart"), row), out.predXStart(), ATOL, 0, "pred_xstart row " + r);
            }
        }
    }

    private static INDArray rowOf(INDArray a, long r) {
        return a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(r, r + 1)).dup();
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        throw new AssertionError("timestep " + v + " is not visited by the sampler");
    }

    @Test
    void shortGuidedLoop() throws IOException {
        try (Fixture fx = Fixture.open(RefFixtures.require("clip/guided_loop.safetensors"))) {
            GaussianDiffusion diffusion = diffusion(fx);
            assertEquals("p_sample", fx.cfg("sampler").asText(), "this test replays ancestral (p_sample) loops");
            ClipModel clip = clip(fx);
            Recording cond = new Recording(ClipGuidance.of(clip, prompts(fx), fx.cfg("grad_scale").asDouble()));
            DdpmSampler sampler = new DdpmSampler(diffusion,
                    SamplerOptions.builder().clipDenoised(fx.cfg("clip_denoised").asBoolean()).condFn(cond).build());
            int[] stepT = Fixture.ints(fx.get("output.step_t"));
            int[] stepTModel = Fixture.ints(fx.get("output.step_t_model"));
            assertArrayEquals(stepT, sampler.timesteps(), "visited timesteps");
            INDArray stepSample = fx.get("output.step_sample");
            INDArray stepPred = fx.get("output.step_pred_xstart");
            INDArray stepGrad = fx.get("output.step_cond_grad");
            INDArray stepModelOut = fx.get("output.step_model_out");
            INDArray stepNoise = fx.get("input.step_noise");

            // Each step from the recorded previous sample and the recorded model output.
            for (int i = 0; i < stepT.length; i++) {
                String what = "step " + i + " (t=" + stepT[i] + ", model t=" + stepTModel[i] + ")";
                INDArray x = i == 0 ? fx.get("input.noise") : Fixture.slice(stepSample, i - 1);
                cond.expectedT = Nd4j.valueArrayOf(x.size(0), (long) stepTModel[i]);
                StepOutput out = sampler.step(Fixture.slice(stepModelOut, i), i, x, ReplayNoise.of(Fixture.slice(stepNoise, i)));
                Fixture.assertClose(Fixture.slice(stepGrad, i), cond.last, GRAD_ATOL, 0, what + " cond_grad");
                Fixture.assertClose(Fixture.slice(stepPred, i), out.predXStart(), STEP_ATOL, 0, what + " pred_xstart");
                Fixture.assertClose(Fixture.slice(stepSample, i), out.sample(), STEP_ATOL, 0, what + " sample");
                System.out.printf("%s %s: max |diff| cond_grad %.3g, sample %.3g%n", fx.name(), what,
                        Fixture.maxAbsDiff(Fixture.slice(stepGrad, i), cond.last), Fixture.maxAbsDiff(Fixture.slice(stepSample, i), out.sample()));
            }

            // The whole loop from x_T with the real tiny U-Net and CLIP, replaying only the recorded noise.
            Text2ImUNet unet = fx.recordedModel();
            INDArray tokens = fx.get("input.tokens");
            INDArray mask = fx.get("input.mask");
            TextEncoder.Output<INDArray> text = unet.encodeText(tokens, mask);
            AtomicInteger step = new AtomicInteger();
            DiffusionModel model = (x, t) -> {
                int i = step.getAndIncrement();
                INDArray out = unet.forward(UNetInputs.of(x, t, tokens, mask), text);
                Fixture.assertClose(Fixture.slice(stepModelOut, i), out, LOOP_ATOL, 0, "loop step " + i + " model_out");
                return out;
            };
            cond.expectedT = null;
            cond.calls = 0;
            ReplayNoise noise = ReplayNoise.ofStacked(stepNoise);
            INDArray sample = SamplingLoop.sample(sampler, model, fx.get("input.noise"), noise, null, null);
            assertEquals(stepT.length, cond.calls, "cond_fn once per step");
            assertEquals(0, noise.remaining(), "every recorded noise draw used");
            Fixture.assertClose(fx.get("output.sample"), sample, LOOP_ATOL, 0, "final sample");
            System.out.printf("%s: whole guided loop, max |final sample diff| %.3g%n", fx.name(),
                    Fixture.maxAbsDiff(fx.get("output.sample"), sample));
        }
    }

    @Test
    void guidanceNeedsOnePromptPerRow() throws IOException {
        try (Fixture fx = Fixture.open(RefFixtures.require("clip/guided_step.safetensors"))) {
            ClipModel clip = clip(fx);
            ClipGuidance g = ClipGuidance.of(clip, List.of("one prompt"), 3.0);
            INDArray x = Nd4j.zeros(DataType.FLOAT, 2, 3, clip.config().imageSize(), clip.config().imageSize());
            assertTrue(assertThrows(IllegalArgumentException.class, () -> g.gradient(x, Nd4j.createFromArray(1L, 1L)))
                    .getMessage().contains("one prompt per row"));
            assertThrows(IllegalArgumentException.class, () -> ClipGuidance.of(clip, List.of(), 3.0));
            assertThrows(IllegalArgumentException.class, () -> ClipGuidance.of(clip, List.of("a"), Double.NaN));
        }
    }
}
