package io.github.glidejava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.Conv2d;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;

/** The symbolic FLOP count: closed forms for single layers, and executed = counted on a real forward. */
class FlopCounterTest {
    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    @Test
    void closedFormsOfSingleLayers() {
        Conv2d conv = Conv2d.conv3x3("c", 16, 24, false);
        FlopCounter fc = new FlopCounter(conv.params());
        conv.forward(fc, fc.input(2, 16, 10, 12));
        assertEquals(2L * 2 * 24 * 10 * 12 * 16 * 9, fc.flops(FlopCounter.Kind.CONV));

        // attention with 2 heads of 32 channels over 8x8 positions plus 5 text tokens of width 24
        AttentionBlock att = new AttentionBlock("a", 64, 1, 32, 24);
        fc = new FlopCounter(att.params());
        att.forward(fc, fc.input(2, 64, 8, 8), fc.input(2, 24, 5));
        long t = 64, s = 64 + 5;
        // two products (q.k and w.v), each 2 flops x (batch 2 x 2 heads) x T x S x 32 channels
        assertEquals(2 * (2L * (2 * 2) * t * s * 32), fc.flops(FlopCounter.Kind.ATTENTION), "q.k and w.v");
        long conv1x1 = 2L * 2 * t * 64 * 3 * 64 + 2L * 2 * 5 * 24 * 2 * 64 + 2L * 2 * t * 64 * 64;
        assertEquals(conv1x1, fc.flops(FlopCounter.Kind.CONV), "qkv, encoder_kv, proj_out");
    }

    @Test
    void countedEqualsExecutedOnATinyModel() {
        GlideModelConfig c = GlideModelConfig.builder().imageSize(16).numChannels(32).numResBlocks(1).channelMult("1,2")
                .attentionResolutions("8").numHeadChannels(32).xfWidth(32).xfLayers(1).xfHeads(2).textCtx(6)
                .vocabSize(50).build();
        Text2ImUNet model = Text2ImUNet.create(c);
        model.setParameters(RandomWeights.of(model.parameterSpecs(), 1));
        FlopCounter counted = FullModelHarness.countFlops(model, 2);
        UnetRun run = new UnetRun(model, c);
        Map<String, long[]> exec = run.categories;
        assertEquals(counted.flops(FlopCounter.Kind.CONV), exec.get("conv3x3")[2] + exec.get("conv1x1")[2]);
        assertEquals(counted.flops(FlopCounter.Kind.LINEAR), exec.get("linear")[2]);
        assertEquals(counted.flops(FlopCounter.Kind.ATTENTION), exec.get("attention matmul")[2]);
    }

    /** GLIDE's base model at batch 2: the peer figure says 446 GFLOP in convolutions and linear layers. */
    @Test
    void basePresetMatchesThePublishedCount() {
        Text2ImUNet base = Text2ImUNet.create(GlideModelConfig.base());
        FlopCounter fc = FullModelHarness.countFlops(base, 2);
        double convLinear = (fc.flops(FlopCounter.Kind.CONV) + fc.flops(FlopCounter.Kind.LINEAR)) / 1e9;
        assertEquals(446, convLinear, 1.0, "base forward at batch 2, conv + linear GFLOP");
    }

    /** One eager forward through TimingOps. */
    static final class UnetRun {
        final Map<String, long[]> categories;

        UnetRun(Text2ImUNet model, GlideModelConfig c) {
            var in = FullModelHarness.inputs(c, 2, c.imageSize());
            EagerOps e = new EagerOps(model.parameters()::get);
            TimingOps t = new TimingOps(e);
            INDArray out = e.run(() -> model.forward(t, in));
            assertEquals(List.of(2L, 6L, 16L, 16L), List.of(out.size(0), out.size(1), out.size(2), out.size(3)));
            categories = t.byCategory();
        }
    }
}
