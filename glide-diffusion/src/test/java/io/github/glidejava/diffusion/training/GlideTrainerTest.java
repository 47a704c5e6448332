package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.nn.unet.GlideModelConfig;

/** End to end on a data set the test draws: the loss falls, outputs load, and a resumed run continues exactly. */
class GlideTrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        data = ShapesDataset.write(shared.resolve("shapes"), 24, 16, 7);
    }

    static GlideModelConfig tiny() throws IOException {
        return GlideModelConfig.fromJson(TrainingPresets.resolve("tiny16", null).toJson()).toBuilder()
                .numChannels(32).xfWidth(16).xfLayers(1).build();
    }

    static TrainingRecipe.Builder recipe() {
        return TrainingRecipe.builder().batchSize(8).lr(2e-3).emaRates(List.of(0.9, 0.99)).seed(11)
                .checkpointEvery(1000);
    }

    /**
     * The losses of a resumed run against an uninterrupted one's. Within one process they are equal bit for bit; a
     * run continued in another process may differ in the last bits of float32 (multi-threaded reductions), so
     * each loss must agree to a relative 1e-6, far below what a lost or repeated step or another draw would change.
     */
    static void assertSameLosses(List<Double> expected, List<Double> actual, String message) {
        assertEquals(expected.size(), actual.size(), message + ": number of logged steps");
        for (int i = 0; i < expected.size(); i++) {
            double e = expected.get(i);
            double a = actual.get(i);
            assertTrue(Math.abs(e - a) <= 1e-6 * Math.max(Math.abs(e), 1e-12),
                    message + ": step " + (i + 1) + " loss " + a + ", uninterrupted " + e + "; all: " + actual
                            + " vs " + expected);
        }
    }

    static List<Double> losses(Path output) throws IOException {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(output.resolve(GlideTrainer.METRICS_FILE))) {
            out.add(JSON.readTree(line).get("loss").asDouble());
        }
        return out;
    }

    @Test
    void lossFallsAndTheOutputLoadsAsAModel(@TempDir Path out) throws IOException {
        GlideTrainer.Result r = GlideTrainer.builder().model(tiny()).data(data).output(out)
                .recipe(recipe().steps(30).logEvery(1).lossType(io.github.glidejava.diffusion.loss.LossType.MSE).build())
                .build().train();
        assertEquals(30, r.steps());
        List<Double> l = losses(out);
        assertEquals(30, l.size());
        double first = l.subList(0, 5).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = l.subList(25, 30).stream().mapToDouble(d -> d).average().orElseThrow();
        assertTrue(last < 0.6 * first, "loss did not fall: first steps " + first + ", last steps " + last);
        for (String f : List.of("model.safetensors", "ema-0.9.safetensors", "ema-0.99.safetensors", "config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing in the output");
        }
        GlideModel loaded = GlideModel.load(out.resolve("model.safetensors"));
        assertEquals(tiny().toJson(), loaded.config().toJson());
        assertTrue(Files.isDirectory(out.resolve("checkpoints").resolve(CheckpointDirectory.name(30))));
        assertTrue(Files.isRegularFile(out.resolve("loss.png")), "no loss curve");
        // the output directory is a model, through the pipeline users sample with: its slowest EMA once the
        // initial weights weigh little in it (0.9^30 = 4%), but not an EMA still mostly the start (0.99^30 = 74%)
        assertEquals("ema-0.9.safetensors", GlideModel.load(out).name());
        io.github.glidejava.diffusion.pipeline.GlideResult sample = io.github.glidejava.diffusion.pipeline.GlidePipeline
                .builder().base(out).withoutUpsampler().steps(4).seed(1).build().sample("a red disc");
        assertEquals(16, sample.image(0).getWidth());
    }

    @Test
    void aResumedRunContinuesExactlyAsAnUninterruptedOne(@TempDir Path whole, @TempDir Path split) throws IOException {
        TrainingRecipe six = recipe().steps(6).checkpointEvery(3)
                .timestepSampler(TrainingRecipe.TimestepSampling.LOSS_SECOND_MOMENT).build();
        GlideTrainer.builder().model(tiny()).data(data).output(whole).recipe(six).build().train();

        GlideTrainer.builder().model(tiny()).data(data).output(split)
                .recipe(six.toBuilder().steps(3).build()).build().train();
        GlideTrainer.Result r = GlideTrainer.builder().model(tiny()).data(data).output(split).recipe(six).resume(true)
                .build().train();
        assertEquals(6, r.steps());
        assertEquals(losses(whole), losses(split));
        assertEquals(Files.size(whole.resolve("model.safetensors")), Files.size(split.resolve("model.safetensors")));
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(whole.resolve("ema-0.99.safetensors")),
                Files.readAllBytes(split.resolve("ema-0.99.safetensors"))), "EMA weights differ after resume");
    }

    @Test
    void fineTuningLeavesFrozenPartsUnchanged(@TempDir Path first, @TempDir Path tuned) throws IOException {
        GlideTrainer.builder().model(tiny()).data(data).output(first).recipe(recipe().steps(1).build()).build().train();
        Path start = first.resolve("model.safetensors");
        GlideTrainer.Result r = GlideTrainer.builder().finetune(start).data(data).output(tuned)
                .recipe(recipe().steps(2).freeze(List.of("transformer.", "token_embedding")).build()).build().train();
        io.github.glidejava.core.io.StateDict before = io.github.glidejava.core.io.StateDict.load(start);
        io.github.glidejava.core.io.StateDict after = io.github.glidejava.core.io.StateDict.load(
                tuned.resolve("model.safetensors"));
        int frozen = 0, changed = 0;
        for (String k : before.keys()) {
            boolean same = before.get(k).equals(after.get(k));
            if (k.startsWith("transformer.") || k.startsWith("token_embedding")) {
                assertTrue(same, k + " is frozen but changed");
                frozen++;
            } else if (!same) {
                changed++;
            }
        }
        assertTrue(frozen > 0, "the tiny model has no transformer parameters to freeze");
        assertTrue(changed > 0, "fine-tuning changed nothing");
        assertEquals(2, r.steps());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GlideTrainer.builder()
                .finetune(start).data(data).output(tuned.resolve("x")).recipe(recipe().steps(1).freeze(List.of(""))
                        .build()).build().train());
        assertTrue(e.getMessage().contains("--freeze"), e.getMessage());
    }

    @Test
    void anOutputWithCheckpointsNeedsResume(@TempDir Path out) throws IOException {
        GlideTrainer.builder().model(tiny()).data(data).output(out).recipe(recipe().steps(1).build()).build().train();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> GlideTrainer.builder().model(tiny())
                .data(data).output(out).recipe(recipe().steps(2).build()).build().train());
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }

    @Test
    void recipeValidationSaysHowToFixTheCall() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingRecipe.builder().batchSize(8).microBatch(3).build());
        assertTrue(e.getMessage().contains("micro-batch"), e.getMessage());
        assertTrue(e.getMessage().contains("--steps"), e.getMessage());
        TrainingRecipe r = recipe().steps(10).warmupSteps(4).lrDecay(TrainingRecipe.LrDecay.COSINE).build();
        assertEquals(r, TrainingRecipe.fromJson(r.toJson()));
        assertEquals(r, r.toBuilder().build());
        TrainingRecipe timed = r.toBuilder().time(java.time.Duration.ofMinutes(90)).snrGamma(5)
                .timestepSampler(TrainingRecipe.TimestepSampling.LOSS_SECOND_MOMENT).microBatch(4)
                .precision(io.github.glidejava.nn.ops.Precision.BF16).build();
        assertEquals(timed, TrainingRecipe.fromJson(timed.toJson()));
        // the keys and values checkpoints hold (improved-diffusion's flag names, lower-case choices)
        com.fasterxml.jackson.databind.JsonNode json = assertDoesNotThrow(() -> JSON.readTree(timed.toJson()));
        assertEquals("PT1H30M", json.get("time").asText());
        assertEquals(4, json.get("microbatch").asInt());
        assertEquals("cosine", json.get("lr_decay").asText());
        assertEquals("loss-second-moment", json.get("timestep_sampler").asText());
        assertEquals("RESCALED_MSE", json.get("loss_type").asText());
        assertEquals(5.0, json.get("snr_gamma").asDouble());
        assertEquals("bf16", json.get("precision").asText());
        assertEquals(List.of(0.9, 0.99), List.of(json.get("ema_rates").get(0).asDouble(),
                json.get("ema_rates").get(1).asDouble()));
        // a recipe written before snr_gamma existed, with a key this version does not know, reads with the defaults
        TrainingRecipe old = TrainingRecipe.fromJson("{\"batch_size\":32,\"steps\":2000,\"lr\":4.0E-4,"
                + "\"lr_decay\":\"cosine\",\"timestep_sampler\":\"uniform\",\"loss_type\":\"RESCALED_MSE\","
                + "\"ema_rates\":[0.995,0.998],\"freeze\":[],\"some_future_key\":1}");
        assertEquals(32, old.batchSize());
        assertEquals(0.0, old.snrGamma());
        assertEquals(List.of(0.995, 0.998), old.emaRates());
        assertEquals(TrainingRecipe.LrDecay.COSINE, old.lrDecay());
        assertEquals(io.github.glidejava.nn.ops.Precision.FP32, old.precision(), "recipes from before the option");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> TrainingRecipe.fromJson("{\"steps\":10,\"lr\":-1}"));
        assertTrue(bad.getMessage().contains("--lr"), bad.getMessage());
        assertEquals(2e-3 / 4, r.learningRate(0, 10), 1e-15);
        assertEquals(2e-3, r.learningRate(4, 10), 1e-15);
        assertEquals(0.0, r.learningRate(10, 10), 1e-15);
    }
}
