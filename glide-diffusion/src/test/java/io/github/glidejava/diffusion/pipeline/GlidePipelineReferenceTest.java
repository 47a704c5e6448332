package io.github.glidejava.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.ReplayNoise;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.nn.unet.GlideModelConfig;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The pipeline composes its stages exactly as glide-text2im's notebook: fed the reference run's recorded noise, it
 * reproduces the recorded samples. Dispatches on each sampling fixture's metadata (guided base sampling, or
 * upsampling); every setting comes from the fixture.
 */
class GlidePipelineReferenceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    List<DynamicTest> reproducesEveryReferenceSamplingRun() {
        return RefFixtures.list("sampling", ".safetensors").stream()
                .map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)))
                .collect(Collectors.toList());
    }

    private static void check(Path file) throws IOException {
        try (SafeTensors st = SafeTensors.open(file)) {
            JsonNode c = JSON.readTree(st.metadata().get("config"));
            Path params = RefFixtures.requireDir().resolve(c.get("params_file").asText());
            GlideModelConfig config = GlideModelConfig.fromOptions(c.get("options"));
            GlideModel model = GlideModel.load(params, config);
            String sampler = c.get("sampler").asText();
            if (config.superRes()) {
                checkUpsampling(st, c, model, sampler);
            } else {
                checkGuidedBase(st, c, model, sampler);
            }
        }
    }

    /** Guided base sampling: x_T and every step's draw replayed; the conditional rows must match. */
    private static void checkGuidedBase(SafeTensors st, JsonNode c, GlideModel model, String sampler)
            throws IOException {
        long[] shape = longs(c.get("shape"));
        int n = (int) shape[0] / 2;
        String prompt = c.get("prompt").asText();
        assertEquals("", c.get("uncond_prompt").asText(), "the pipeline's unconditional prompt is empty");
        GlidePipeline p = GlidePipeline.builder().base(model).withoutUpsampler().tokenizer(TinyModels.tokenizer())
                .sampler(SamplerType.named(sampler)).steps(c.get("timestep_respacing").asText())
                .guidanceScale(c.get("guidance_scale").asDouble()).imagesPerPrompt(n).build();

        INDArray refTokens = st.get("input.tokens");
        int[] ours = p.tokenizer().encodePadded(prompt, model.config().textCtx()).tokens();
        long[] refRow = refTokens.getRow(0).toLongVector();
        assertArrayEquals(refRow, java.util.Arrays.stream(ours).asLongStream().toArray(), "prompt tokens");

        List<INDArray> draws = new ArrayList<>();
        draws.add(st.getFloat("input.noise"));
        INDArray stepNoise = st.getFloat("input.step_noise");
        for (long i = 0; i < stepNoise.size(0); i++) {
            draws.add(stepNoise.get(NDArrayIndex.point(i)).dup());
        }
        ReplayNoise noise = new ReplayNoise(draws);
        GlideResult r = p.sample(prompt, 0, noise);
        assertEquals(0, noise.remaining(), "every recorded draw used");
        INDArray expected = st.getFloat("output.sample").get(NDArrayIndex.interval(0, n), NDArrayIndex.all(),
                NDArrayIndex.all(), NDArrayIndex.all());
        assertClose(expected, r.samples(), 1e-3, "guided " + sampler + " sample");
        assertEquals(n, r.images().size());
    }

    /** Upsampling a recorded low-resolution image: x_T = temperature * recorded draw, DDIM eta 0. */
    private static void checkUpsampling(SafeTensors st, JsonNode c, GlideModel model, String sampler)
            throws IOException {
        INDArray lowRes = st.getFloat("input.low_res");
        GlidePipeline p = GlidePipeline.builder().withoutBase().upsampler(model).tokenizer(TinyModels.tokenizer())
                .upsampleSampler(SamplerType.named(sampler)).upsampleSteps(c.get("timestep_respacing").asText())
                .upsampleTemperature(c.get("upsample_temp").asDouble()).build();
        assertTrue(lowRes.size(2) == model.imageSize() / 4,
                "the pipeline brings images to a quarter of the upsampler's size; the fixture's low_res is "
                        + lowRes.size(2));
        INDArray noiseRaw = st.getFloat("input.noise_raw");
        assertClose(st.getFloat("input.noise"), noiseRaw.mul(c.get("upsample_temp").asDouble()), 0, "temperature");
        int steps = (int) st.info("output.step_t").shape()[0];
        List<INDArray> draws = new ArrayList<>();
        draws.add(noiseRaw);
        for (int i = 0; i < steps; i++) {
            draws.add(Nd4j.zeros(noiseRaw.shape())); // eta = 0: the per-step draws are multiplied by sigma = 0
        }
        GlideResult r = p.upsample(ImageTensors.toImage(lowRes, 0), c.get("prompt").asText(), 0,
                new ReplayNoise(draws));
        assertClose(st.getFloat("output.sample"), r.samples(), 3e-3, "upsampled " + sampler + " sample");
        assertEquals(model.imageSize(), r.image(0).getWidth());
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
    }
}
