package io.github.glidejava.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.core.text.TokensAndMask;
import io.github.glidejava.diffusion.NoiseSource;
import io.github.glidejava.diffusion.ReplayNoise;
import io.github.glidejava.diffusion.sampling.SamplerOptions;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.nn.unet.GlideModelConfig;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The pipeline composes its stages exactly as glide-text2im's notebook: fed the reference run's recorded noise, it
 * reproduces the recorded samples. Dispatches on each sampling fixture's metadata (base sampling, guided or not, or
 * upsampling); every setting (sampler and its options eta / clip_denoised / solver_order, respacing, guidance,
 * temperature, sizes) comes from the fixture, and a combination the pipeline cannot express fails with a message
 * saying which.
 */
class GlidePipelineReferenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Whole sampling loops accumulate the float32 round-off of every step: base p_sample/DDIM 1e-3; the upsampler's
     * loop (fast27) is longer, so 3e-3.
     */
    private static final double BASE_ATOL = 1e-3;
    private static final double UPSAMPLE_ATOL = 3e-3;

    @TestFactory
    List<DynamicTest> reproducesEveryReferenceSamplingRun() {
        return RefFixtures.list("sampling", ".safetensors").stream()
                .map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)))
                .collect(Collectors.toList());
    }

    private static void check(Path file) throws IOException {
        try (SafeTensors st = SafeTensors.open(file)) {
            String cfg = st.metadata().get("config");
            if (cfg == null) {
                fail(file + ": no __metadata__.config");
            }
            JsonNode c = JSON.readTree(cfg);
            Path params = RefFixtures.requireDir().resolve(required(file, c, "params_file").asText());
            GlideModelConfig config = GlideModelConfig.fromOptions(required(file, c, "options"));
            if (config.inpaint()) {
                fail(file + ": an inpainting sampling run; the pipeline's inpaint() draws its own seeded noise and"
                        + " this test cannot replay a recorded inpainting run yet");
            }
            GlideModel model = GlideModel.load(params, config);
            SamplerType sampler = SamplerType.named(required(file, c, "sampler").asText());
            SamplerOptions options = samplerOptions(file, c, sampler);
            if (config.superRes()) {
                checkUpsampling(file, st, c, model, sampler, options);
            } else {
                checkBase(file, st, c, model, sampler, options);
            }
        }
    }

    /**
     * The sampler options of the fixture ({@code eta}, {@code clip_denoised}, {@code solver_order}; absent or null
     * keys mean the reference's defaults). An option the sampler does not have fails, naming it.
     */
    static SamplerOptions samplerOptions(Path file, JsonNode c, SamplerType sampler) {
        SamplerOptions.Builder o = SamplerOptions.builder();
        if (c.hasNonNull("clip_denoised")) {
            o.clipDenoised(c.get("clip_denoised").asBoolean());
        }
        if (c.hasNonNull("eta")) {
            o.eta(c.get("eta").asDouble());
        }
        if (c.hasNonNull("solver_order")) {
            o.solverOrder(c.get("solver_order").asInt());
        }
        try {
            return sampler.check(o.build());
        } catch (IllegalArgumentException e) {
            return fail(file + ": " + e.getMessage());
        }
    }

    /** Whether the sampler ignores its per-step draws (then zeros may stand in for unrecorded ones). */
    static boolean deterministic(SamplerType sampler, SamplerOptions options) {
        return switch (sampler) {
            case DDPM -> false;
            case DDIM -> options.etaOr(0) == 0;
            case EULER_ANCESTRAL -> options.etaOr(1) == 0;
            case DPM_SOLVER_PP_2M -> true;
        };
    }

    /**
     * Base sampling. Guided (config {@code guidance_scale} set): the recorded batch is [prompt x n | uncond x n] and
     * the conditional rows must match. Unguided: all rows are the prompt; the pipeline runs it as guidance scale 1
     * (eps = cond) over [recorded rows | a copy], of which the first half is the recorded run.
     */
    private static void checkBase(Path file, SafeTensors st, JsonNode c, GlideModel model, SamplerType sampler,
                                  SamplerOptions options) throws IOException {
        boolean deterministic = deterministic(sampler, options);
        INDArray x0 = st.getFloat("input.noise");
        long rows = x0.size(0);
        if (c.hasNonNull("shape")) {
            assertArrayEquals(longs(c.get("shape")), x0.shape(), file + ": config shape vs input.noise");
        }
        String prompt = c.path("prompt").asText("");
        boolean guided = c.hasNonNull("guidance_scale");
        int n;
        double scale;
        if (guided) {
            if (rows % 2 != 0) {
                fail(file + ": a guided run needs [cond | uncond] rows, got " + rows);
            }
            n = (int) (rows / 2);
            scale = c.get("guidance_scale").asDouble();
            String uncond = c.path("uncond_prompt").asText("");
            if (!uncond.isEmpty()) {
                fail(file + ": uncond_prompt '" + uncond + "', but the pipeline's unconditional prompt is empty");
            }
        } else {
            if (c.hasNonNull("uncond_prompt")) {
                fail(file + ": uncond_prompt given without guidance_scale");
            }
            n = (int) rows;
            scale = 1.0;
        }
        GlidePipeline p = GlidePipeline.builder().base(model).withoutUpsampler().tokenizer(TinyModels.tokenizer())
                .sampler(sampler).samplerOptions(options).steps(required(file, c, "timestep_respacing").asText())
                .guidanceScale(scale).imagesPerPrompt(n).build();

        List<TokensAndMask> expectedRows = new ArrayList<>();
        TokensAndMask cond = p.tokenizer().encodePadded(prompt, model.config().textCtx());
        TokensAndMask uncond = p.tokenizer().encodePadded("", model.config().textCtx());
        for (long i = 0; i < rows; i++) {
            expectedRows.add(!guided || i < n ? cond : uncond);
        }
        checkTokens(file, st, expectedRows);

        List<INDArray> draws = new ArrayList<>();
        draws.add(guided ? x0 : Nd4j.concat(0, x0, x0));
        if (st.contains("input.step_noise")) {
            INDArray stepNoise = st.getFloat("input.step_noise");
            for (long i = 0; i < stepNoise.size(0); i++) {
                INDArray d = stepNoise.get(NDArrayIndex.point(i)).dup();
                draws.add(guided ? d : Nd4j.concat(0, d, d));
            }
        } else if (!deterministic) {
            fail(file + ": " + sampler.configName() + " draws noise at every step but the fixture has no"
                    + " input.step_noise to replay");
        }
        ZeroPadded noise = new ZeroPadded(draws, deterministic);
        GlideResult r = p.sample(prompt, 0, noise);
        noise.assertAllUsed(file);
        INDArray expected = st.getFloat("output.sample").get(NDArrayIndex.interval(0, n), NDArrayIndex.all(),
                NDArrayIndex.all(), NDArrayIndex.all());
        assertClose(expected, r.samples(), BASE_ATOL, file.getFileName() + ": " + (guided ? "guided " : "unguided ")
                + sampler.configName() + " sample");
        assertEquals(n, r.images().size());
    }

    /**
     * Upsampling the recorded low_res at its recorded size (whatever its ratio to the upsampler's size): x_T =
     * temperature * recorded raw draw (or the recorded x_T with temperature 1), per-step draws replayed when
     * recorded.
     */
    private static void checkUpsampling(Path file, SafeTensors st, JsonNode c, GlideModel model, SamplerType sampler,
                                        SamplerOptions options) throws IOException {
        boolean deterministic = deterministic(sampler, options);
        if (c.hasNonNull("guidance_scale")) {
            fail(file + ": a guided upsampling run; the pipeline's upsampler is unguided, as GLIDE's notebooks");
        }
        INDArray lowRes = st.getFloat("input.low_res");
        long rows = lowRes.size(0);
        String prompt = c.path("prompt").asText("");
        double temperature;
        INDArray first;
        if (st.contains("input.noise_raw")) {
            first = st.getFloat("input.noise_raw");
            temperature = c.hasNonNull("upsample_temp") ? c.get("upsample_temp").asDouble() : 1.0;
            if (st.contains("input.noise")) {
                assertClose(st.getFloat("input.noise"), first.mul(temperature), 0, "recorded x_T = raw draw *"
                        + " upsample_temp");
            }
        } else {
            first = st.getFloat("input.noise");
            temperature = 1.0;
        }
        if (c.hasNonNull("shape")) {
            assertArrayEquals(longs(c.get("shape")), first.shape(), file + ": config shape vs recorded x_T");
        }
        assertEquals(rows, first.size(0), file + ": low_res rows vs x_T rows");
        GlidePipeline p = GlidePipeline.builder().withoutBase().upsampler(model).tokenizer(TinyModels.tokenizer())
                .upsampleSampler(sampler).upsampleSamplerOptions(options)
                .upsampleSteps(required(file, c, "timestep_respacing").asText())
                .upsampleTemperature(temperature).imagesPerPrompt((int) rows).build();
        TokensAndMask tokens = p.tokenizer().encodePadded(prompt, model.config().textCtx());
        List<TokensAndMask> expectedRows = new ArrayList<>();
        for (long i = 0; i < rows; i++) {
            expectedRows.add(tokens);
        }
        checkTokens(file, st, expectedRows);

        List<INDArray> draws = new ArrayList<>();
        draws.add(first);
        if (st.contains("input.step_noise")) {
            INDArray stepNoise = st.getFloat("input.step_noise");
            for (long i = 0; i < stepNoise.size(0); i++) {
                draws.add(stepNoise.get(NDArrayIndex.point(i)).dup());
            }
        } else if (!deterministic) {
            fail(file + ": " + sampler.configName() + " draws noise at every step but the fixture has no"
                    + " input.step_noise to replay");
        }
        ZeroPadded noise = new ZeroPadded(draws, deterministic);
        GlideResult r = p.upsampleLowRes(lowRes, prompt, 0, noise);
        noise.assertAllUsed(file);
        assertClose(st.getFloat("output.sample"), r.samples(), UPSAMPLE_ATOL, file.getFileName() + ": upsampled "
                + sampler.configName() + " sample");
        assertEquals(model.imageSize(), r.image(0).getWidth());
    }

    /** The recorded input.tokens / input.mask rows (when recorded) are the rows the pipeline feeds. */
    private static void checkTokens(Path file, SafeTensors st, List<TokensAndMask> expected) {
        if (!st.contains("input.tokens")) {
            return;
        }
        INDArray tokens = st.get("input.tokens");
        INDArray mask = st.contains("input.mask") ? st.get("input.mask").castTo(DataType.INT) : null;
        assertEquals(expected.size(), tokens.size(0), file + ": token rows");
        for (int i = 0; i < expected.size(); i++) {
            long[] want = Arrays.stream(expected.get(i).tokens()).asLongStream().toArray();
            assertArrayEquals(want, tokens.getRow(i).toLongVector(), file + ": tokens of row " + i + " are not the"
                    + " pipeline's (prompt rows, then empty-prompt rows when guided)");
            if (mask != null) {
                boolean[] m = expected.get(i).mask();
                int[] got = mask.getRow(i).toIntVector();
                for (int j = 0; j < m.length; j++) {
                    assertEquals(m[j] ? 1 : 0, got[j], file + ": mask of row " + i + " at " + j);
                }
            }
        }
    }

    /**
     * Replays the recorded draws; after them, for a sampler that ignores its per-step draws (e.g. DDIM, eta 0), zeros
     * stand in for draws the fixture did not record.
     */
    private static final class ZeroPadded implements NoiseSource {
        private final ReplayNoise replay;
        private final boolean zerosAllowed;

        ZeroPadded(List<INDArray> draws, boolean zerosAllowed) {
            this.replay = new ReplayNoise(draws);
            this.zerosAllowed = zerosAllowed;
        }

        @Override
        public INDArray next(long... shape) {
            if (replay.remaining() > 0 || !zerosAllowed) {
                return replay.next(shape);
            }
            return Nd4j.zeros(DataType.FLOAT, shape);
        }

        void assertAllUsed(Path file) {
            assertEquals(0, replay.remaining(), file + ": every recorded draw used");
        }
    }

    private static JsonNode required(Path file, JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull()) {
            fail(file + ": config has no '" + key + "'");
        }
        return n;
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    static void assertClose(INDArray expected, INDArray actual, double atol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double maxDiff = expected.castTo(actual.dataType()).sub(actual).amaxNumber().doubleValue();
        assertTrue(maxDiff <= atol, what + ": max |difference| " + maxDiff + " > " + atol);
        if (atol > 0) {
            System.out.printf("%s: max |difference| %.3g (tolerance %.3g)%n", what, maxDiff, atol);
        }
    }
}
