package io.github.glidejava.diffusion.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;
import org.opentest4j.AssertionFailedError;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.Fixture;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.VarianceType;

/**
 * improved-diffusion's training losses against {@code losses/*.safetensors} (options from each file's config; the
 * recorded model output is replayed) and the loss primitives; each file's kind comes from its metadata.
 */
class LossParityTest {
    static final double RTOL = 1e-4;
    static final double ATOL = 1e-5;
    static final double TENSOR_TOL = 1e-5;

    /** The kinds of fixture in {@code losses/}, told apart by their metadata, never by file name. */
    enum Kind { PRIMITIVES, TRAINING_LOSS }

    /**
     * Primitives: a config with {@code normal_kl} / {@code dgll} keys, or {@code input.normal_kl.*} /
     * {@code input.dgll.*} tensors; a training loss: a config with {@code loss_type}. Anything else fails, naming the
     * file.
     */
    static Kind kindOf(Fixture fx) {
        boolean primitives = fx.config.has("normal_kl") || fx.config.has("dgll")
                || fx.tensors.names().stream().anyMatch(n -> n.startsWith("input.normal_kl.")
                || n.startsWith("input.dgll."));
        boolean training = fx.config.has("loss_type");
        if (primitives == training) {
            fail(fx.file + ": cannot tell what this loss fixture is: expected either a training-loss config (with"
                    + " 'loss_type') or loss primitives (config keys 'normal_kl'/'dgll' or input.normal_kl.* tensors);"
                    + " config keys " + names(fx.config));
        }
        return primitives ? Kind.PRIMITIVES : Kind.TRAINING_LOSS;
    }

    private static List<String> names(JsonNode config) {
        List<String> out = new ArrayList<>();
        config.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void unknownLossFixturesFailNamingTheFile(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("case.safetensors");
        SafeTensors.write(f, Map.of("input.x", Nd4j.zeros(2)), Map.of("config", "{\"something\": 1}"));
        try (Fixture fx = Fixture.open(f)) {
            AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> kindOf(fx));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("something"), e.getMessage());
        }
        Path g = tmp.resolve("other_name.safetensors");
        SafeTensors.write(g, Map.of("input.normal_kl.mean1", Nd4j.zeros(2)), Map.of("config", "{}"));
        try (Fixture fx = Fixture.open(g)) {
            assertEquals(Kind.PRIMITIVES, kindOf(fx), "primitives are recognised by their tensors");
        }
    }

    /** Every file in {@code losses/}, dispatched on its metadata; both kinds must be present. */
    @TestFactory
    Stream<DynamicTest> lossFixtures() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        Map<Kind, Integer> counts = new java.util.EnumMap<>(Kind.class);
        for (Path f : RefFixtures.list("losses", ".safetensors")) {
            Kind kind;
            try (Fixture fx = Fixture.open(f)) {
                kind = kindOf(fx);
            }
            counts.merge(kind, 1, Integer::sum);
            tests.add(DynamicTest.dynamicTest(f.getFileName().toString() + " (" + kind + ")", () -> {
                if (kind == Kind.PRIMITIVES) {
                    checkPrimitives(f);
                } else {
                    checkLossFixture(f);
                }
            }));
        }
        for (Kind k : Kind.values()) {
            assertTrue(counts.containsKey(k), "no " + k + " fixture in " + RefFixtures.dir().resolve("losses"));
        }
        return tests.stream();
    }

    private static void checkLossFixture(Path file) throws Exception {
        try (Fixture fx = Fixture.open(file)) {
            String name = fx.name();
            if (!fx.cfg("model_mean_type").asText().equals("EPSILON")) {
                fail(name + ": model_mean_type " + fx.cfg("model_mean_type").asText() + " is not supported (EPSILON only)");
            }
            if (fx.cfg("rescale_timesteps").asBoolean()) {
                fail(name + ": rescale_timesteps=true is not supported (GLIDE trains without it)");
            }
            GaussianDiffusion diffusion = GaussianDiffusion.builder()
                    .schedule(fx.cfg("noise_schedule").asText())
                    .steps(fx.cfg("diffusion_steps").asInt())
                    .varianceType(VarianceType.valueOf(fx.cfg("model_var_type").asText()))
                    .build();
            LossType lossType = LossType.named(fx.cfg("loss_type").asText());
            TrainingLosses losses = new TrainingLosses(diffusion, lossType);

            INDArray xStart = fx.get("input.x_start");
            INDArray t = fx.get("input.t");
            INDArray recorded = fx.get("output.model_output");
            INDArray expectedXt = fx.get("output.x_t");
            AtomicInteger calls = new AtomicInteger();
            DiffusionModel replay = (x, ts) -> {
                calls.incrementAndGet();
                // training uses the un-respaced process: the model sees t itself
                assertEquals(java.util.Arrays.toString(t.toLongVector()), java.util.Arrays.toString(ts.toLongVector()),
                        name + ": model timesteps");
                Fixture.assertClose(expectedXt, x, TENSOR_TOL, TENSOR_TOL, name + ": model input x_t");
                return recorded;
            };
            LossTerms<INDArray> terms = losses.compute(replay, xStart, t, fx.get("input.noise"));
            assertEquals(1, calls.get(), name + ": model calls");

            Map<String, INDArray> got = new java.util.LinkedHashMap<>();
            got.put("loss", terms.loss());
            got.put("mse", terms.mse());
            got.put("vb", terms.vb());
            int checked = 0;
            for (JsonNode k : fx.cfg("returned_keys")) {
                String key = k.asText();
                INDArray actual = got.get(key);
                assertNotNull(actual, name + ": returned key '" + key + "' was not computed");
                Fixture.assertClose(fx.get("output." + key), actual, ATOL, RTOL, name + " " + key);
                checked++;
            }
            assertEquals(fx.cfg("returned_keys").size(), checked);
            for (String key : got.keySet()) {
                if (got.get(key) != null && !fx.has("output." + key)) {
                    fail(name + ": computed '" + key + "' that the reference does not return for " + lossType);
                }
            }
            Fixture.assertClose(expectedXt, terms.xT(), TENSOR_TOL, TENSOR_TOL, name + " x_t");
            VbTerms<INDArray> vb = terms.vbTerms();
            assertNotNull(vb, name + ": vb terms (learned variance)");
            Fixture.assertClose(fx.get("output.true_mean"), vb.trueMean(), TENSOR_TOL, TENSOR_TOL, name + " true_mean");
            Fixture.assertClose(fx.get("output.true_log_variance_clipped"), vb.trueLogVarianceClipped(), TENSOR_TOL,
                    TENSOR_TOL, name + " true_log_variance_clipped");
            Fixture.assertClose(fx.get("output.model_mean"), vb.modelMean(), TENSOR_TOL, TENSOR_TOL, name + " model_mean");
            Fixture.assertClose(fx.get("output.model_log_variance"), vb.modelLogVariance(), TENSOR_TOL, TENSOR_TOL,
                    name + " model_log_variance");
            Fixture.assertClose(fx.get("output.model_pred_xstart"), vb.predXStart(), TENSOR_TOL, TENSOR_TOL,
                    name + " model_pred_xstart");
            Fixture.assertClose(fx.get("output.kl_bits"), vb.klBits(), ATOL, RTOL, name + " kl_bits");
            // The decoder NLL enters the loss only where t == 0. Elsewhere the model mean is far from x_0 and the
            // float32 CDF differences cancel catastrophically (numpy's float32 evaluation of the same inputs is as far
            // from torch's), so those rows are not a meaningful comparison.
            long[] tv = t.toLongVector();
            INDArray expectedNll = fx.get("output.decoder_nll_bits");
            for (int i = 0; i < tv.length; i++) {
                if (tv[i] == 0) {
                    Fixture.assertClose(Fixture.slice(expectedNll, i), Fixture.slice(vb.decoderNllBits(), i), ATOL,
                            RTOL, name + " decoder_nll_bits[" + i + "] (t = 0)");
                }
            }
            System.out.printf("%s: %s t=%s loss %s (max |diff| %.3g)%n", name, lossType,
                    java.util.Arrays.toString(t.toLongVector()), fx.get("output.loss"),
                    Fixture.maxAbsDiff(fx.get("output.loss"), terms.loss()));
        }
    }

    /** Each primitive the fixture holds (config key or input tensors) against its recorded output. */
    private static void checkPrimitives(Path file) throws Exception {
        try (Fixture fx = Fixture.open(file)) {
            String name = fx.name();
            int checked = 0;
            if (fx.config.has("normal_kl") || fx.has("input.normal_kl.mean1")) {
                INDArray m1 = fx.get("input.normal_kl.mean1");
                INDArray lv1 = fx.get("input.normal_kl.logvar1");
                Fixture.assertClose(fx.get("output.normal_kl"), GaussianLosses.normalKl(m1, lv1,
                        fx.get("input.normal_kl.mean2"), fx.get("input.normal_kl.logvar2")), 1e-6, 1e-5,
                        name + " normal_kl");
                if (fx.has("output.normal_kl_vs_standard")) {
                    Fixture.assertClose(fx.get("output.normal_kl_vs_standard"), GaussianLosses.normalKl(m1, lv1, 0.0,
                            0.0), 1e-6, 1e-5, name + " normal_kl vs standard normal");
                }
                checked++;
            }
            if (fx.config.has("dgll") || fx.has("input.dgll.x")) {
                Fixture.assertClose(fx.get("output.dgll.log_probs"), GaussianLosses.discretizedGaussianLogLikelihood(
                        fx.get("input.dgll.x"), fx.get("input.dgll.means"), fx.get("input.dgll.log_scales")), 1e-4, 0,
                        name + " discretized_gaussian_log_likelihood");
                checked++;
            }
            if (fx.config.has("cdf") || fx.has("input.cdf.x")) {
                Fixture.assertClose(fx.get("output.cdf.y"), GaussianLosses.approxStandardNormalCdf(
                        fx.get("input.cdf.x")), 1e-6, 0, name + " approx_standard_normal_cdf");
                checked++;
            }
            assertTrue(checked > 0, file + ": no primitive to check");
        }
    }
}
