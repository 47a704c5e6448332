package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.Fixture;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.loss.LossType;
import io.github.glidejava.diffusion.loss.TrainingLosses;
import io.github.glidejava.nn.autodiff.Gradients;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.unet.Text2ImUNet;

/**
 * The trainer's own step ({@link TrainingStep} on the tape back-end, then {@link Optimisation}) reproduces every
 * recorded training step of the reference ({@code training/*.safetensors}): loss terms, the gradient of every
 * parameter, the norm and clipping, AdamW and EMA; and for the multi-step file, several steps in a row with one
 * optimiser. Every setting (schedule, T, loss type, optimiser, clipping, EMA rate) comes from the file's metadata.
 * Tolerances from the metadata too: per tensor {@code 4 dev + 1e-6 max}, plus {@code 1e-7} of the largest gradient
 * for float32 sums in another order than torch's (and a quarter of the file's worst gradient deviation when a row is
 * at t = 0, where the decoder likelihood amplifies that order); zero-gradient parameters absolutely; parameters after a step also
 * allow Adam's first-order response to the gradients' difference, {@code lr / eps} times it.
 */
class TrainerStepParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> recordedSteps() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : RefFixtures.list("training", ".safetensors")) {
            tests.add(DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)));
        }
        assertTrue(!tests.isEmpty(), "no training step file in " + RefFixtures.dir());
        return tests.stream();
    }

    private static void check(Path file) throws Exception {
        try (Fixture fx = Fixture.open(file)) {
            String name = fx.name();
            Text2ImUNet model = fx.recordedModel();
            ParameterStore store = model.parameters();
            GaussianDiffusion diffusion = fx.recordedDiffusion();
            JsonNode opt = fx.cfg("optimizer");
            JsonNode clip = fx.cfg("clip_grad_norm");
            TrainingRecipe recipe = TrainingRecipe.builder().steps(1).lr(opt.get("lr").asDouble())
                    .betas(opt.get("betas").get(0).asDouble(), opt.get("betas").get(1).asDouble())
                    .adamEps(opt.get("eps").asDouble()).weightDecay(opt.get("weight_decay").asDouble())
                    .maxGradNorm(clip == null || clip.isNull() ? 0 : clip.get("max_norm").asDouble())
                    .emaRates(List.of(fx.cfg("ema_rate").asDouble())).build();
            Optimisation optimisation = new Optimisation(store, recipe);
            TrainingStep step = new TrainingStep(model,
                    new TrainingLosses(diffusion, LossType.named(fx.cfg("loss_type").asText())), optimisation,
                    recipe.precision());
            JsonNode deviation = JSON.readTree(fx.tensors.metadata().get("fp64_deviation"));
            JsonNode perParam = JSON.readTree(fx.tensors.metadata().get("fp64_deviation_per_param"));
            Set<String> zero = new HashSet<>();
            for (JsonNode k : JSON.readTree(fx.tensors.metadata().get("zero_gradient_params"))) {
                zero.add(k.asText());
            }
            int numSteps = fx.cfg("num_steps").asInt();
            double slope = recipe.lr() / recipe.adamEps();
            double worstGradDiff = 0;
            for (int s = 0; s < numSteps; s++) {
                TrainingStep.Inputs in = inputs(fx, numSteps > 1 ? s : -1);
                Gradients g = step.computeGradients(in, in.batch());
                INDArray wantLoss = row(fx.get("output.loss"), numSteps > 1 ? s : -1);
                JsonNode ld = deviation.get("loss");
                double[] loss = step.lastLoss();
                for (int i = 0; i < loss.length; i++) {
                    assertEquals(wantLoss.getDouble(i), loss[i], 4 * ld.get("max_abs").asDouble()
                            + 1e-6 * ld.get("max_abs_ref").asDouble(), name + " step " + s + ": loss of row " + i);
                }
                JsonNode md = deviation.get("loss_mean");
                assertEquals(fx.get("output.loss_mean").getDouble(numSteps > 1 ? s : 0), step.lastLossMean(),
                        4 * md.get("max_abs").asDouble() + 1e-6 * md.get("max_abs_ref").asDouble(),
                        name + " step " + s + ": loss_mean");
                if (fx.tensors.names().stream().anyMatch(n -> n.startsWith("grad."))) {
                    // a row at t = 0 (the decoder likelihood) makes float32 gradients depend on the order of every
                    // sum, which the file's worst recorded deviation of any gradient measures: a quarter of it
                    // is allowed on every tensor (the tape in float64 agrees with the float64 reference; its float32
                    // result and torch's each deviate by about this much)
                    boolean tZero = java.util.Arrays.stream(in.t()).anyMatch(v -> v == 0);
                    double orderNoise = tZero ? 0.25 * deviation.get("grad").get("max_abs").asDouble() : 0;
                    double maxGrad = 0;
                    for (String k : store.keys()) {
                        maxGrad = Math.max(maxGrad, fx.get("grad." + k).amaxNumber().doubleValue());
                    }
                    for (String k : store.keys()) {
                        INDArray got = store.spec(k).layout().toTorch(g.get(k));
                        double diff = Fixture.maxAbsDiff(fx.get("grad." + k), got);
                        worstGradDiff = Math.max(worstGradDiff, diff);
                        if (zero.contains(k)) {
                            assertTrue(got.amaxNumber().doubleValue() <= 1e-6 * maxGrad,
                                    name + ": " + k + " has a zero gradient in exact arithmetic, got " + got.amaxNumber());
                            continue;
                        }
                        JsonNode d = perParam.get("grad").get(k);
                        double tol = 4 * d.get(0).asDouble() + 1e-6 * d.get(1).asDouble() + 1e-7 * maxGrad
                                + orderNoise;
                        assertTrue(diff <= tol, name + ": grad." + k + " max |diff| " + diff + " > " + tol
                                + " (recorded " + fx.get("grad." + k) + ", got " + got + ")");
                    }
                }
                double norm = optimisation.step(recipe.lr());
                JsonNode nd = deviation.get("grad_norm");
                assertEquals(fx.get("output.grad_norm").getDouble(numSteps > 1 ? s : 0), norm,
                        4 * nd.get("max_abs").asDouble() + 1e-6 * nd.get("max_abs_ref").asDouble()
                                + 1e-6 * norm, name + " step " + s + ": grad_norm");
            }
            // a single step: Adam's response to the gradients' recorded difference. Several steps record no
            // gradients: Adam's g / (|g| + eps) turns two float32 gradients that each deviate from the exact one by
            // up to dev into parameters that drift apart step after step, so twice the single-step allowance
            double devFactor = numSteps > 1 ? 8 : 4;
            double worstRatio = 0;
            for (String k : store.keys()) {
                JsonNode d = perParam.get("param_after").get(k);
                double tol = devFactor * d.get(0).asDouble() + 1e-6 * d.get(1).asDouble() + slope * worstGradDiff;
                double diff = Fixture.maxAbsDiff(fx.get("param_after." + k), store.getTorch(k));
                worstRatio = Math.max(worstRatio, diff / tol);
                assertTrue(diff <= tol, name + ": param_after." + k + " max |diff| " + diff + " > " + tol);
            }
            System.out.printf("%s: param_after worst |diff| / tolerance %.3f%n", name, worstRatio);
        }
    }

    /** The inputs of the file's step {@code s} (-1 for a single-step file, whose tensors have no step axis). */
    private static TrainingStep.Inputs inputs(Fixture fx, int s) {
        long[] t = row(fx.get("input.t"), s).toLongVector();
        int[] ti = new int[t.length];
        for (int i = 0; i < t.length; i++) {
            ti[i] = Math.toIntExact(t[i]);
        }
        INDArray lowRes = fx.has("input.low_res") ? row(fx.get("input.low_res"), s) : null;
        return new TrainingStep.Inputs(row(fx.get("input.x_start"), s), ti, row(fx.get("input.noise"), s),
                row(fx.get("input.tokens"), s), row(fx.get("input.mask"), s), lowRes,
                row(fx.get("input.weights"), s).toDoubleVector(), 0);
    }

    private static INDArray row(INDArray a, int s) {
        return s < 0 ? a : a.get(NDArrayIndex.point(s)).dup('c');
    }
}
