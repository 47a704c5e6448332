package io.github.glidejava.nn.train;

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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;

/**
 * clip_grad_norm_, AdamW and EMA against every {@code training/*} file that records one step's gradients
 * ({@code grad.<key>}): the recorded gradients (PyTorch layout, converted to the model's stored layout) are fed to
 * {@link GradientClipping}, {@link AdamW} and {@link Ema} built from the file's config, starting from the weights of
 * its {@code params_file}. Tolerances come from the file's {@code fp64_deviation(_per_param)} metadata:
 * {@code 4 dev + 1e-6 max} per tensor, and the elements whose gradient is exactly zero must change by the weight
 * decay alone, to 1 ulp.
 */
class TrainingStepParityTest {
    static {
        GlideBackend.init();
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> recordedSteps() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : RefFixtures.list("training", ".safetensors")) {
            boolean hasGrads;
            try (SafeTensors st = SafeTensors.open(f)) {
                hasGrads = st.names().stream().anyMatch(n -> n.startsWith("grad."));
            }
            if (hasGrads) {
                tests.add(DynamicTest.dynamicTest(f.getFileName().toString(), () -> checkStep(f)));
            }
        }
        assertTrue(!tests.isEmpty(), "no training file with grad.<key> tensors in " + RefFixtures.dir());
        return tests.stream();
    }

    private static void checkStep(Path file) throws Exception {
        String name = file.getFileName().toString();
        try (SafeTensors st = SafeTensors.open(file)) {
            Map<String, String> md = st.metadata();
            JsonNode cfg = JSON.readTree(md.get("config"));
            JsonNode dev = JSON.readTree(md.get("fp64_deviation"));
            JsonNode perParam = JSON.readTree(md.get("fp64_deviation_per_param"));
            if (cfg.path("num_steps").asInt(1) != 1) {
                fail(name + ": has gradients but num_steps " + cfg.get("num_steps") + "; one recorded step expected");
            }
            ParameterStore store = model(cfg, name);

            // gradients in the stored layout, exactly one per parameter
            Map<String, INDArray> grads = new LinkedHashMap<>();
            Set<String> gradKeys = new HashSet<>();
            for (String n : st.names()) {
                if (n.startsWith("grad.")) {
                    gradKeys.add(n.substring(5));
                }
            }
            assertEquals(new HashSet<>(store.keys()), gradKeys, name + ": grad.<key> tensors vs model parameters");
            for (String k : store.keys()) {
                grads.put(k, store.spec(k).layout().fromTorch(st.get("grad." + k)));
            }
            Map<String, INDArray> before = new LinkedHashMap<>();
            for (String k : store.keys()) {
                before.put(k, store.getTorch(k));
            }

            JsonNode opt = cfg.get("optimizer");
            if (!opt.path("name").asText("torch.optim.AdamW").equals("torch.optim.AdamW")
                    || opt.path("amsgrad").asBoolean(false) || opt.path("maximize").asBoolean(false)) {
                fail(name + ": optimizer " + opt + " is not supported (AdamW without amsgrad / maximize)");
            }
            AdamWOptions options = AdamWOptions.builder().lr(opt.get("lr").asDouble())
                    .betas(opt.get("betas").get(0).asDouble(), opt.get("betas").get(1).asDouble())
                    .eps(opt.get("eps").asDouble()).weightDecay(opt.get("weight_decay").asDouble()).build();
            AdamW adam = new AdamW(store, options);
            Ema ema = new Ema(store, cfg.get("ema_rate").asDouble());

            // clip_grad_norm_
            float recordedNorm = st.get("output.grad_norm").getFloat(0);
            JsonNode clip = cfg.get("clip_grad_norm");
            double norm;
            if (clip != null && !clip.isNull()) {
                if (clip.path("norm_type").asDouble(2.0) != 2.0) {
                    fail(name + ": clip norm_type " + clip.get("norm_type") + " is not supported (L2 only)");
                }
                double maxNorm = clip.get("max_norm").asDouble();
                norm = GradientClipping.clipGradNorm(grads, maxNorm);
                // the coefficient from the recorded norm is torch's, bit for bit
                assertEquals(st.get("output.clip_coef").getFloat(0), GradientClipping.clipCoefficient(recordedNorm,
                        maxNorm), 0.0f, name + ": clip_coef from the recorded grad_norm");
            } else {
                norm = GradientClipping.totalNorm(grads);
            }
            JsonNode nd = dev.get("grad_norm");
            assertEquals(recordedNorm, norm, 4 * nd.get("max_abs").asDouble() + 1e-6 * nd.get("max_abs_ref").asDouble(),
                    name + ": grad_norm");

            adam.step(grads);
            ema.update();

            JsonNode pa = perParam.get("param_after");
            double decay = (float) (1 - options.lr() * options.weightDecay());
            long exact = 0;
            long total = 0;
            long decayOnly = 0;
            double worstRatio = 0;
            for (String k : store.keys()) {
                JsonNode d = pa.get(k);
                if (d == null) {
                    fail(name + ": fp64_deviation_per_param.param_after has no '" + k + "'");
                }
                double tol = 4 * d.get(0).asDouble() + 1e-6 * d.get(1).asDouble();
                float[] got = store.getTorch(k).data().asFloat();
                float[] want = st.get("param_after." + k).castTo(DataType.FLOAT).data().asFloat();
                float[] gotEma = ema.toTorch(0).get(k).data().asFloat();
                float[] wantEma = st.get("ema_after." + k).data().asFloat();
                float[] g = st.get("grad." + k).data().asFloat();
                float[] p0 = before.get(k).data().asFloat();
                for (int i = 0; i < want.length; i++) {
                    double diff = Math.abs(got[i] - want[i]);
                    worstRatio = Math.max(worstRatio, diff / tol);
                    if (diff > tol) {
                        fail(name + ": param_after." + k + "[" + i + "] expected " + want[i] + ", got " + got[i]
                                + " (tolerance " + tol + ")");
                    }
                    if (Math.abs(gotEma[i] - wantEma[i]) > tol) {
                        fail(name + ": ema_after." + k + "[" + i + "] expected " + wantEma[i] + ", got " + gotEma[i]
                                + " (tolerance " + tol + ")");
                    }
                    if (g[i] == 0f) {
                        // weight decay alone: p * float32(1 - lr * wd)
                        decayOnly++;
                        assertEquals(want[i], (float) (p0[i] * (float) decay), Math.ulp(want[i]),
                                name + ": " + k + "[" + i + "] has a zero gradient: weight decay only");
                        assertEquals(want[i], got[i], Math.ulp(want[i]), name + ": " + k + "[" + i
                                + "] weight decay only");
                    }
                    exact += got[i] == want[i] ? 1 : 0;
                    total++;
                }
            }
            System.out.printf("%s: grad_norm %.7g (recorded %.7g), param_after bit-exact %d of %d, worst |diff| /"
                    + " tolerance %.3f, %d decay-only elements%n", name, norm, recordedNorm, exact, total, worstRatio,
                    decayOnly);
        }
    }

    /** The model the file's config names, with the weights of its params_file. */
    private static ParameterStore model(JsonNode cfg, String name) throws Exception {
        GlideModelConfig config = GlideModelConfig.fromOptions(cfg.get("options"));
        String cls = cfg.path("model_class").asText("");
        if (!cls.isEmpty() && !cls.equals(config.modelClass())) {
            fail(name + ": model_class " + cls + " but its options build " + config.modelClass());
        }
        Text2ImUNet m = Text2ImUNet.create(config);
        m.loadStateDict(StateDict.load(RefFixtures.require(cfg.get("params_file").asText())).subDict("param."));
        return m.parameters();
    }
}
