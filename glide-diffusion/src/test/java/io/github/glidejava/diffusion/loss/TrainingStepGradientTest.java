package io.github.glidejava.diffusion.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.Fixture;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.nn.ops.SameDiffOps;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.train.AdamW;
import io.github.glidejava.nn.train.AdamWOptions;
import io.github.glidejava.nn.train.Ema;
import io.github.glidejava.nn.train.GradientClipping;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * A whole training step of every single-step {@code training/*} file with the U-Net and the loss in ONE SameDiff
 * graph ({@link TrainingLosses#compute} with a {@link TensorModel} running the U-Net on {@link SameDiffOps}): the
 * gradients of {@code (loss * weights).mean()} for every parameter against {@code grad.<key>}, then clipping,
 * AdamW and EMA on those gradients against {@code param_after} / {@code ema_after}. Tolerances from the file's
 * metadata: gradients {@code 4 dev + 1e-6 max} per tensor plus {@code 1e-7} of the largest gradient (SameDiff's
 * float32 backward sums in another order than torch's, which shows on tensors whose gradients are tiny), and
 * zero-gradient parameters absolutely; the parameters after the step additionally allow the first-order effect of
 * this step's gradient difference through Adam, {@code lr / eps * max|dg|} (Adam's first step is
 * {@code lr g / (|g| + eps)}, whose slope in g is at most {@code lr / eps}).
 */
class TrainingStepGradientTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> wholeRecordedSteps() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : RefFixtures.list("training", ".safetensors")) {
            boolean single;
            try (Fixture fx = Fixture.open(f)) {
                single = fx.has("output.model_output") && fx.tensors.names().stream().anyMatch(n -> n.startsWith("grad."));
            }
            if (single) {
                tests.add(DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)));
            }
        }
        assertTrue(!tests.isEmpty(), "no single-step training file in " + RefFixtures.dir());
        for (Path f : RefFixtures.list("training", ".safetensors")) {
            boolean multi;
            try (Fixture fx = Fixture.open(f)) {
                multi = fx.config.path("num_steps").asInt(1) > 1;
            }
            if (multi) {
                tests.add(DynamicTest.dynamicTest(f.getFileName().toString() + " (steps)", () -> checkSteps(f)));
            }
        }
        return tests.stream();
    }

    /**
     * Several steps with one optimiser and one EMA: every {@code input.*} has a leading step axis. The file records
     * no gradients, so their difference cannot be propagated as in the single steps: the parameters are compared
     * with {@code 8 dev + 1e-6 max}, twice the metadata's factor, because our float32 gradients (SameDiff) carry
     * round-off of their own, about as large as torch's and independent of it, and Adam carries it from step to
     * step; zero-gradient parameters additionally by their noise-driven drift.
     */
    private static void checkSteps(Path file) throws Exception {
        try (Fixture fx = Fixture.open(file)) {
            String name = fx.name();
            int steps = fx.cfg("num_steps").asInt();
            Text2ImUNet model = fx.recordedModel();
            ParameterStore store = model.parameters();
            GaussianDiffusion diffusion = fx.recordedDiffusion();
            TrainingLosses losses = new TrainingLosses(diffusion, LossType.named(fx.cfg("loss_type").asText()));
            AdamW adam = new AdamW(store, optimizer(fx));
            Ema ema = new Ema(store, fx.cfg("ema_rate").asDouble());
            JsonNode dev = JSON.readTree(fx.tensors.metadata().get("fp64_deviation"));
            // a mathematically zero gradient is round-off noise of either sign (at most 1e-6 of the largest
            // gradient), which Adam turns into updates of up to lr * noise / eps per step in either direction
            double zeroGradientDrift = 0;
            for (int step = 0; step < steps; step++) {
                Map<String, INDArray> grads = gradients(fx, model, store, losses, step, dev);
                double maxGrad = 0;
                for (INDArray g : grads.values()) {
                    maxGrad = Math.max(maxGrad, g.amaxNumber().doubleValue());
                }
                zeroGradientDrift += 2 * adam.lr() * Math.min(1, 1e-6 * maxGrad / adam.options().eps());
                JsonNode clip = fx.cfg("clip_grad_norm");
                double norm = clip.isNull() ? GradientClipping.totalNorm(grads)
                        : GradientClipping.clipGradNorm(grads, clip.get("max_norm").asDouble());
                double recorded = fx.get("output.grad_norm").getDouble(step);
                System.out.printf("%s step %d: grad_norm %.7g recorded %.7g%n", name, step, norm, recorded);
                assertEquals(recorded, norm, 1e-4 * recorded, name + ": grad_norm of step " + step);
                adam.step(grads);
                ema.update();
            }
            JsonNode md = JSON.readTree(fx.tensors.metadata().get("fp64_deviation_per_param"));
            Set<String> zero = new HashSet<>();
            for (JsonNode k : JSON.readTree(fx.tensors.metadata().get("zero_gradient_params"))) {
                zero.add(k.asText());
            }
            double worst = 0;
            String worstKey = "";
            for (String k : store.keys()) {
                JsonNode d = md.get("param_after").get(k);
                double tol = 8 * d.get(0).asDouble() + 1e-6 * d.get(1).asDouble()
                        + (zero.contains(k) ? zeroGradientDrift : 0);
                double diff = Math.max(Fixture.maxAbsDiff(fx.get("param_after." + k), store.getTorch(k)),
                        Fixture.maxAbsDiff(fx.get("ema_after." + k), ema.toTorch(0).get(k)));
                if (diff / tol > worst) {
                    worst = diff / tol;
                    worstKey = k;
                }
                assertTrue(diff <= tol, name + ": param_after / ema_after of " + k + " after " + steps
                        + " steps: max |diff| " + diff + " > tolerance " + tol);
            }
            System.out.printf("%s: after %d steps param_after / ema_after worst |diff| / tolerance %.3f (%s)%n", name,
                    steps, worst, worstKey);
        }
    }

    private static AdamWOptions optimizer(Fixture fx) {
        JsonNode opt = fx.cfg("optimizer");
        return AdamWOptions.builder().lr(opt.get("lr").asDouble())
                .betas(opt.get("betas").get(0).asDouble(), opt.get("betas").get(1).asDouble())
                .eps(opt.get("eps").asDouble()).weightDecay(opt.get("weight_decay").asDouble()).build();
    }

    /** The gradients of step {@code step}'s batch (U-Net and loss in one SameDiff graph), checking its losses. */
    private static Map<String, INDArray> gradients(Fixture fx, Text2ImUNet model, ParameterStore store,
                                                   TrainingLosses losses, int step, JsonNode dev) {
        SameDiff sd = SameDiff.create();
        SameDiffOps ops = new SameDiffOps(sd, store, true, true);
        SDVariable tokens = ops.constant(Fixture.slice(fx.get("input.tokens"), step));
        SDVariable mask = ops.constant(Fixture.slice(fx.get("input.mask"), step));
        SDVariable lowRes = fx.has("input.low_res") ? ops.constant(Fixture.slice(fx.get("input.low_res"), step)) : null;
        TensorModel<SDVariable> unet = (x, ts) -> model.forward(ops,
                new UNetInputs<>(x, ts, tokens, mask, lowRes, null, null));
        LossTerms<SDVariable> terms = losses.compute(ops, unet, Fixture.slice(fx.get("input.x_start"), step),
                Fixture.ints(Fixture.slice(fx.get("input.t"), step)), Fixture.slice(fx.get("input.noise"), step));
        SDVariable objective = TrainingLosses.weightedMean(ops, terms.loss(), Fixture.slice(fx.get("input.weights"),
                step));
        sd.setLossVariables(objective.name());
        List<String> wanted = new ArrayList<>(store.keys());
        Map<String, INDArray> raw = sd.calculateGradients(Map.of(), wanted);
        INDArray loss = sd.output(Map.of(), terms.loss().name()).get(terms.loss().name());
        INDArray expectedLoss = Fixture.slice(fx.get("output.loss"), step);
        System.out.printf("%s step %d: loss %s recorded %s%n", fx.name(), step, loss, expectedLoss);
        JsonNode d = dev.get("loss");
        Fixture.assertClose(expectedLoss, loss, 4 * d.get("max_abs").asDouble() + 1e-6 * d.get("max_abs_ref")
                .asDouble(), 1e-5, fx.name() + ": loss of step " + step);
        Map<String, INDArray> grads = new LinkedHashMap<>();
        for (String k : store.keys()) {
            grads.put(k, raw.get(k).castTo(DataType.FLOAT).dup('c'));
        }
        return grads;
    }

    private static void check(Path file) throws Exception {
        try (Fixture fx = Fixture.open(file)) {
            String name = fx.name();
            Text2ImUNet model = fx.recordedModel();
            ParameterStore store = model.parameters();
            GaussianDiffusion diffusion = fx.recordedDiffusion();
            TrainingLosses losses = new TrainingLosses(diffusion, LossType.named(fx.cfg("loss_type").asText()));

            SameDiff sd = SameDiff.create();
            SameDiffOps ops = new SameDiffOps(sd, store, true, true);
            SDVariable tokens = ops.constant(fx.get("input.tokens"));
            SDVariable mask = ops.constant(fx.get("input.mask"));
            SDVariable lowRes = fx.has("input.low_res") ? ops.constant(fx.get("input.low_res")) : null;
            TensorModel<SDVariable> unet = (x, ts) -> model.forward(ops,
                    new UNetInputs<>(x, ts, tokens, mask, lowRes, null, null));
            long[] t = fx.get("input.t").toLongVector();
            int[] ti = new int[t.length];
            for (int i = 0; i < t.length; i++) {
                ti[i] = Math.toIntExact(t[i]);
            }
            LossTerms<SDVariable> terms = losses.compute(ops, unet, fx.get("input.x_start"), ti, fx.get("input.noise"));
            SDVariable objective = TrainingLosses.weightedMean(ops, terms.loss(), fx.get("input.weights"));
            sd.setLossVariables(objective.name());
            long start = System.nanoTime();
            Map<String, INDArray> raw = sd.calculateGradients(Map.of(), store.keys());
            System.out.printf("%s: SameDiff forward + backward %.1f s%n", name, (System.nanoTime() - start) / 1e9);

            JsonNode md = JSON.readTree(fx.tensors.metadata().get("fp64_deviation_per_param"));
            Set<String> zero = new HashSet<>();
            for (JsonNode k : JSON.readTree(fx.tensors.metadata().get("zero_gradient_params"))) {
                zero.add(k.asText());
            }
            double maxGrad = 0;
            for (String k : store.keys()) {
                maxGrad = Math.max(maxGrad, fx.get("grad." + k).amaxNumber().doubleValue());
            }
            Map<String, INDArray> grads = new LinkedHashMap<>();
            Map<String, Double> gradDiff = new LinkedHashMap<>();
            double worst = 0;
            for (String k : store.keys()) {
                INDArray g = raw.get(k);
                if (g == null) {
                    fail(name + ": no gradient for " + k);
                }
                grads.put(k, g.castTo(DataType.FLOAT).dup('c'));
                INDArray torch = store.spec(k).layout().toTorch(g);
                INDArray want = fx.get("grad." + k);
                double diff = Fixture.maxAbsDiff(want, torch);
                if (zero.contains(k)) {
                    gradDiff.put(k, diff);
                    assertTrue(torch.amaxNumber().doubleValue() <= 1e-6 * maxGrad, name + ": " + k
                            + " has a mathematically zero gradient, got max " + torch.amaxNumber());
                    continue;
                }
                JsonNode d = md.get("grad").get(k);
                double tol = 4 * d.get(0).asDouble() + 1e-6 * d.get(1).asDouble() + 1e-7 * maxGrad;
                gradDiff.put(k, diff);
                worst = Math.max(worst, diff / tol);
                assertTrue(diff <= tol, name + ": grad." + k + " max |diff| " + diff + " > tolerance " + tol);
            }
            System.out.printf("%s: gradients of %d parameters, worst |diff| / tolerance %.3f%n", name, grads.size(),
                    worst);

            // the rest of the step on these gradients
            JsonNode opt = fx.cfg("optimizer");
            AdamW adam = new AdamW(store, AdamWOptions.builder().lr(opt.get("lr").asDouble())
                    .betas(opt.get("betas").get(0).asDouble(), opt.get("betas").get(1).asDouble())
                    .eps(opt.get("eps").asDouble()).weightDecay(opt.get("weight_decay").asDouble()).build());
            Ema ema = new Ema(store, fx.cfg("ema_rate").asDouble());
            JsonNode clip = fx.cfg("clip_grad_norm");
            double norm = clip.isNull() ? GradientClipping.totalNorm(grads)
                    : GradientClipping.clipGradNorm(grads, clip.get("max_norm").asDouble());
            JsonNode nd = JSON.readTree(fx.tensors.metadata().get("fp64_deviation")).get("grad_norm");
            assertEquals(fx.get("output.grad_norm").getDouble(0), norm, 4 * nd.get("max_abs").asDouble()
                    + 1e-6 * nd.get("max_abs_ref").asDouble(), name + ": grad_norm");
            adam.step(grads);
            ema.update();
            double worstParam = 0;
            double slope = adam.options().lr() / adam.options().eps();
            for (String k : store.keys()) {
                JsonNode d = md.get("param_after").get(k);
                double tol = 4 * d.get(0).asDouble() + 1e-6 * d.get(1).asDouble() + slope * gradDiff.get(k);
                double diff = Fixture.maxAbsDiff(fx.get("param_after." + k), store.getTorch(k));
                double diffEma = Fixture.maxAbsDiff(fx.get("ema_after." + k), ema.toTorch(0).get(k));
                worstParam = Math.max(worstParam, Math.max(diff, diffEma) / tol);
                assertTrue(diff <= tol, name + ": param_after." + k + " max |diff| " + diff + " > " + tol);
                assertTrue(diffEma <= tol, name + ": ema_after." + k + " max |diff| " + diffEma + " > " + tol);
            }
            System.out.printf("%s: param_after / ema_after worst |diff| / tolerance %.3f%n", name, worstParam);
        }
    }
}
