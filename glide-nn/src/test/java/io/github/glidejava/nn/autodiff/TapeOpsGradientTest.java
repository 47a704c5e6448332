package io.github.glidejava.nn.autodiff;

import static io.github.glidejava.nn.autodiff.TapeGradCheck.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;

/** Every operation of {@link TapeOps}: analytic gradients against float64 central differences. */
class TapeOpsGradientTest {
    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    private static void check(String what, List<TapeGradCheck.Input> inputs, TapeGradCheck.Fn f) {
        System.out.println(TapeGradCheck.check(what, Map.of(), inputs, f));
    }

    /** Standard-normal values pushed away from 0 into [0.5, ...): a domain for log, sqrt, rsqrt and div. */
    private static TapeGradCheck.Input positive(String name, long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return new TapeGradCheck.Input(name, Transforms.abs(Nd4j.randn(DataType.DOUBLE, shape), true).addi(0.5), true);
    }

    @Test
    void convolutions() {
        check("conv2d 3x3 pad 1 with bias", List.of(in("x", 1, 2, 3, 5, 4), in("w", 2, 3, 3, 3, 4), in("b", 3, 4)),
                (ops, x) -> ops.conv2d(x.get(0), x.get(1), x.get(2), 1, 1));
        check("conv2d 3x3 stride 2 pad 1, no bias", List.of(in("x", 4, 2, 3, 6, 6), in("w", 5, 3, 3, 3, 2)),
                (ops, x) -> ops.conv2d(x.get(0), x.get(1), null, 2, 1));
        check("conv2d 1x1 with bias", List.of(in("x", 6, 2, 5, 3, 3), in("w", 7, 1, 1, 5, 4), in("b", 8, 4)),
                (ops, x) -> ops.conv2d(x.get(0), x.get(1), x.get(2), 1, 0));
    }

    /** The float32 sgemm backward of 1x1 convolutions (oneDNN kernels on) equals ND4J's conv2d_bp. */
    @Test
    void oneByOneConvSgemmBackwardMatchesNd4j() {
        Nd4j.getRandom().setSeed(9);
        Map<String, INDArray> p = Map.of("w", Nd4j.randn(DataType.FLOAT, 1, 1, 6, 5), "b", Nd4j.randn(DataType.FLOAT, 5));
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 6, 4, 5);
        INDArray r = Nd4j.randn(DataType.FLOAT, 3, 5, 4, 5);
        INDArray[] results = new INDArray[6];
        for (int k = 0; k < 2; k++) {
            Gradients g = Gradients.zerosLike(p, key -> true);
            TapeOps ops = new TapeOps(p::get, g, k == 0);
            Tensor in = ops.input(x, true);
            // the input as a permuted view: the backward must not assume a dense gradient layout
            Tensor y = ops.conv2d(in, ops.param("w"), ops.param("b"), 1, 0);
            ops.backward(ops.permute(y, 0, 1, 3, 2), r.permute(0, 1, 3, 2).dup());
            results[3 * k] = in.grad();
            results[3 * k + 1] = g.get("w").dup();
            results[3 * k + 2] = g.get("b").dup();
        }
        for (int i = 0; i < 3; i++) {
            double diff = results[i].sub(results[3 + i]).amaxNumber().doubleValue();
            double scale = results[3 + i].amaxNumber().doubleValue();
            org.junit.jupiter.api.Assertions.assertTrue(diff <= 1e-5 * scale, "gradient " + i + ": " + diff + " of " + scale);
        }
    }

    @Test
    void matmulInEveryTransposeAndLinear() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                long[] a = ta ? new long[] {4, 3} : new long[] {3, 4};
                long[] b = tb ? new long[] {5, 4} : new long[] {4, 5};
                check("matmul rank 2 ta=" + ta + " tb=" + tb, List.of(in("a", 10, a), in("b", 11, b)),
                        (ops, x) -> ops.matmul(x.get(0), x.get(1), ta, tb));
                long[] a3 = {2, a[0], a[1]};
                long[] b3 = {2, b[0], b[1]};
                check("matmul rank 3 ta=" + ta + " tb=" + tb, List.of(in("a", 12, a3), in("b", 13, b3)),
                        (ops, x) -> ops.matmul(x.get(0), x.get(1), ta, tb));
            }
        }
        check("linear rank 3", List.of(in("x", 14, 2, 3, 4), in("w", 15, 5, 4), in("b", 16, 5)),
                (ops, x) -> ops.linear(x.get(0), x.get(1), x.get(2)));
        check("linear of a permuted (non-contiguous) input", List.of(in("x", 17, 4, 3), in("w", 18, 2, 4)),
                (ops, x) -> ops.linear(ops.permute(x.get(0), 1, 0), x.get(1), null));
    }

    @Test
    void broadcastingBinaryOps() {
        List<TapeGradCheck.Input> ab = List.of(in("a", 20, 2, 3, 4), in("b", 21, 3, 1));
        check("add with broadcast", ab, (ops, x) -> ops.add(x.get(0), x.get(1)));
        check("sub with broadcast", ab, (ops, x) -> ops.sub(x.get(0), x.get(1)));
        check("mul with broadcast", ab, (ops, x) -> ops.mul(x.get(0), x.get(1)));
        check("div with broadcast", List.of(in("a", 22, 2, 1, 4), positive("b", 23, 3, 1)),
                (ops, x) -> ops.div(x.get(0), x.get(1)));
        check("the same tensor on both sides", List.of(in("a", 24, 3, 4)), (ops, x) -> ops.mul(x.get(0), x.get(0)));
        check("scalar add and mul", List.of(in("a", 25, 3, 4)), (ops, x) -> ops.mul(ops.add(x.get(0), 1.5), -0.7));
    }

    @Test
    void unaryOps() {
        List<TapeGradCheck.Input> x1 = List.of(in("x", 30, 3, 5));
        check("exp", x1, (ops, x) -> ops.exp(x.get(0)));
        check("log", List.of(positive("x", 31, 3, 5)), (ops, x) -> ops.log(x.get(0)));
        check("sqrt", List.of(positive("x", 32, 3, 5)), (ops, x) -> ops.sqrt(x.get(0)));
        check("rsqrt", List.of(positive("x", 33, 3, 5)), (ops, x) -> ops.rsqrt(x.get(0)));
        check("square", x1, (ops, x) -> ops.square(x.get(0)));
        check("erf", x1, (ops, x) -> ops.erf(x.get(0)));
        check("tanh", x1, (ops, x) -> ops.tanh(x.get(0)));
        check("sigmoid", x1, (ops, x) -> ops.sigmoid(x.get(0)));
        check("cos", x1, (ops, x) -> ops.cos(x.get(0)));
        check("sin", x1, (ops, x) -> ops.sin(x.get(0)));
        check("silu", x1, (ops, x) -> ops.silu(x.get(0)));
        check("gelu", x1, (ops, x) -> ops.gelu(x.get(0)));
        // values at least 0.05 from the floor: the kink is not inside a difference step
        INDArray v = Nd4j.createFromArray(new double[][] {{-1.0, -0.3, 0.05, 0.2}, {0.7, -0.05, 0.15, 1.3}});
        check("clampMin(0.1)", List.of(in("x", v)), (ops, x) -> ops.clampMin(x.get(0), 0.1));
    }

    @Test
    void stopGradientBlocksOnlyItsPath() {
        // d/dx [x * stop(x)] = stop(x) = x: a gradient that went through stopGradient too would give 2x
        INDArray v = Nd4j.createFromArray(new double[] {1.0, -2.0, 3.0});
        TapeOps ops = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), false).precision(DataType.DOUBLE);
        Tensor x = ops.input(v, true);
        Tensor y = ops.mul(x, ops.stopGradient(x));
        ops.backward(ops.mean(y, false), Nd4j.ones(DataType.DOUBLE));
        assertEquals(v.div(3.0), x.grad());
        Tensor z = ops.stopGradient(ops.input(v, true));
        assertThrows(IllegalArgumentException.class, () -> ops.backward(ops.mean(z, false), Nd4j.ones(DataType.DOUBLE)));
    }

    @Test
    void shapeOps() {
        check("reshape", List.of(in("x", 40, 2, 3, 4)), (ops, x) -> ops.reshape(x.get(0), 4, -1));
        check("permute", List.of(in("x", 41, 2, 3, 4)), (ops, x) -> ops.permute(x.get(0), 2, 0, 1));
        check("reshape of a permuted tensor", List.of(in("x", 42, 2, 3, 4)),
                (ops, x) -> ops.reshape(ops.permute(x.get(0), 0, 2, 1), 8, 3));
        check("concat axis 1", List.of(in("a", 43, 2, 3, 2), in("b", 44, 2, 1, 2), in("c", 45, 2, 2, 2)),
                (ops, x) -> ops.concat(1, x));
        check("overlapping slices", List.of(in("x", 46, 2, 6, 3)),
                (ops, x) -> ops.mul(ops.slice(x.get(0), 1, 0, 4), ops.slice(x.get(0), 1, 2, 6)));
    }

    @Test
    void reductionsAndNn() {
        check("mean keepDims axes 1,2", List.of(in("x", 50, 2, 3, 4)), (ops, x) -> ops.mean(x.get(0), true, 1, 2));
        check("mean over the last axis", List.of(in("x", 51, 2, 3, 4)), (ops, x) -> ops.mean(x.get(0), false, -1));
        check("mean of everything", List.of(in("x", 52, 2, 3)), (ops, x) -> ops.mean(x.get(0), false));
        check("softmax axis 2", List.of(in("x", 53, 2, 3, 4)), (ops, x) -> ops.softmax(x.get(0), 2));
        check("softmax axis 1", List.of(in("x", 54, 2, 3, 4)), (ops, x) -> ops.softmax(x.get(0), 1));
        check("attention weights", List.of(in("q", 76, 2, 3, 4), in("k", 77, 2, 3, 5)),
                (ops, x) -> ops.attentionWeights(x.get(0), x.get(1), 0.7));
        check("attention weights of one tensor's views", List.of(in("qk", 78, 2, 6, 4)),
                (ops, x) -> ops.attentionWeights(ops.slice(x.get(0), 1, 0, 3), ops.slice(x.get(0), 1, 3, 6), 0.5));
        check("upsampleNearest2x", List.of(in("x", 55, 2, 3, 2, 3)), (ops, x) -> ops.upsampleNearest2x(x.get(0)));
        check("avgPool2x2", List.of(in("x", 56, 2, 3, 4, 6)), (ops, x) -> ops.avgPool2x2(x.get(0)));
        check("groupNorm + SiLU", List.of(in("x", 57, 2, 6, 3, 2), in("w", 58, 6), in("b", 59, 6)),
                (ops, x) -> ops.groupNorm(x.get(0), 3, 1e-5, x.get(1), x.get(2), true));
        check("groupNorm rank 3", List.of(in("x", 60, 2, 4, 5), in("w", 61, 4), in("b", 62, 4)),
                (ops, x) -> ops.groupNorm(x.get(0), 2, 1e-5, x.get(1), x.get(2), false));
        check("groupNorm of a permuted input", List.of(in("x", 63, 2, 3, 4, 4), in("w", 64, 4), in("b", 65, 4)),
                (ops, x) -> ops.groupNorm(ops.permute(x.get(0), 0, 3, 2, 1), 2, 1e-5, x.get(1), x.get(2), true));
        check("groupNorm * (1 + scale) + shift, SiLU (ResBlock's scale-shift norm)",
                List.of(in("x", 69, 2, 6, 3, 2), in("w", 72, 6), in("b", 73, 6), in("s", 74, 2, 6, 1, 1),
                        in("t", 75, 2, 6, 1, 1)),
                (ops, x) -> ops.groupNormScaleShiftSilu(x.get(0), 3, 1e-5, x.get(1), x.get(2), x.get(3), x.get(4)));
        check("composed groupNorm (the interface default)", List.of(in("x", 66, 2, 4, 3), in("w", 67, 4), in("b", 68, 4)),
                (ops, x) -> ops.add(ops.mul(ops.reshape(normalised(ops, x.get(0), 2), 2, 4, 3),
                        ops.reshape(x.get(1), 1, 4, 1)), ops.reshape(x.get(2), 1, 4, 1)));
    }

    /** The interface's composed normalisation steps (mean, centred, variance, rsqrt) on [N, G, -1]. */
    private static Tensor normalised(TapeOps ops, Tensor x, int groups) {
        Tensor g = ops.reshape(x, ops.shape(x)[0], groups, -1);
        Tensor c = ops.sub(g, ops.mean(g, true, 2));
        return ops.mul(c, ops.rsqrt(ops.add(ops.mean(ops.square(c), true, 2), 1e-5)));
    }

    @Test
    void gatherRowsScatterAddsRepeatedIds() {
        INDArray ids = Nd4j.createFromArray(3L, 0L, 3L, 6L, 3L);
        check("gatherRows of an input table", List.of(in("table", 70, 7, 4), in("ids", ids)),
                (ops, x) -> ops.gatherRows(x.get(0), x.get(1)));
        Map<String, INDArray> table = Map.of("emb.weight", in("t", 71, 7, 4).value());
        System.out.println(TapeGradCheck.check("gatherRows of a trainable table", table,
                List.of(in("ids", ids)), (ops, x) -> ops.gatherRows(ops.param("emb.weight"), x.get(0))));
    }

    @Test
    void dropoutReusesItsMaskInBackward() {
        System.out.println(TapeGradCheck.check("dropout 0.4 while training", Map.of(), List.of(in("x", 80, 4, 25)),
                (ops, x) -> ops.mul(ops.dropout(ops.exp(x.get(0)), 0.4), 2.0), o -> o.training(true).dropoutSeed(5)));
        // the mask really drops: about 40% of the values are 0, the others scaled by 1/0.6
        TapeOps ops = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), false)
                .precision(DataType.DOUBLE).training(true).dropoutSeed(5);
        INDArray ones = Nd4j.ones(DataType.DOUBLE, 100, 100);
        INDArray y = ops.dropout(ops.input(ones, false), 0.4).value();
        double zeros = y.eq(0.0).castTo(DataType.DOUBLE).sumNumber().doubleValue() / 1e4;
        assertEquals(0.4, zeros, 0.03, "fraction dropped");
        assertEquals(1.0, y.meanNumber().doubleValue(), 0.05, "mean kept by the 1/(1-p) scaling");
        // at inference dropout is the identity (the same tensor)
        TapeOps eval = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), false).precision(DataType.DOUBLE);
        Tensor x = eval.input(ones, true);
        assertEquals(x, eval.dropout(x, 0.4));
    }

    /**
     * In float32 with oneDNN's kernels, the fused scale-shift norm and the mask-free dropout give what their
     * compositions give: values and every gradient.
     */
    @Test
    void fusedFloat32NodesMatchTheirCompositions() {
        Nd4j.getRandom().setSeed(90);
        Map<String, INDArray> p = Map.of("w", Nd4j.randn(DataType.FLOAT, 8), "b", Nd4j.randn(DataType.FLOAT, 8));
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 8, 5, 6);
        INDArray emb = Nd4j.randn(DataType.FLOAT, 3, 16, 1, 1);
        INDArray r = Nd4j.randn(DataType.FLOAT, 3, 8, 5, 6);
        INDArray[][] results = new INDArray[2][];
        for (int k = 0; k < 2; k++) {
            boolean fused = k == 0;
            Gradients g = Gradients.zerosLike(p, key -> true);
            TapeOps ops = new TapeOps(p::get, g, true).training(true).dropoutSeed(3);
            Tensor in = ops.input(x, true);
            Tensor e = ops.input(emb, true);
            Tensor scale = ops.slice(e, 1, 0, 8), shift = ops.slice(e, 1, 8, 16);
            Tensor h = fused
                    ? ops.groupNormScaleShiftSilu(in, 4, 1e-5, ops.param("w"), ops.param("b"), scale, shift)
                    : ops.silu(ops.add(ops.mul(ops.groupNorm(in, 4, 1e-5, ops.param("w"), ops.param("b"), false),
                            ops.add(scale, 1.0)), shift));
            Tensor y = ops.dropout(h, 0.3);
            INDArray value = y.value().dup();
            ops.backward(y, r.dup());
            results[k] = new INDArray[] {value, in.grad(), e.grad(), g.get("w").dup(), g.get("b").dup()};
        }
        String[] names = {"value", "dx", "d(scale, shift)", "dw", "db"};
        for (int i = 0; i < names.length; i++) {
            double diff = results[0][i].sub(results[1][i]).amaxNumber().doubleValue();
            double scale = results[1][i].amaxNumber().doubleValue();
            org.junit.jupiter.api.Assertions.assertTrue(diff <= 2e-5 * scale, names[i] + ": " + diff + " of " + scale);
        }
        // the same dropout mask in float32 (generated on the fly) and float64 (a mask array)
        TapeOps f32 = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), true).training(true)
                .dropoutSeed(11);
        TapeOps f64 = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), false)
                .precision(DataType.DOUBLE).training(true).dropoutSeed(11);
        INDArray a = f32.dropout(f32.input(Nd4j.ones(DataType.FLOAT, 37, 29), false), 0.25).value();
        INDArray b = f64.dropout(f64.input(Nd4j.ones(DataType.DOUBLE, 37, 29), false), 0.25).value();
        assertEquals(b.castTo(DataType.FLOAT), a);
    }

    /** Attention weights in float32: the fused node with oneDNN's softmax backward against ND4J's composition. */
    @Test
    void fusedFloat32AttentionMatchesTheComposition() {
        Nd4j.getRandom().setSeed(91);
        INDArray q = Nd4j.randn(DataType.FLOAT, 4, 8, 6), k = Nd4j.randn(DataType.FLOAT, 4, 8, 9);
        INDArray r = Nd4j.randn(DataType.FLOAT, 4, 6, 9);
        INDArray[][] results = new INDArray[2][];
        for (int i = 0; i < 2; i++) {
            TapeOps ops = new TapeOps(key -> null, Gradients.zerosLike(Map.of(), key -> true), i == 0);
            Tensor tq = ops.input(q, true), tk = ops.input(k, true);
            Tensor w = i == 0 ? ops.attentionWeights(tq, tk, 0.6)
                    : ops.softmax(ops.matmul(ops.mul(tq, 0.6), ops.mul(tk, 0.6), true, false), 2);
            INDArray value = w.value().dup();
            ops.backward(w, r.dup());
            results[i] = new INDArray[] {value, tq.grad(), tk.grad()};
        }
        for (int i = 0; i < 3; i++) {
            double diff = results[0][i].sub(results[1][i]).amaxNumber().doubleValue();
            double scale = results[1][i].amaxNumber().doubleValue();
            org.junit.jupiter.api.Assertions.assertTrue(diff <= 1e-5 * scale, i + ": " + diff + " of " + scale);
        }
    }

    @Test
    void toFloatAndConstants() {
        // float64 back-end: toFloat of an integer tensor gives float64 (no gradient); floating constants are cast
        TapeOps ops = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), false).precision(DataType.DOUBLE);
        Tensor t = ops.toFloat(ops.input(Nd4j.createFromArray(1L, 2L), false));
        assertEquals(DataType.DOUBLE, t.value().dataType());
        assertEquals(DataType.DOUBLE, ops.constant(Nd4j.ones(DataType.FLOAT, 2)).value().dataType());
        ops.clear();
        assertEquals(0, ops.tapeSize());
        // a float64 input differentiated through a float32 back-end: the gradient comes back as float64
        TapeOps f32 = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), false);
        Tensor x = f32.input(Nd4j.createFromArray(1.0, 2.0), false);
        assertNull(x.grad());
        assertEquals(DataType.FLOAT, f32.toFloat(x).value().dataType());
    }

    @Test
    void freedValuesFailClearly() {
        TapeOps ops = new TapeOps(k -> null, Gradients.zerosLike(Map.of(), k -> true), false).precision(DataType.DOUBLE);
        Tensor x = ops.input(Nd4j.createFromArray(1.0, 2.0), true);
        Tensor h = ops.exp(x);
        Tensor loss = ops.mean(h, false);
        ops.backward(loss);
        assertEquals(0, ops.tapeSize());
        IllegalStateException e = assertThrows(IllegalStateException.class, h::value);
        assertEquals(true, e.getMessage().contains("freed by backward"), e.getMessage());
        assertEquals((Math.E + Math.exp(2)) / 2, loss.value().getDouble(0), 1e-12, "the scalar passed to backward is kept");
        assertEquals(Math.exp(2) / 2, x.grad().getDouble(1), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> ops.backward(ops.input(Nd4j.ones(2), true)));
        assertThrows(IllegalStateException.class, () -> ops.backward(loss), "a second backward through the same tape");
    }
}
