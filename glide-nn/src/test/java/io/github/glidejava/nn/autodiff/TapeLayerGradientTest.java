package io.github.glidejava.nn.autodiff;

import static io.github.glidejava.nn.autodiff.TapeGradCheck.in;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.Conv1x1;
import io.github.glidejava.nn.layers.Conv2d;
import io.github.glidejava.nn.layers.Embedding;
import io.github.glidejava.nn.layers.GroupNorm32;
import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.LayerNorm;
import io.github.glidejava.nn.layers.Linear;
import io.github.glidejava.nn.layers.ResBlock;
import io.github.glidejava.nn.layers.TimestepEmbedding;
import io.github.glidejava.nn.xf.ResidualAttentionBlock;

/**
 * GLIDE's layers, unchanged, on the tape back-end in float64: gradients w.r.t. every parameter and input agree with
 * central differences.
 */
class TapeLayerGradientTest {
    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    private static void check(String what, Layer layer, List<TapeGradCheck.Input> inputs, TapeGradCheck.Fn f) {
        check(what, layer, inputs, f, o -> o);
    }

    private static void check(String what, Layer layer, List<TapeGradCheck.Input> inputs, TapeGradCheck.Fn f,
            UnaryOperator<TapeOps> configure) {
        Map<String, INDArray> params = layer == null ? Map.of() : TapeGradCheck.params(layer.params(), 3);
        System.out.println(TapeGradCheck.check(what, params, inputs, f, configure));
    }

    @Test
    void groupNorm32() {
        GroupNorm32 gn = new GroupNorm32("norm", 64, 1.0);
        check("GroupNorm32(64) + SiLU", gn, List.of(in("x", 1, 2, 64, 3, 3)), (ops, x) -> gn.forward(ops, x.get(0)));
        GroupNorm32 plain = new GroupNorm32("norm", 8, 32, 0.0, 1e-5);
        check("GroupNorm(8 groups) without swish, rank 3", plain, List.of(in("x", 2, 2, 32, 5)),
                (ops, x) -> plain.forward(ops, x.get(0)));
        GroupNorm32 half = new GroupNorm32("norm", 4, 8, 0.5, 1e-6);
        check("GroupNorm swish 0.5", half, List.of(in("x", 3, 2, 8, 2, 2)), (ops, x) -> half.forward(ops, x.get(0)));
    }

    @Test
    void linearConvAndEmbedding() {
        Linear lin = new Linear("l", 6, 5);
        check("Linear rank 3", lin, List.of(in("x", 4, 2, 3, 6)), (ops, x) -> lin.forward(ops, x.get(0)));
        Conv2d conv = Conv2d.conv3x3("c", 3, 4, false);
        check("Conv2d 3x3", conv, List.of(in("x", 5, 2, 3, 5, 5)), (ops, x) -> conv.forward(ops, x.get(0)));
        Conv2d down = new Conv2d("c", 3, 4, 3, 2, 1, false);
        check("Conv2d 3x3 stride 2", down, List.of(in("x", 6, 2, 3, 6, 6)), (ops, x) -> down.forward(ops, x.get(0)));
        Conv1x1 c1 = new Conv1x1("c", 6, 4, false);
        check("Conv1x1 on [N, C, L]", c1, List.of(in("x", 7, 2, 6, 5)), (ops, x) -> c1.forward(ops, x.get(0)));
        Embedding emb = new Embedding("token_embedding", 9, 4);
        INDArray ids = Nd4j.createFromArray(new long[][] {{1, 8, 1}, {0, 1, 5}});
        check("Embedding with repeated ids", emb, List.of(in("ids", ids)), (ops, x) -> emb.forward(ops, x.get(0)));
        LayerNorm ln = new LayerNorm("ln", 6);
        check("LayerNorm", ln, List.of(in("x", 8, 2, 3, 6)), (ops, x) -> ln.forward(ops, x.get(0)));
    }

    @Test
    void timestepEmbeddingOfFractionalTimesteps() {
        INDArray t = Nd4j.createFromArray(0.0, 0.5, 7.25);
        check("timestep_embedding dim 7", null, List.of(in("t", t)), (ops, x) -> TimestepEmbedding.forward(ops, x.get(0), 7));
    }

    @Test
    void resBlocks() {
        ResBlock plain = new ResBlock("rb", 64, 12, 0.0, null, false, false, false, false);
        check("ResBlock plain", plain, List.of(in("x", 10, 2, 64, 3, 3), in("emb", 11, 2, 12)),
                (ops, x) -> plain.forward(ops, x.get(0), x.get(1)));
        // 96 -> 64 channels: 3 and 2 channels per group (one per group would cancel the conv bias before GN)
        ResBlock up = new ResBlock("rb", 96, 12, 0.0, 64, false, true, true, false);
        check("ResBlock up, scale-shift, 1x1 skip", up, List.of(in("x", 12, 2, 96, 2, 2), in("emb", 13, 2, 12)),
                (ops, x) -> up.forward(ops, x.get(0), x.get(1)));
        ResBlock down = new ResBlock("rb", 64, 12, 0.0, null, false, true, false, true);
        check("ResBlock down, scale-shift", down, List.of(in("x", 14, 2, 64, 4, 4), in("emb", 15, 2, 12)),
                (ops, x) -> down.forward(ops, x.get(0), x.get(1)));
        ResBlock conv = new ResBlock("rb", 64, 12, 0.3, 96, true, false, false, false);
        check("ResBlock 3x3 skip, dropout 0.3 while training", conv,
                List.of(in("x", 16, 2, 64, 3, 3), in("emb", 17, 2, 12)),
                (ops, x) -> conv.forward(ops, x.get(0), x.get(1)), o -> o.training(true).dropoutSeed(11));
    }

    @Test
    void attentionBlocks() {
        AttentionBlock self = new AttentionBlock("attn", 64, 1, 32, null);
        check("AttentionBlock(64, 2 heads)", self, List.of(in("x", 20, 2, 64, 3, 3)),
                (ops, x) -> self.forward(ops, x.get(0), null));
        AttentionBlock enc = new AttentionBlock("attn", 64, 1, 32, 24);
        check("AttentionBlock(64, 2 heads) with encoder_kv", enc,
                List.of(in("x", 21, 2, 64, 2, 3), in("encoder_out", 22, 2, 24, 5)),
                (ops, x) -> enc.forward(ops, x.get(0), x.get(1)));
    }

    @Test
    void transformerResidualAttentionBlock() {
        ResidualAttentionBlock block = new ResidualAttentionBlock("transformer.resblocks.0", 16, 2);
        check("xf ResidualAttentionBlock(width 16, 2 heads)", block, List.of(in("x", 30, 2, 5, 16)),
                (ops, x) -> block.forward(ops, x.get(0)));
    }

    @Test
    void recomputedBlocksGiveTheSameGradients() {
        ResBlock rb = new ResBlock("rb", 64, 12, 0.2, null, false, true, false, false);
        AttentionBlock att = new AttentionBlock("attn", 64, 1, 32, null);
        Layer both = new Layer("") {
            @Override
            public void collectParams(List<io.github.glidejava.nn.params.ParamSpec> out) {
                rb.collectParams(out);
                att.collectParams(out);
            }
        };
        TapeGradCheck.Fn f = (ops, x) -> {
            Tensor h = ops.block("res", () -> rb.forward(ops, x.get(0), x.get(1)));
            return ops.block("attn", () -> att.forward(ops, h, null));
        };
        check("ResBlock + AttentionBlock, both recomputed in backward, dropout 0.2", both,
                List.of(in("x", 40, 2, 64, 3, 3), in("emb", 41, 2, 12)), f,
                o -> o.training(true).dropoutSeed(3).recompute(name -> true));
    }
}
