package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetGraph;
import io.github.glidejava.nn.unet.UNetInputs;
import io.github.glidejava.core.testing.RefFixture;

/**
 * Every {@code models/*_forward.safetensors}: the model built from the fixture's options, its checkpoint loaded
 * strictly, forward on both back-ends against PyTorch's output (and recorded intermediate traces), atol = rtol =
 * 1e-4.
 */
class ModelForwardParityTest {
    static final double TOL = 1e-4;

    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    @TestFactory
    List<DynamicNode> everyModelForwardFixture() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path file : RefFixtures.list("models", "_forward.safetensors")) {
            RefFixture f = RefFixture.open(file);
            nodes.add(DynamicContainer.dynamicContainer(f.name(), List.of(
                    DynamicTest.dynamicTest("eager", () -> eager(f)),
                    DynamicTest.dynamicTest("samediff", () -> sameDiff(f)))));
        }
        return nodes;
    }

    private static void eager(RefFixture f) {
        ModelCase mc = new ModelCase(f);
        Text2ImUNet model = mc.model();
        Map<String, INDArray> got = model.forwardWithTrace(mc.inputs());
        compare(f, "eager", got);
    }

    private static void sameDiff(RefFixture f) {
        ModelCase mc = new ModelCase(f);
        Text2ImUNet model = mc.model();
        UNetInputs<INDArray> in = mc.inputs();
        long[] xs = in.x().shape();
        UNetGraph.Builder b = UNetGraph.builder(model).batch((int) xs[0]).imageSize((int) xs[2], (int) xs[3])
                .keepTraces(true).timestepType(in.timesteps().dataType());
        if (in.lowRes() != null) {
            b.lowResSize((int) in.lowRes().size(2), (int) in.lowRes().size(3));
        }
        UNetGraph g = b.build();
        List<String> names = new ArrayList<>();
        names.add(UNetGraph.OUT);
        Map<String, String> traceVar = new java.util.LinkedHashMap<>();
        for (var e : g.traces().entrySet()) {
            if (f.traces().containsKey(e.getKey())) {
                traceVar.put(e.getKey(), e.getValue().name());
                names.add(e.getValue().name());
            }
        }
        Map<String, INDArray> values = g.output(in, names);
        Map<String, INDArray> got = new java.util.LinkedHashMap<>();
        got.put("out", values.get(UNetGraph.OUT));
        traceVar.forEach((k, v) -> got.put(k, values.get(v)));
        compare(f, "samediff", got);
    }

    private static void compare(RefFixture f, String backend, Map<String, INDArray> got) {
        assertTrue(f.outputs().containsKey("out"), f.name() + ": fixture has no output.out");
        Close.assertClose(f.name() + " [" + backend + "] out", f.outputs().get("out"), got.get("out"), TOL, TOL);
        int traces = 0;
        List<String> unknown = new ArrayList<>();
        for (var e : f.traces().entrySet()) {
            INDArray mine = got.get(e.getKey());
            if (mine == null) {
                unknown.add(e.getKey());
                continue;
            }
            Close.assertClose(f.name() + " [" + backend + "] trace " + e.getKey(), e.getValue(), mine, TOL, TOL);
            traces++;
        }
        System.out.printf("%s [%s]: out max|diff| %.2e, %d traces matched%s%n", f.name(), backend,
                Close.maxAbsDiff(f.outputs().get("out"), got.get("out")), traces,
                unknown.isEmpty() ? "" : ", not produced: " + unknown);
    }
}
