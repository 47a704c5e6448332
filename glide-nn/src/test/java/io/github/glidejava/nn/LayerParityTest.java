package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.nn.layers.TimestepEmbedding;
import io.github.glidejava.core.testing.RefFixture;

/**
 * Every file in the fixture set's {@code layers/} directory, dispatched on its reference, on the eager and on the
 * SameDiff back-end, against PyTorch's outputs within each output's tolerance ({@link LayerCase}: 1e-5 absolute
 * and relative unless a layer's float32 arithmetic needs more, said where it is set).
 */
class LayerParityTest {
    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    @TestFactory
    List<DynamicNode> everyLayerFixture() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path file : RefFixtures.list("layers", ".safetensors")) {
            RefFixture f = RefFixture.open(file);
            List<DynamicTest> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("eager", () -> check(f, "eager", () -> LayerCase.of(f).runEager())));
            tests.add(DynamicTest.dynamicTest("samediff", () -> check(f, "samediff", () -> LayerCase.of(f).runSameDiff())));
            if (f.outputs().containsKey("freqs")) {
                tests.add(DynamicTest.dynamicTest("freqs", () -> checkFreqs(f)));
            }
            nodes.add(DynamicContainer.dynamicContainer(f.name(), tests));
        }
        return nodes;
    }

    private static void check(RefFixture f, String backend, Supplier<Map<String, INDArray>> run) {
        LayerCase lc = LayerCase.of(f);
        Map<String, INDArray> actual = run.get();
        int compared = 0;
        for (Map.Entry<String, INDArray> e : f.outputs().entrySet()) {
            if (e.getKey().equals("freqs")) {
                continue;
            }
            Close.assertClose(f.name() + " [" + backend + "] output " + e.getKey(), e.getValue(),
                    actual.get(e.getKey()), lc.atol.get(e.getKey()), lc.rtol.get(e.getKey()));
            compared++;
        }
        assertTrue(compared > 0, f.name() + ": no outputs compared");
    }

    /** torch's float32 frequencies, to 1 ulp. */
    private static void checkFreqs(RefFixture f) {
        INDArray expected = f.outputs().get("freqs");
        float[] e = expected.toFloatVector();
        float[] a = TimestepEmbedding.freqs(f.intConfig("dim"), f.doubleConfig("max_period", 10000));
        assertEquals(e.length, a.length, f.name() + ": number of frequencies");
        int off = 0;
        for (int i = 0; i < e.length; i++) {
            int ulps = Math.abs(Float.floatToIntBits(e[i]) - Float.floatToIntBits(a[i]));
            assertTrue(ulps <= 1, f.name() + ": freqs[" + i + "] = " + a[i] + ", torch " + e[i] + " (" + ulps + " ulp)");
            if (ulps != 0) {
                off++;
            }
        }
        System.out.println(f.name() + ": " + off + " of " + e.length + " freqs differ from torch by 1 ulp");
    }
}
