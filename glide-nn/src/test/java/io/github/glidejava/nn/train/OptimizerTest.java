package io.github.glidejava.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.params.ParameterStore;

/** AdamW, gradient clipping and EMA on small stores, against the formulas evaluated in double. */
class OptimizerTest {
    static {
        GlideBackend.init();
    }

    private static final List<ParamSpec> SPECS = List.of(
            new ParamSpec("conv.weight", new long[] {4, 3, 3, 3}, ParamLayout.CONV2D, ParamInit.normal(0.5)),
            new ParamSpec("conv.bias", new long[] {4}, ParamLayout.TORCH, ParamInit.normal(0.1)),
            new ParamSpec("big.weight", new long[] {300, 500}, ParamLayout.TORCH, ParamInit.normal(0.2)));

    private static ParameterStore store() {
        return ParameterStore.initialise(SPECS, 11);
    }

    private static ParameterStore copy(ParameterStore s) {
        return ParameterStore.fromStateDict(SPECS, s.toStateDict());
    }

    private static Map<String, INDArray> grads(ParameterStore s, long seed, double scale) {
        Random r = new Random(seed);
        Map<String, INDArray> g = new LinkedHashMap<>();
        for (String k : s.keys()) {
            INDArray a = Nd4j.create(DataType.FLOAT, s.get(k).shape());
            for (long i = 0; i < a.length(); i++) {
                a.putScalar(i, scale * r.nextGaussian());
            }
            g.put(k, a);
        }
        return g;
    }

    private static double[] doubles(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    @Test
    void adamWFollowsTorchsFormulaOverSeveralStepsWithAChangingLr() {
        ParameterStore s = store();
        AdamWOptions o = AdamWOptions.builder().lr(0.01).betas(0.8, 0.95).eps(1e-6).weightDecay(0.1).build();
        AdamW adam = new AdamW(s, o);
        Map<String, double[]> p = new LinkedHashMap<>();
        Map<String, double[]> m = new LinkedHashMap<>();
        Map<String, double[]> v = new LinkedHashMap<>();
        for (String k : s.keys()) {
            p.put(k, doubles(s.get(k)));
            m.put(k, new double[p.get(k).length]);
            v.put(k, new double[p.get(k).length]);
        }
        double[] lrs = {0.01, 0.01, 0.003, 0.02};
        for (int step = 1; step <= lrs.length; step++) {
            adam.setLr(lrs[step - 1]);
            Map<String, INDArray> g = grads(s, step, 0.3);
            for (String k : s.keys()) {
                double[] gd = doubles(g.get(k));
                double[] pk = p.get(k);
                double[] mk = m.get(k);
                double[] vk = v.get(k);
                double lr = lrs[step - 1];
                for (int i = 0; i < pk.length; i++) {
                    pk[i] *= 1 - lr * 0.1;
                    mk[i] = 0.8 * mk[i] + 0.2 * gd[i];
                    vk[i] = 0.95 * vk[i] + 0.05 * gd[i] * gd[i];
                    double denom = Math.sqrt(vk[i]) / Math.sqrt(1 - Math.pow(0.95, step)) + 1e-6;
                    pk[i] -= lr / (1 - Math.pow(0.8, step)) * mk[i] / denom;
                }
            }
            adam.step(g);
        }
        for (String k : s.keys()) {
            double[] got = doubles(s.get(k));
            double[] want = p.get(k);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 2e-6 * Math.max(1, Math.abs(want[i])), k + "[" + i + "]");
            }
            AdamW.ParamState st = adam.state(k);
            assertEquals(lrs.length, st.step());
            double[] mk = m.get(k);
            double[] gotM = doubles(st.expAvg());
            for (int i = 0; i < mk.length; i++) {
                assertEquals(mk[i], gotM[i], 1e-6, k + " exp_avg[" + i + "]");
            }
        }
        assertEquals(0.02, adam.lr());
    }

    @Test
    void parametersWithoutAGradientAreLeftAloneAndCountTheirOwnSteps() {
        ParameterStore s = store();
        INDArray biasBefore = s.get("conv.bias").dup();
        AdamW adam = new AdamW(s, AdamWOptions.builder().build());
        Map<String, INDArray> g = grads(s, 1, 1.0);
        g.remove("conv.bias");
        adam.step(g);
        adam.step(grads(s, 2, 1.0));
        assertEquals(biasBefore.sub(s.get("conv.bias")).amaxNumber().doubleValue() > 0, true, "bias moved once");
        assertEquals(2, adam.state("conv.weight").step());
        assertEquals(1, adam.state("conv.bias").step(), "the bias took one step: bias correction of step 1");
        // first step of a parameter: |update| ~ lr (m / sqrt(v) = sign(g)) plus the weight decay
        ParameterStore fresh = store();
        AdamW first = new AdamW(fresh, AdamWOptions.builder().lr(1e-3).weightDecay(0).build());
        INDArray w0 = fresh.get("big.weight").dup();
        first.step(Map.of("big.weight", grads(fresh, 3, 1.0).get("big.weight")));
        assertEquals(1e-3, w0.sub(fresh.get("big.weight")).amaxNumber().doubleValue(), 1e-6);
        assertNull(first.state("conv.weight"));
    }

    @Test
    void stateRestoredFromItsTensorsContinuesBitForBit() {
        ParameterStore a = store();
        AdamW adamA = new AdamW(a, AdamWOptions.builder().eps(1e-6).build());
        adamA.step(grads(a, 1, 0.5));
        adamA.step(grads(a, 2, 0.5));
        ParameterStore b = copy(a);
        AdamW adamB = new AdamW(b, AdamWOptions.builder().eps(1e-6).build());
        adamB.loadStateTensors(adamA.stateTensors());
        adamA.step(grads(a, 3, 0.5));
        adamB.step(grads(b, 3, 0.5));
        for (String k : a.keys()) {
            assertArrayEquals(a.get(k).data().asFloat(), b.get(k).data().asFloat(), 0f, k);
        }
        assertEquals(3, adamB.state("big.weight").step());
        Map<String, INDArray> broken = new LinkedHashMap<>(adamA.stateTensors());
        broken.remove("exp_avg_sq.conv.bias");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adamB.loadStateTensors(broken));
        assertTrue(e.getMessage().contains("conv.bias"), e.getMessage());
    }

    @Test
    void badGradientsAndSettingsAreRejectedClearly() {
        ParameterStore s = store();
        AdamW adam = new AdamW(s, AdamWOptions.builder().build());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> adam.step(Map.of("nope", Nd4j.zeros(DataType.FLOAT, 2))));
        assertTrue(unknown.getMessage().contains("nope"), unknown.getMessage());
        // a gradient in PyTorch layout for a parameter stored as YXIO
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> adam.step(Map.of("conv.weight", Nd4j.zeros(DataType.FLOAT, 4, 3, 3, 3))));
        assertTrue(shape.getMessage().contains("conv.weight") && shape.getMessage().contains("[3, 3, 3, 4]"),
                shape.getMessage());
        assertNull(adam.state("conv.weight"), "nothing was updated");
        assertThrows(IllegalArgumentException.class, () -> AdamWOptions.builder().betas(1.0, 0.999).build());
        assertThrows(IllegalArgumentException.class, () -> AdamWOptions.builder().lr(-1).build());
        assertThrows(IllegalArgumentException.class, () -> adam.setLr(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Ema(s));
        assertThrows(IllegalArgumentException.class, () -> new Ema(s, 1.5));
    }

    @Test
    void stepsAfterTheFirstAllocateNoNativeMemory() {
        ParameterStore s = store();
        AdamW adam = new AdamW(s, AdamWOptions.builder().build());
        Ema ema = new Ema(s, 0.9, 0.999);
        Map<String, INDArray> g = grads(s, 1, 1.0);
        adam.step(g);
        ema.update();
        long before = Pointer.totalBytes();
        INDArray probe = Nd4j.create(DataType.FLOAT, 1 << 18);
        boolean tracked = Pointer.totalBytes() > before;
        for (int i = 0; i < 20; i++) {
            GradientClipping.clipGradNorm(g, 0.5);
            adam.step(g);
            ema.update();
        }
        long after = Pointer.totalBytes();
        assertTrue(tracked, "JavaCPP must track ND4J's allocations for this check to mean anything");
        assertTrue(after <= before + probe.length() * 4, "native bytes grew by " + (after - before) + " in 20 steps");
    }

    @Test
    void clipGradNormScalesEverythingByTorchsCoefficient() {
        Map<String, INDArray> g = new LinkedHashMap<>();
        g.put("a", Nd4j.createFromArray(3f, 0f));
        g.put("b", Nd4j.createFromArray(new float[][] {{0f, 4f}}));
        double norm = GradientClipping.clipGradNorm(g, 1.0);
        assertEquals(5.0, norm, 1e-6);
        float coef = (1f / (5f + 1e-6f)) * 1f;
        assertEquals(3f * coef, g.get("a").getFloat(0), 0f);
        assertEquals(4f * coef, g.get("b").getFloat(1), 0f);
        // below the limit: unchanged, the norm still reported
        Map<String, INDArray> small = Map.of("a", Nd4j.createFromArray(0.3f, 0.4f));
        assertEquals(0.5, GradientClipping.clipGradNorm(small, 1.0), 1e-7);
        assertArrayEquals(new float[] {0.3f, 0.4f}, small.get("a").toFloatVector(), 0f);
        assertEquals(1f, GradientClipping.clipCoefficient(0.5f, 1.0));
        assertThrows(IllegalArgumentException.class, () -> GradientClipping.clipGradNorm(small, 0));
        // a long tensor (lanes and tail) against the norm in double
        INDArray big = grads(store(), 5, 1.0).get("big.weight");
        double exact = Math.sqrt(big.castTo(DataType.DOUBLE).mul(big.castTo(DataType.DOUBLE)).sumNumber().doubleValue());
        assertEquals(exact, GradientClipping.totalNorm(Map.of("g", big)), 1e-5 * exact);
        assertTrue(Float.isNaN(GradientClipping.totalNorm(Map.of("n", Nd4j.createFromArray(Float.NaN)))));
    }

    @Test
    void emaAveragesTheUpdatedParametersAtEachRate() {
        ParameterStore s = store();
        INDArray w0 = s.get("conv.bias").dup();
        Ema ema = new Ema(s, 0.9, 0.5);
        s.get("conv.bias").addi(1.0f);
        assertArrayEquals(w0.toFloatVector(), ema.get(0, "conv.bias").toFloatVector(), 0f, "a copy, not a view");
        ema.update();
        float[] p = s.get("conv.bias").toFloatVector();
        float[] e0 = w0.toFloatVector();
        for (int i = 0; i < p.length; i++) {
            assertEquals(Math.fma((float) (1 - 0.9), p[i], e0[i] * 0.9f), ema.get(0, "conv.bias").getFloat(i), 0f);
            assertEquals(0.5 * e0[i] + 0.5 * p[i], ema.get(1, "conv.bias").getFloat(i), 1e-6);
        }
        assertNotEquals((float) (1 - 0.9), 1f - 0.9f, "1 - rate is rounded from double, not computed in float");
        // PyTorch layout round trip
        Map<String, INDArray> torch = ema.toTorch(1);
        assertArrayEquals(new long[] {4, 3, 3, 3}, torch.get("conv.weight").shape());
        Ema other = new Ema(store(), 0.9);
        other.loadTorch(0, torch);
        assertArrayEquals(ema.get(1, "conv.weight").data().asFloat(), other.get(0, "conv.weight").data().asFloat(), 0f);
        assertThrows(IllegalArgumentException.class, () -> ema.get(2, "conv.bias"));
    }
}
