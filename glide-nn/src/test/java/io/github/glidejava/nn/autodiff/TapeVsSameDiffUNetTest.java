package io.github.glidejava.nn.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetGraph;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * On tiny models of all four U-Net classes (and options the presets do not use), the tape back-end's parameter
 * gradients of {@code sum(out * R)} equal SameDiff's ({@link UNetGraph}, an independent autodiff of the same
 * definition), in float32; recomputing every block in backward (checkpointing) gives the same gradients.
 */
class TapeVsSameDiffUNetTest {
    /**
     * |tape - samediff| <= TOL * max|gradient of that parameter| + ATOL * max|any gradient|: float32 sums in
     * different orders. The second term covers parameters whose exact gradient is 0 and both back-ends give round-off
     * (e.g. a conv bias right before a GroupNorm with one channel per group, which the normalisation cancels).
     */
    static final double TOL = 5e-5;
    static final double ATOL = 2e-6;

    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    static Map<String, GlideModelConfig> tinyConfigs() {
        GlideModelConfig.Builder tiny = GlideModelConfig.builder().imageSize(16).numChannels(32).numResBlocks(1)
                .channelMult("1,2").attentionResolutions("8").numHeadChannels(32).xfWidth(16).xfLayers(1).xfHeads(2)
                .textCtx(6).vocabSize(20).dropout(0.0);
        Map<String, GlideModelConfig> configs = new LinkedHashMap<>();
        configs.put("Text2ImUNet", tiny.build());
        configs.put("SuperResText2ImUNet", tiny.superRes(true).build());
        configs.put("SuperResInpaintText2ImUNet", tiny.inpaint(true).build());
        configs.put("InpaintText2ImUNet, conv resampling, no scale-shift, num_heads 2",
                tiny.superRes(false).resblockUpdown(false).useScaleShiftNorm(false).numHeadChannels(-1).numHeads(2)
                        .numHeadsUpsample(1).build());
        return configs;
    }

    /** Seeded random parameters (no zero-initialised outputs, so every gradient is non-zero). */
    static ParameterStore randomStore(List<ParamSpec> specs, long seed) {
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (ParamSpec s : specs) {
            long[] shape = s.torchShape();
            INDArray t = Nd4j.randn(DataType.FLOAT, shape);
            if (shape.length == 1) {
                t.muli(0.1);
                if (s.key().endsWith("weight")) {
                    t.addi(1.0);
                }
            } else if (!s.key().contains("embedding")) {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                t.muli(1.0 / Math.sqrt(fanIn));
            } else {
                t.muli(0.5);
            }
            m.put(s.key(), t);
        }
        return ParameterStore.fromStateDict(specs, StateDict.of(m));
    }

    static UNetInputs<INDArray> inputs(GlideModelConfig c, int n, long seed) {
        int s = c.imageSize();
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, 3, s, s);
        INDArray t = Nd4j.createFromArray(3L, 997L);
        INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 5, 19, 5, 3, 19}, {19, 2, 0, 0, 0, 0}});
        INDArray mask = Nd4j.createFromArray(new boolean[][] {{true, true, true, true, false, false},
                {true, true, false, false, false, false}});
        UNetInputs<INDArray> in = UNetInputs.of(x, t, tokens, mask);
        if (c.superRes()) {
            in = in.withLowRes(Nd4j.randn(DataType.FLOAT, n, 3, s / 2, s / 2));
        }
        if (c.inpaint()) {
            in = in.withInpaint(Nd4j.randn(DataType.FLOAT, n, 3, s, s),
                    Nd4j.rand(DataType.FLOAT, n, 1, s, s).gt(0.5).castTo(DataType.FLOAT));
        }
        return in;
    }

    /** The inputs on the tape (constants: no input gradients are needed here). */
    static UNetInputs<Tensor> onTape(TapeOps ops, UNetInputs<INDArray> in) {
        return new UNetInputs<>(c(ops, in.x()), c(ops, in.timesteps()), c(ops, in.tokens()), c(ops, in.mask()),
                c(ops, in.lowRes()), c(ops, in.inpaintImage()), c(ops, in.inpaintMask()));
    }

    private static Tensor c(TapeOps ops, INDArray v) {
        return v == null ? null : ops.input(v, false);
    }

    @TestFactory
    List<DynamicNode> parameterGradientsMatchSameDiff() {
        List<DynamicNode> nodes = new ArrayList<>();
        tinyConfigs().forEach((name, c) -> nodes.add(DynamicTest.dynamicTest(name, () -> {
            Text2ImUNet model = Text2ImUNet.create(c);
            model.setParameters(randomStore(model.parameterSpecs(), 11));
            int n = 2;
            UNetInputs<INDArray> in = inputs(c, n, 5);
            Nd4j.getRandom().setSeed(17);
            INDArray r = Nd4j.randn(DataType.FLOAT, n, c.outChannels(), c.imageSize(), c.imageSize());

            // SameDiff: loss = sum(out * R)
            UNetGraph g = UNetGraph.builder(model).batch(n).lowResSize(c.imageSize() / 2, c.imageSize() / 2)
                    .trainable(true).build();
            SameDiff sd = g.sameDiff();
            SDVariable loss = g.output().mul(sd.constant("r", r)).sum().rename("loss");
            sd.setLossVariables(loss);
            List<String> keys = model.parameters().keys();
            Map<String, INDArray> expected = sd.calculateGradients(g.feed(in), keys);

            // tape: backward seeded with R
            Gradients grads = Gradients.zerosLike(model.parameters(), k -> true);
            TapeOps ops = new TapeOps(model.parameters(), grads);
            Tensor out = model.forward(ops, onTape(ops, in));
            ops.backward(out, r);
            assertEquals(0, ops.tapeSize());
            assertEquals(keys, grads.keys(), "gradients in state_dict order");

            double global = 0;
            for (String k : keys) {
                global = Math.max(global, expected.get(k).amaxNumber().doubleValue());
            }
            double floor = ATOL * global;
            StringBuilder worst = new StringBuilder();
            double worstRatio = 0;
            for (String k : keys) {
                INDArray e = expected.get(k);
                INDArray a = grads.get(k);
                double scale = Math.abs(e.amaxNumber().doubleValue());
                assertTrue(scale > 0 || k.endsWith("qkv.bias"), name + ": SameDiff's gradient of " + k + " is zero");
                double diff = a.sub(e).amaxNumber().doubleValue();
                double ratio = diff / (TOL * scale + floor);
                if (ratio > worstRatio) {
                    worstRatio = ratio;
                    worst.setLength(0);
                    worst.append(String.format("%s max|diff| %.3e, max|g| %.3e", k, diff, scale));
                }
                assertTrue(diff <= TOL * scale + floor, name + ": gradient of " + k + " differs by " + diff
                                + " (max |g| " + scale + ", of all parameters " + global + ")");
            }
            // every block recomputed in backward (checkpointing) gives the same gradients
            Gradients again = Gradients.zerosLike(model.parameters(), k -> true);
            TapeOps rops = new TapeOps(model.parameters(), again).recompute(block -> true);
            rops.backward(model.forward(rops, onTape(rops, in)), r);
            for (String k : keys) {
                double diff = again.get(k).sub(grads.get(k)).amaxNumber().doubleValue();
                double scale = grads.get(k).amaxNumber().doubleValue();
                assertTrue(diff <= 1e-5 * scale + 1e-7 * global, name + ": recomputed gradient of " + k + " differs by "
                        + diff);
            }
            System.out.printf("%s: %d parameter gradients agree (max |g| %.3g); closest to the bound (%.2f of it): %s%n",
                    name, keys.size(), global, worstRatio, worst);
        })));
        return nodes;
    }
}
