package io.github.glidejava.diffusion.resample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;

/**
 * The samplers against {@code training/resampler.json}: the update calls replayed in order, the weights after every
 * call (exact, float64), the warm-up call, loss history and counts, {@code sample()}'s probabilities and the
 * importance weights of the indices numpy drew; every setting from the file. Then the behaviour numpy's generator
 * does not pin down: draws follow the probabilities, and a restored state resumes the same draws.
 */
class ResamplerParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode fixture() throws Exception {
        Path f = RefFixtures.require("training/resampler.json");
        return JSON.readTree(f.toFile());
    }

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static LossSecondMomentResampler sampler(JsonNode fx, long seed) {
        return new LossSecondMomentResampler(fx.get("num_timesteps").asInt(), fx.get("history_per_term").asInt(),
                fx.get("uniform_prob").asDouble(), seed);
    }

    @Test
    void lossSecondMomentResamplerMatchesTheReferenceExactly() throws Exception {
        JsonNode fx = fixture();
        int n = fx.get("num_timesteps").asInt();
        assertArrayEquals(doubles(fx.get("uniform_sampler_weights")), new UniformSampler(n, 0).weights(), 0.0);
        LossSecondMomentResampler s = sampler(fx, 1);
        assertArrayEquals(doubles(fx.get("weights_before_any_call")), s.weights(), 0.0);
        int warmedAt = -1;
        JsonNode calls = fx.get("calls");
        for (int c = 0; c < calls.size(); c++) {
            JsonNode call = calls.get(c);
            s.updateWithAllLosses(ints(call.get("ts")), doubles(call.get("losses")));
            assertEquals(call.get("warmed_up_after").asBoolean(), s.warmedUp(), "call " + c + " warmed up");
            assertArrayEquals(ints(call.get("loss_counts_after")), s.lossCounts(), "call " + c + " loss counts");
            assertArrayEquals(doubles(call.get("weights_after")), s.weights(), 0.0, "call " + c + " weights");
            if (call.has("loss_history_after")) {
                assertHistory(call.get("loss_history_after"), s, "call " + c);
            }
            if (warmedAt < 0 && s.warmedUp()) {
                warmedAt = c;
            }
        }
        assertEquals(fx.get("warmed_up_at_call").asInt(), warmedAt, "first warmed-up call (0-based)");
        assertHistory(fx.get("final_loss_history"), s, "final");
        assertArrayEquals(ints(fx.get("final_loss_counts")), s.lossCounts(), "final loss counts");

        JsonNode sample = fx.get("sample");
        assertArrayEquals(doubles(sample.get("p")), s.probabilities(), 0.0, "sample() probabilities");
        float[] expected = new float[sample.get("importance_weights").size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (float) sample.get("importance_weights").get(i).asDouble();
        }
        assertArrayEquals(expected, s.importanceWeights(ints(sample.get("indices"))), 0f, "importance weights");
        Sample drawn = s.sample(sample.get("batch_size").asInt());
        assertEquals(sample.get("batch_size").asInt(), drawn.timesteps().length);
        double[] p = s.probabilities();
        for (int i = 0; i < drawn.timesteps().length; i++) {
            assertEquals((float) (1 / (n * p[drawn.timesteps()[i]])), drawn.weights()[i], 0f);
        }
    }

    private static void assertHistory(JsonNode expected, LossSecondMomentResampler s, String what) {
        double[][] h = s.lossHistory();
        assertEquals(expected.size(), h.length, what + " history rows");
        for (int t = 0; t < h.length; t++) {
            assertArrayEquals(doubles(expected.get(t)), h[t], 0.0, what + " history of timestep " + t);
        }
    }

    @Test
    void drawsFollowTheProbabilitiesAndResumeFromASavedState() throws Exception {
        JsonNode fx = fixture();
        LossSecondMomentResampler s = sampler(fx, 42);
        for (JsonNode call : fx.get("calls")) {
            s.updateWithAllLosses(ints(call.get("ts")), doubles(call.get("losses")));
        }
        double[] p = s.probabilities();
        int draws = 200_000;
        Map<Integer, Integer> counts = new HashMap<>();
        for (int t : s.sample(draws).timesteps()) {
            counts.merge(t, 1, Integer::sum);
        }
        for (int t = 0; t < p.length; t++) {
            double freq = counts.getOrDefault(t, 0) / (double) draws;
            double sigma = Math.sqrt(p[t] * (1 - p[t]) / draws);
            assertEquals(p[t], freq, 5 * sigma + 1e-9, "frequency of timestep " + t);
        }
        // the state carries the history and the generator: the copy draws the same timesteps
        LossSecondMomentResampler.State saved = s.state();
        LossSecondMomentResampler copy = sampler(fx, 7);
        copy.restore(saved);
        assertArrayEquals(s.sample(16).timesteps(), copy.sample(16).timesteps());
        assertArrayEquals(s.weights(), copy.weights(), 0.0);
        s.updateWithAllLosses(new int[] {0}, new double[] {1e3});
        assertTrue(s.weights()[0] != copy.weights()[0], "the copy is independent");
        assertThrows(IllegalArgumentException.class, () -> new LossSecondMomentResampler(4, 3, 0.001, 0)
                .restore(saved));
    }

    @Test
    void badInputIsRejectedClearly() {
        LossSecondMomentResampler s = new LossSecondMomentResampler(4, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.updateWithAllLosses(new int[] {1, 4}, new double[] {1, 2}));
        assertTrue(e.getMessage().contains("4"), e.getMessage());
        assertArrayEquals(new int[] {0, 0, 0, 0}, s.lossCounts(), "nothing recorded from a bad call");
        assertThrows(IllegalArgumentException.class, () -> s.updateWithAllLosses(new int[] {1}, new double[] {1, 2}));
        assertThrows(IllegalArgumentException.class,
                () -> s.updateWithAllLosses(new int[] {1}, new double[] {Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> s.sample(0));
        assertThrows(IllegalArgumentException.class, () -> new UniformSampler(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new LossSecondMomentResampler(4, 10, 1.5, 0));
        Sample u = new UniformSampler(5, 3).sample(100);
        for (int i = 0; i < 100; i++) {
            assertTrue(u.timesteps()[i] >= 0 && u.timesteps()[i] < 5);
            assertEquals(1f, u.weights()[i]);
        }
    }
}
