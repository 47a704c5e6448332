package io.github.glidejava.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;

/** Every entry of the fixture set's schedules.json: named schedules, space_timesteps (and its errors), respacing. */
class ScheduleFixtureTest {
    static final double RTOL = 1e-12;

    static JsonNode schedules() throws IOException {
        Path f = RefFixtures.require("schedules.json");
        return new ObjectMapper().readTree(f.toFile());
    }

    @TestFactory
    Stream<DynamicTest> namedSchedules() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode e : schedules().get("named")) {
            String name = e.get("schedule").asText();
            int steps = e.get("steps").asInt();
            tests.add(DynamicTest.dynamicTest(name + " " + steps, () -> {
                double[] betas = NoiseSchedule.named(name).betas(steps);
                assertClose(doubles(e.get("betas")), betas, "betas " + name + " " + steps);
                GaussianDiffusion d = GaussianDiffusion.builder().schedule(name).steps(steps).build();
                assertClose(doubles(e.get("alphas_cumprod")), d.alphasCumprod(), "alphas_cumprod " + name);
                assertEquals(steps, d.numTimesteps());
            }));
        }
        return nonEmpty(tests, "named");
    }

    @TestFactory
    Stream<DynamicTest> spaceTimesteps() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode e : schedules().get("space_timesteps")) {
            int t = e.get("num_timesteps").asInt();
            String s = e.get("section_counts").asText();
            tests.add(DynamicTest.dynamicTest(t + " '" + s + "'", () -> {
                int[] got = TimestepRespacing.spaceTimesteps(t, s);
                assertArrayEquals(ints(e.get("timesteps")), got, "space_timesteps(" + t + ", '" + s + "')");
                assertEquals(e.get("count").asInt(), got.length);
            }));
        }
        return nonEmpty(tests, "space_timesteps");
    }

    @TestFactory
    Stream<DynamicTest> spaceTimestepsErrors() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode e : schedules().get("space_timesteps_errors")) {
            int t = e.get("num_timesteps").asInt();
            String s = e.get("section_counts").asText();
            tests.add(DynamicTest.dynamicTest(t + " '" + s + "' -> " + e.get("error").asText(), () -> {
                IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                        () -> TimestepRespacing.spaceTimesteps(t, s));
                assertTrue(ex.getMessage().contains(s), "message names the input: " + ex.getMessage());
            }));
        }
        return nonEmpty(tests, "space_timesteps_errors");
    }

    @TestFactory
    Stream<DynamicTest> respaced() throws IOException {
        Map<String, Function<GaussianDiffusion, double[]>> arrays = new java.util.LinkedHashMap<>();
        arrays.put("betas", GaussianDiffusion::betas);
        arrays.put("alphas_cumprod", GaussianDiffusion::alphasCumprod);
        arrays.put("alphas_cumprod_prev", GaussianDiffusion::alphasCumprodPrev);
        arrays.put("alphas_cumprod_next", GaussianDiffusion::alphasCumprodNext);
        arrays.put("sqrt_recip_alphas_cumprod", GaussianDiffusion::sqrtRecipAlphasCumprod);
        arrays.put("sqrt_recipm1_alphas_cumprod", GaussianDiffusion::sqrtRecipm1AlphasCumprod);
        arrays.put("posterior_variance", GaussianDiffusion::posteriorVariance);
        arrays.put("posterior_log_variance_clipped", GaussianDiffusion::posteriorLogVarianceClipped);
        arrays.put("posterior_mean_coef1", GaussianDiffusion::posteriorMeanCoef1);
        arrays.put("posterior_mean_coef2", GaussianDiffusion::posteriorMeanCoef2);
        arrays.put("log_betas", GaussianDiffusion::logBetas);
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode e : schedules().get("respaced")) {
            String sched = e.get("schedule").asText();
            int steps = e.get("steps").asInt();
            String resp = e.get("respacing").asText();
            tests.add(DynamicTest.dynamicTest(sched + " " + steps + " '" + resp + "'", () -> {
                GaussianDiffusion d = GaussianDiffusion.builder().schedule(sched).steps(steps).respacing(resp).build();
                assertEquals(e.get("num_timesteps").asInt(), d.numTimesteps());
                assertArrayEquals(ints(e.get("timestep_map")), d.timestepMap(), "timestep_map");
                for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
                    String k = it.next();
                    JsonNode v = e.get(k);
                    if (!v.isArray() || k.equals("timestep_map")) {
                        continue;
                    }
                    Function<GaussianDiffusion, double[]> getter = arrays.get(k);
                    if (getter == null) {
                        fail("respaced entry has array '" + k + "' that this test does not know");
                    }
                    assertClose(doubles(v), getter.apply(d), k + " (" + sched + " '" + resp + "')");
                }
            }));
        }
        return nonEmpty(tests, "respaced");
    }

    static Stream<DynamicTest> nonEmpty(List<DynamicTest> tests, String key) {
        assertTrue(!tests.isEmpty(), "schedules.json has no '" + key + "' entries");
        return tests.stream();
    }

    static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (e == a || (Double.isInfinite(e) && e == a)) {
                continue;
            }
            if (!(Math.abs(a - e) <= RTOL * Math.abs(e))) {
                fail(what + "[" + i + "]: expected " + e + ", got " + a + " (rel. diff "
                        + Math.abs(a - e) / Math.abs(e) + " > " + RTOL + ")");
            }
        }
    }

    static double[] doubles(JsonNode arr) {
        double[] out = new double[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Double.parseDouble(arr.get(i).asText());
        }
        return out;
    }

    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).intValue();
        }
        return out;
    }
}
