package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.ops.kernels.DnnlConv;
import io.github.glidejava.nn.ops.kernels.OneDnnKernels;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/** EagerOps with oneDNN's kernels computes what it computes with ND4J's ops (up to float32 summation order). */
class OneDnnKernelsTest {
    private static EagerOps plain;
    private static EagerOps fast;

    @BeforeAll
    static void init() {
        GlideBackend.init();
        plain = new EagerOps(k -> null, false);
        fast = new EagerOps(k -> null, true);
        assumeTrue(fast.usesOneDnnKernels(), "oneDNN's Java API or natives are not on the class path here"
                + " (e.g. -Pcpu-plain), or -Dglide.kernels=nd4j: nothing to compare");
    }

    static void assertClose(String what, INDArray expected, INDArray actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double diff = Transforms.abs(expected.sub(actual), false).maxNumber().doubleValue();
        double scale = Math.max(1e-3, Transforms.abs(expected, true).maxNumber().doubleValue());
        assertTrue(diff <= tol * scale, what + ": max |diff| " + diff + " > " + tol + " * " + scale);
    }

    @Test
    void plainInstancesDoNotUseTheKernels() {
        assertFalse(plain.usesOneDnnKernels());
        assertTrue(OneDnnKernels.available());
    }

    @Test
    void matmulOnContiguousStridedAndTransposedViews() {
        Nd4j.getRandom().setSeed(1);
        INDArray a = Nd4j.randn(DataType.FLOAT, 6, 9, 5);
        INDArray b = Nd4j.randn(DataType.FLOAT, 6, 9, 7);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                INDArray x = ta ? a : a.permute(0, 2, 1);            // contiguous or a transposed view
                INDArray y = tb ? b.permute(0, 2, 1) : b;
                assertClose("batched ta=" + ta + " tb=" + tb, plain.matmul(x, y, ta, tb), fast.matmul(x, y, ta, tb), 1e-5);
            }
        }
        // slices along the middle axis, as QKVAttention's q | k | v of one [N*H, 3*ch, T] tensor
        INDArray qkv = Nd4j.randn(DataType.FLOAT, 4, 3 * 8, 10);
        INDArray q = qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 8), NDArrayIndex.all());
        INDArray k = qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(8, 16), NDArrayIndex.all());
        assertClose("q^T k on slices", plain.matmul(q, k, true, false), fast.matmul(q, k, true, false), 1e-5);
        INDArray m = Nd4j.randn(DataType.FLOAT, 7, 11);
        INDArray n = Nd4j.randn(DataType.FLOAT, 13, 11);
        assertClose("rank 2 with transposed b", plain.matmul(m, n, false, true), fast.matmul(m, n, false, true), 1e-5);
        assertClose("rank 2, transposed view", plain.matmul(m.transpose(), n.transpose(), true, false),
                fast.matmul(m.transpose(), n.transpose(), true, false), 1e-5);
    }

    @Test
    void oneByOneConvolutionAndLinear() {
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 12, 5, 3);
        INDArray w = Nd4j.randn(DataType.FLOAT, 1, 1, 12, 7);
        INDArray bias = Nd4j.randn(DataType.FLOAT, 7);
        assertClose("conv1x1", plain.conv2d(x, w, bias, 1, 0), fast.conv2d(x, w, bias, 1, 0), 1e-5);
        assertClose("conv1x1 without bias", plain.conv2d(x, w, null, 1, 0), fast.conv2d(x, w, null, 1, 0), 1e-5);
        INDArray w3 = Nd4j.randn(DataType.FLOAT, 3, 3, 12, 7);
        assertClose("conv3x3 (passed through)", plain.conv2d(x, w3, bias, 1, 1), fast.conv2d(x, w3, bias, 1, 1), 1e-6);
        INDArray h = Nd4j.randn(DataType.FLOAT, 2, 4, 12);
        INDArray lw = Nd4j.randn(DataType.FLOAT, 9, 12);
        INDArray lb = Nd4j.randn(DataType.FLOAT, 9);
        assertClose("linear rank 3", plain.linear(h, lw, lb), fast.linear(h, lw, lb), 1e-5);
        assertClose("linear on a permuted view", plain.linear(h.permute(1, 0, 2), lw, lb),
                fast.linear(h.permute(1, 0, 2), lw, lb), 1e-5);
        assertClose("linear rank 2 without bias", plain.linear(h.get(NDArrayIndex.point(1)), lw, null),
                fast.linear(h.get(NDArrayIndex.point(1)), lw, null), 1e-5);
    }

    @Test
    void scaleShiftNormIsOnePassWithTheComposedResult() {
        Nd4j.getRandom().setSeed(4);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 64, 6, 5).muli(2).addi(0.5);
        INDArray w = Nd4j.randn(DataType.FLOAT, 64);
        INDArray b = Nd4j.randn(DataType.FLOAT, 64);
        // scale and shift are views of one [N, 2C, 1, 1] embedding, as ResBlock slices them
        INDArray emb = Nd4j.randn(DataType.FLOAT, 2, 128, 1, 1);
        INDArray scale = emb.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 64), NDArrayIndex.all(), NDArrayIndex.all());
        INDArray shift = emb.get(NDArrayIndex.all(), NDArrayIndex.interval(64, 128), NDArrayIndex.all(),
                NDArrayIndex.all());
        INDArray norm = composedGroupNorm(x, 32, 1e-5, w, b, false);
        INDArray z = norm.mul(scale.add(1.0)).add(shift);
        INDArray expected = z.mul(Transforms.sigmoid(z, true));
        assertClose("fused scale-shift norm", expected, fast.groupNormScaleShiftSilu(x, 32, 1e-5, w, b, scale, shift),
                3e-5);
        assertClose("composed scale-shift norm", expected,
                plain.groupNormScaleShiftSilu(x, 32, 1e-5, w, b, scale, shift), 3e-5);
    }

    @Test
    void groupNormAndSiluThroughOneDnn() {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 64, 5, 7).muli(3).addi(1);
        INDArray w = Nd4j.randn(DataType.FLOAT, 64);
        INDArray b = Nd4j.randn(DataType.FLOAT, 64);
        for (boolean silu : new boolean[] {false, true}) {
            // the composed reference, not EagerOps' own fused kernel
            INDArray expected = composedGroupNorm(x, 32, 1e-5, w, b, silu);
            assertClose("groupNorm silu=" + silu, expected, fast.groupNorm(x, 32, 1e-5, w, b, silu), 2e-5);
            assertClose("ND4J groupNorm silu=" + silu, expected, plain.groupNorm(x, 32, 1e-5, w, b, silu), 2e-5);
        }
        INDArray slice = x.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        assertClose("groupNorm of a view with an offset", composedGroupNorm(slice, 8, 1e-5, w, b, true),
                fast.groupNorm(slice, 8, 1e-5, w, b, true), 2e-5);
        INDArray r3 = Nd4j.randn(DataType.FLOAT, 2, 32, 9);
        INDArray w32 = w.get(NDArrayIndex.interval(0, 32)).dup();
        INDArray b32 = b.get(NDArrayIndex.interval(0, 32)).dup();
        assertClose("groupNorm rank 3", composedGroupNorm(r3, 32, 1e-5, w32, b32, true),
                fast.groupNorm(r3, 32, 1e-5, w32, b32, true), 2e-5);
        assertClose("silu", plain.mul(x, plain.sigmoid(x)), fast.silu(x), 1e-5);
        assertClose("silu of a slice", plain.mul(slice, plain.sigmoid(slice)), fast.silu(slice), 1e-5);
    }

    /** GroupNorm composed from plain ND4J array operations, as a reference independent of both kernels. */
    static INDArray composedGroupNorm(INDArray x, int groups, double eps, INDArray w, INDArray b, boolean silu) {
        long[] s = x.shape();
        INDArray g = x.dup('c').reshape(s[0], groups, -1);
        INDArray centered = g.sub(g.mean(true, 2));
        INDArray var = centered.mul(centered).mean(true, 2);
        INDArray y = centered.mul(Transforms.pow(var.add(eps), -0.5, false)).reshape(s);
        long[] affine = new long[s.length];
        java.util.Arrays.fill(affine, 1);
        affine[1] = s[1];
        y = plain.add(plain.mul(y, w.reshape(affine)), b.reshape(affine));
        return silu ? plain.mul(y, plain.sigmoid(y)) : y;
    }

    @Test
    void wholeTinyModelAgreesAndItsDefaultForwardUsesTheKernels() {
        GlideModelConfig c = GlideModelConfig.builder().imageSize(16).numChannels(32).numResBlocks(1).channelMult("1,2")
                .attentionResolutions("16,8").numHeadChannels(16).xfWidth(32).xfLayers(2).xfHeads(4).textCtx(6)
                .vocabSize(50).build();
        Text2ImUNet model = Text2ImUNet.create(c);
        model.setParameters(RandomTensors.store(model.parameterSpecs(), 3));
        UNetInputs<INDArray> in = UNetInputs.of(RandomTensors.randn(4, 2, 3, 16, 16), Nd4j.createFromArray(5L, 900L),
                Nd4j.createFromArray(new long[][] {{1, 2, 3, 4, 5, 6}, {7, 8, 0, 0, 0, 0}}),
                Nd4j.createFromArray(new boolean[][] {{true, true, true, true, true, true},
                        {true, true, false, false, false, false}}));
        EagerOps nd4j = new EagerOps(model.parameters()::get, false);
        INDArray expected = nd4j.run(() -> model.forward(nd4j, in));
        EagerOps kernels = new EagerOps(model.parameters()::get, true);
        assertClose("tiny Text2ImUNet forward, oneDNN kernels", expected, kernels.run(() -> model.forward(kernels, in)),
                1e-5);
        assertClose("tiny Text2ImUNet default forward", expected, model.forward(in), 1e-5);
    }

    /** kxk convolutions as oneDNN primitives: padded and unpadded, strided, non-square, with and without bias. */
    @Test
    void convolutionPrimitivesMatchNd4jAndTheOptionsStayClose() {
        Nd4j.getRandom().setSeed(3);
        // {N, C, H, W, O, k, stride, padding}
        int[][] cases = {{2, 8, 9, 7, 5, 3, 1, 1}, {3, 16, 8, 8, 16, 3, 2, 1}, {1, 4, 6, 10, 6, 3, 1, 0},
                {2, 32, 64, 32, 16, 3, 1, 1}, {2, 3, 5, 5, 4, 1, 2, 0}};
        for (int[] c : cases) {
            INDArray x = Nd4j.randn(DataType.FLOAT, c[0], c[1], c[2], c[3]);
            INDArray w = Nd4j.randn(DataType.FLOAT, c[5], c[5], c[1], c[4]);
            INDArray bias = Nd4j.randn(DataType.FLOAT, c[4]);
            String what = "conv " + java.util.Arrays.toString(c);
            INDArray expected = plain.conv2d(x, w, bias, c[6], c[7]);
            assertClose(what, expected, fast.conv2d(x, w, bias, c[6], c[7]), 1e-5);
            assertClose(what + " without bias", plain.conv2d(x, w, null, c[6], c[7]),
                    fast.conv2d(x, w, null, c[6], c[7]), 1e-5);
            INDArray view = Nd4j.randn(DataType.FLOAT, c[0], c[1] + 2, c[2], c[3])
                    .get(NDArrayIndex.all(), NDArrayIndex.interval(1, c[1] + 1), NDArrayIndex.all(), NDArrayIndex.all());
            assertClose(what + " of a view", plain.conv2d(view, w, bias, c[6], c[7]),
                    fast.conv2d(view, w, bias, c[6], c[7]), 1e-5);
            // the opt-in precisions: Winograd (on the 2 x 64 x 32 case) near float32 round-off, bf16 to ~3 digits
            EagerOps winograd = new EagerOps(k -> null, true, Precision.WINOGRAD);
            EagerOps bf16 = new EagerOps(k -> null, true, Precision.BF16);
            assertClose(what + " winograd", expected, winograd.conv2d(x, w, bias, c[6], c[7]), 1e-4);
            INDArray lowered = bf16.conv2d(x, w, bias, c[6], c[7]);
            assertClose(what + " bf16", expected, lowered, 3e-2);
            if (c[5] == 3) {
                assertFalse(expected.equalsWithEps(lowered, 1e-6), what + ": bf16 must actually round");
            }
        }
    }

    /** The backward of kxk convolutions through oneDNN's primitives equals ND4J's conv2d_bp's. */
    @Test
    void convolutionBackwardMatchesNd4j() {
        Nd4j.getRandom().setSeed(4);
        int[][] cases = {{2, 8, 9, 7, 5, 3, 1, 1}, {3, 16, 8, 8, 16, 3, 2, 1}, {1, 4, 6, 10, 6, 3, 1, 0}};
        for (int[] c : cases) {
            INDArray x = Nd4j.randn(DataType.FLOAT, c[0], c[1], c[2], c[3]);
            INDArray w = Nd4j.randn(DataType.FLOAT, c[5], c[5], c[1], c[4]);
            INDArray bias = Nd4j.randn(DataType.FLOAT, c[4]);
            INDArray y = plain.conv2d(x, w, bias, c[6], c[7]);
            INDArray g = Nd4j.randn(DataType.FLOAT, y.shape());
            INDArray gx = Nd4j.create(DataType.FLOAT, x.shape());
            INDArray gw = Nd4j.create(DataType.FLOAT, w.shape());
            INDArray gb = Nd4j.create(DataType.FLOAT, bias.shape());
            Nd4j.exec(org.nd4j.linalg.api.ops.DynamicCustomOp.builder("conv2d_bp").addInputs(x, w, bias, g)
                    .addOutputs(gx, gw, gb).addIntegerArguments(c[5], c[5], c[6], c[6], c[7], c[7], 1, 1, 0, 0, 0)
                    .build());
            INDArray dx = Nd4j.create(DataType.FLOAT, x.shape());
            INDArray dw = Nd4j.create(DataType.FLOAT, w.shape());
            INDArray db = Nd4j.create(DataType.FLOAT, bias.shape());
            assertTrue(DnnlConv.backwardData(g, w, c[6], c[7], dx, DnnlConv.Algorithm.DIRECT));
            assertTrue(DnnlConv.backwardWeights(x, g, c[6], c[7], dw, db, DnnlConv.Algorithm.DIRECT));
            String what = "conv backward " + java.util.Arrays.toString(c);
            assertClose(what + " dx", gx, dx, 1e-5);
            assertClose(what + " dw", gw, dw, 1e-5);
            assertClose(what + " db", gb, db, 1e-5);
            INDArray dw2 = Nd4j.create(DataType.FLOAT, w.shape());
            assertTrue(DnnlConv.backwardWeights(x, g, c[6], c[7], dw2, null, DnnlConv.Algorithm.DIRECT));
            assertClose(what + " dw without bias", gw, dw2, 1e-5);
            // the opt-in algorithms of the training tape: close to the exact backward, bf16 really rounding (Winograd's
            // backward runs direct)
            for (DnnlConv.Algorithm a : new DnnlConv.Algorithm[] {DnnlConv.Algorithm.WINOGRAD,
                    DnnlConv.Algorithm.BF16}) {
                double tol = a == DnnlConv.Algorithm.BF16 ? 3e-2 : 1e-4;
                INDArray ax = Nd4j.create(DataType.FLOAT, x.shape());
                INDArray aw = Nd4j.create(DataType.FLOAT, w.shape());
                INDArray ab = Nd4j.create(DataType.FLOAT, bias.shape());
                assertTrue(DnnlConv.backwardData(g, w, c[6], c[7], ax, a), what + " " + a);
                assertTrue(DnnlConv.backwardWeights(x, g, c[6], c[7], aw, ab, a), what + " " + a);
                assertClose(what + " dx " + a, gx, ax, tol);
                assertClose(what + " dw " + a, gw, aw, tol);
                assertClose(what + " db " + a, gb, ab, tol);
                if (a == DnnlConv.Algorithm.BF16) {
                    assertFalse(gx.equalsWithEps(ax, 1e-6), what + ": bf16 backward must actually round");
                }
            }
        }
    }
}
