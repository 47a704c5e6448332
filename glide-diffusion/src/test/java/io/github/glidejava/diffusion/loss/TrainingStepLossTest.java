package io.github.glidejava.diffusion.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.Fixture;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.VarianceType;

/**
 * The loss terms of every {@code training/*} file that records its model output: with {@code output.model_output}
 * replayed as the model's output, {@link TrainingLosses} gives {@code output.loss / mse / vb} and the differentiated
 * scalar {@code output.loss_mean = (loss * weights).mean()}; tolerances {@code 4 max_abs + 1e-6 max_abs_ref} from
 * the file's {@code fp64_deviation}. The caption dropout is already in the stored tokens (the model is not run here).
 */
class TrainingStepLossTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> recordedStepLosses() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : RefFixtures.list("training", ".safetensors")) {
            boolean hasOutput;
            try (Fixture fx = Fixture.open(f)) {
                hasOutput = fx.has("output.model_output");
            }
            if (hasOutput) {
                tests.add(DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)));
            }
        }
        assertTrue(!tests.isEmpty(), "no training file with output.model_output in " + RefFixtures.dir());
        return tests.stream();
    }

    private static void check(Path file) throws Exception {
        try (Fixture fx = Fixture.open(file)) {
            String name = fx.name();
            if (!fx.cfg("model_mean_type").asText().equals("EPSILON") || fx.cfg("rescale_timesteps").asBoolean()) {
                fail(name + ": only EPSILON without timestep rescaling is supported, config " + fx.config);
            }
            GaussianDiffusion diffusion = GaussianDiffusion.builder()
                    .schedule(fx.cfg("noise_schedule").asText())
                    .steps(fx.cfg("diffusion_steps").asInt())
                    .varianceType(VarianceType.valueOf(fx.cfg("model_var_type").asText()))
                    .build();
            LossType type = LossType.named(fx.cfg("loss_type").asText());
            TrainingLosses losses = new TrainingLosses(diffusion, type);
            INDArray t = fx.get("input.t");
            INDArray recorded = fx.get("output.model_output");
            INDArray expectedXt = fx.get("output.x_t");
            LossTerms<INDArray> terms = losses.compute((x, ts) -> {
                assertEquals(java.util.Arrays.toString(t.toLongVector()), java.util.Arrays.toString(ts.toLongVector()),
                        name + ": model timesteps");
                Fixture.assertClose(expectedXt, x, 1e-5, 1e-5, name + ": model input x_t");
                return recorded;
            }, fx.get("input.x_start"), t, fx.get("input.noise"));

            JsonNode dev = JSON.readTree(fx.tensors.metadata().get("fp64_deviation"));
            double vbFactor = fx.config.path("vb_factor").asDouble(1.0);
            assertEquals(type == LossType.RESCALED_MSE ? diffusion.numTimesteps() / 1000.0 : 1.0, vbFactor, 1e-12,
                    name + ": config vb_factor");
            compare(fx, dev, "loss", terms.loss());
            compare(fx, dev, "mse", terms.mse());
            compare(fx, dev, "vb", terms.vb());
            INDArray mean = TrainingLosses.weightedMean(GaussianLosses.eager(), terms.loss(), fx.get("input.weights"));
            compare(fx, dev, "loss_mean", mean.reshape(1));
        }
    }

    private static void compare(Fixture fx, JsonNode dev, String key, INDArray actual) {
        JsonNode d = dev.get(key);
        if (d == null) {
            fail(fx.name() + ": fp64_deviation has no '" + key + "'");
        }
        double tol = 4 * d.get("max_abs").asDouble() + 1e-6 * d.get("max_abs_ref").asDouble();
        INDArray expected = fx.get("output." + key);
        Fixture.assertClose(expected, actual, tol, 0, fx.name() + " " + key);
        System.out.printf("%s %s: max |diff| %.3g (tolerance %.3g)%n", fx.name(), key,
                Fixture.maxAbsDiff(expected, actual), tol);
    }
}
