package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.BilinearResize;
import io.github.glidejava.nn.layers.Conv2d;
import io.github.glidejava.nn.layers.Downsample;
import io.github.glidejava.nn.layers.GroupNorm32;
import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.LayerNorm;
import io.github.glidejava.nn.layers.Linear;
import io.github.glidejava.nn.layers.ResBlock;
import io.github.glidejava.nn.layers.TimestepEmbedding;
import io.github.glidejava.nn.layers.Upsample;
import io.github.glidejava.nn.ops.Backends;
import io.github.glidejava.nn.ops.TensorFunction;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetGraph;
import io.github.glidejava.nn.unet.UNetInputs;
import io.github.glidejava.nn.xf.MultiheadAttention;
import io.github.glidejava.core.testing.RefFixture;

/**
 * The eager and the SameDiff back-end compute the same thing: on every layer fixture, on layer options the
 * fixtures do not cover (random parameters), and on whole tiny models of all four classes.
 */
class BackendAgreementTest {
    /**
     * Both back-ends call the same native kernels except where the eager one fuses (GroupNorm as x * scale +
     * shift, like PyTorch's kernel; SiLU as one swish op): float32 op-order differences only.
     */
    static final double TOL = 5e-6;
    /** Whole models accumulate float32 round-off of differently ordered reductions through many layers. */
    static final double MODEL_TOL = 2e-5;

    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    @TestFactory
    List<DynamicNode> everyLayerFixture() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path file : RefFixtures.list("layers", ".safetensors")) {
            nodes.add(DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                LayerCase lc = LayerCase.of(RefFixture.open(file));
                agree(file.getFileName().toString(), lc.runEager(), lc.runSameDiff());
            }));
        }
        return nodes;
    }

    private static void agree(String what, Map<String, INDArray> eager, Map<String, INDArray> sd) {
        assertEquals(eager.keySet(), sd.keySet(), what + ": outputs");
        for (String k : eager.keySet()) {
            Close.assertClose(what + " eager vs samediff " + k, eager.get(k), sd.get(k), TOL, TOL);
        }
    }

    interface Fn {
        <T> T apply(TensorOps<T> ops, List<T> in);
    }

    /** Runs {@code fn} on both back-ends with random parameters for {@code layer} and the given inputs. */
    private static void agree(String what, Layer layer, Fn fn, INDArray... inputs) {
        ParameterStore p = layer == null ? null : RandomTensors.store(layer.params(), 7);
        Map<String, INDArray> in = new LinkedHashMap<>();
        for (int i = 0; i < inputs.length; i++) {
            in.put("in" + i, inputs[i]);
        }
        TensorFunction f = new TensorFunction() {
            @Override
            public <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> m) {
                return Map.of("y", fn.apply(ops, new ArrayList<>(m.values())));
            }
        };
        agree(what, Backends.eager(p, in, f), Backends.sameDiff(p, in, f));
    }

    @Test
    void layerOptionsWithoutFixtures() {
        INDArray x = RandomTensors.randn(1, 2, 64, 8, 8);
        INDArray emb = RandomTensors.randn(2, 2, 40);
        GroupNorm32 gn = new GroupNorm32("gn", 8, 64, 0.5, 1e-6);
        agree("GroupNorm swish 0.5, 8 groups", gn, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return gn.forward(ops, in.get(0));
            }
        }, x);
        ResBlock skip3 = new ResBlock("rb", 64, 40, 0.3, 96, true, false, false, false);
        agree("ResBlock 3x3 skip, no scale-shift, dropout at inference", skip3, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return skip3.forward(ops, in.get(0), in.get(1));
            }
        }, x, emb);
        ResBlock downPlain = new ResBlock("rb", 64, 40, 0.0, null, false, false, false, true);
        agree("ResBlock down without scale-shift", downPlain, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return downPlain.forward(ops, in.get(0), in.get(1));
            }
        }, x, emb);
        ResBlock upChange = new ResBlock("rb", 64, 40, 0.0, 32, false, true, true, false);
        agree("ResBlock up with a 1x1 skip", upChange, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return upChange.forward(ops, in.get(0), in.get(1));
            }
        }, x, emb);
        AttentionBlock att = new AttentionBlock("att", 64, 4, -1, 24);
        agree("AttentionBlock num_heads 4 (num_head_channels -1) with encoder", att, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return att.forward(ops, in.get(0), in.get(1));
            }
        }, x, RandomTensors.randn(3, 2, 24, 5));
        Upsample up = new Upsample("up", 64, true, 32);
        agree("Upsample conv to 32 channels", up, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return up.forward(ops, in.get(0));
            }
        }, x);
        Downsample down = new Downsample("down", 64, true, 96);
        agree("Downsample conv to 96 channels", down, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return down.forward(ops, in.get(0));
            }
        }, x);
        Conv2d c1 = new Conv2d("c", 64, 16, 1, 1, 0, false);
        agree("Conv2d 1x1", c1, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return c1.forward(ops, in.get(0));
            }
        }, x);
        Linear lin = new Linear("l", 64, 10);
        LayerNorm ln = new LayerNorm("ln", 64);
        agree("Linear rank 3", lin, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return lin.forward(ops, in.get(0));
            }
        }, RandomTensors.randn(4, 2, 5, 64));
        agree("LayerNorm", ln, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return ln.forward(ops, in.get(0));
            }
        }, RandomTensors.randn(5, 2, 5, 64));
        MultiheadAttention mha = new MultiheadAttention("attn", 48, 1);
        agree("xf MultiheadAttention 1 head", mha, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return mha.forward(ops, in.get(0));
            }
        }, RandomTensors.randn(6, 3, 7, 48));
        agree("timestep_embedding dim 7, fractional t", null, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return TimestepEmbedding.forward(ops, in.get(0), 7);
            }
        }, Nd4j.createFromArray(0f, 0.5f, 999.25f));
        agree("bilinear downscale 16x12 -> 5x7", null, new Fn() {
            public <T> T apply(TensorOps<T> ops, List<T> in) {
                return BilinearResize.forward(ops, in.get(0), 5, 7);
            }
        }, RandomTensors.randn(8, 1, 2, 16, 12));
    }

    /** Tiny versions of the four model classes and of options the model fixtures do not use. */
    @TestFactory
    List<DynamicNode> wholeModels() {
        GlideModelConfig.Builder tiny = GlideModelConfig.builder().imageSize(8).numChannels(32).numResBlocks(1)
                .channelMult("2").attentionResolutions("8").numHeadChannels(32).xfWidth(16).xfLayers(1).xfHeads(2)
                .textCtx(6).vocabSize(20).dropout(0.0);
        Map<String, GlideModelConfig> configs = new LinkedHashMap<>();
        configs.put("Text2ImUNet", tiny.build());
        configs.put("SuperResText2ImUNet", tiny.superRes(true).build());
        configs.put("SuperResInpaintText2ImUnet", tiny.inpaint(true).build());
        configs.put("InpaintText2ImUNet, conv resampling, no scale-shift, num_heads 2",
                tiny.superRes(false).imageSize(16).channelMult("1,2").resblockUpdown(false).useScaleShiftNorm(false)
                        .numHeadChannels(-1).numHeads(2).numHeadsUpsample(1).build());
        configs.put("unconditional (xf_width 0)", GlideModelConfig.builder().imageSize(8).numChannels(32)
                .numResBlocks(2).channelMult("1").attentionResolutions("8").numHeadChannels(16).xfWidth(0).build());
        List<DynamicNode> nodes = new ArrayList<>();
        configs.forEach((name, c) -> nodes.add(DynamicTest.dynamicTest(name, () -> {
            Text2ImUNet m = Text2ImUNet.create(c);
            m.setParameters(RandomTensors.store(m.parameterSpecs(), 11));
            int n = 2, s = c.imageSize();
            INDArray x = RandomTensors.randn(1, n, 3, s, s);
            INDArray t = Nd4j.createFromArray(3L, 997L);
            UNetInputs<INDArray> in = UNetInputs.of(x, t, null, null);
            if (c.xfWidth() > 0) {
                INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 5, 19, 0, 3, 19}, {19, 19, 19, 19, 19, 19}});
                INDArray mask = Nd4j.createFromArray(new boolean[][] {{true, true, true, false, false, false},
                        {false, false, false, false, false, false}});
                in = UNetInputs.of(x, t, tokens, mask);
            }
            if (c.superRes()) {
                in = in.withLowRes(RandomTensors.randn(2, n, 3, s / 2, s / 2));
            }
            if (c.inpaint()) {
                in = in.withInpaint(RandomTensors.randn(3, n, 3, s, s),
                        Nd4j.rand(DataType.FLOAT, n, 1, s, s).gt(0.5).castTo(DataType.FLOAT));
            }
            INDArray eager = m.forward(in);
            UNetGraph g = UNetGraph.builder(m).batch(n).lowResSize(s / 2, s / 2).build();
            INDArray sd = g.forward(in);
            assertEquals(c.outChannels(), eager.size(1));
            Close.assertClose(name + " eager vs samediff", eager, sd, MODEL_TOL, MODEL_TOL);
        })));
        return nodes;
    }
}
