package io.github.glidejava.nn.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.GroupNorm32;
import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.ResBlock;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.xf.ResidualAttentionBlock;

/**
 * The SameDiff back-end's analytic gradients (w.r.t. inputs and parameters) agree with central differences in
 * float64 for GLIDE's trainable building blocks: the whole graph (parameters, inputs, every intermediate) is DOUBLE,
 * so the differences are accurate to ~1e-10 and a wrong or missing backward term shows up as a large error.
 */
class SameDiffGradientCheckTest {
    /** The acceptance bound: max relative error of any checked element. */
    static final double MAX_REL_ERROR = 1e-5;
    /** Central-difference step; truncation error ~eps^2, round-off ~1e-16 |L| / eps. */
    static final double EPS = 1e-6;
    /** Below this absolute difference both gradients are zero to within the differences' round-off. */
    static final double MIN_ABS_ERROR = 1e-8;
    /** Elements checked per variable (all of them for smaller variables). */
    static final int MAX_PER_VARIABLE = 10;

    @BeforeAll
    static void init() {
        GlideBackend.init();
        NativeThreads.single();
    }

    @AfterAll
    static void restoreThreads() {
        NativeThreads.restore();
    }

    private static Map<String, long[]> shapes(Object... nameShape) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameShape.length; i += 2) {
            m.put((String) nameShape[i], (long[]) nameShape[i + 1]);
        }
        return m;
    }

    private static void check(String what, Layer layer, Map<String, long[]> inputs, GradientCheck.Forward f) {
        GradientCheck.Graph g = GradientCheck.build(layer, DataType.DOUBLE, inputs, 42, f);
        assertEquals(DataType.DOUBLE, g.sd.output(Map.of(), g.loss.name()).get(g.loss.name()).dataType(),
                what + ": the graph must compute in float64 end to end");
        List<GradientCheck.VarResult> results = GradientCheck.check(g, EPS, MAX_REL_ERROR, MAX_PER_VARIABLE, MIN_ABS_ERROR, 7);
        String report = results.stream().map(Object::toString).collect(Collectors.joining("\n  "));
        System.out.println(what + "\n  " + report);
        assertEquals(g.variables().size(), results.size(), what + ": one result per variable");
        for (GradientCheck.VarResult r : results) {
            assertTrue(r.maxAbsGradient() > 0, what + ": gradient of " + r.name() + " is identically zero\n  " + report);
            assertEquals(0, r.failures(), what + ": " + r + "\n  " + report);
        }
    }

    @Test
    void groupNormWithSilu() {
        GroupNorm32 gn = new GroupNorm32("norm", 64, 1.0);
        check("GroupNorm32(64) + SiLU", gn, shapes("x", new long[] {2, 64, 3, 3}),
                (ops, in) -> gn.forward(ops, in.get(0)));
    }

    @Test
    void groupNormWithoutSwishOnRank3() {
        GroupNorm32 gn = new GroupNorm32("norm", 8, 32, 0.0, 1e-5);
        check("GroupNorm(8 groups, 32) on [N, C, L]", gn, shapes("x", new long[] {2, 32, 5}),
                (ops, in) -> gn.forward(ops, in.get(0)));
    }

    @Test
    void attentionBlockWithEncoderKeysAndValues() {
        // 64 channels, 32 per head: 2 heads; 5 text tokens of width 24 give extra keys / values
        AttentionBlock att = new AttentionBlock("attn", 64, 1, 32, 24);
        check("AttentionBlock(64, 2 heads) with encoder_kv", att,
                shapes("x", new long[] {2, 64, 4, 4}, "encoder_out", new long[] {2, 24, 5}),
                (ops, in) -> att.forward(ops, in.get(0), in.get(1)));
    }

    @Test
    void resBlockUpWithScaleShiftAndChannelChange() {
        // 96 -> 64 channels: 3 and 2 channels per GroupNorm group (with one channel per group GroupNorm would
        // cancel the conv bias before it, and its gradient would vanish)
        ResBlock rb = new ResBlock("rb", 96, 40, 0.0, 64, false, true, true, false);
        check("ResBlock up 96 -> 64 channels (1x1 skip), scale-shift", rb,
                shapes("x", new long[] {2, 96, 3, 3}, "emb", new long[] {2, 40}),
                (ops, in) -> rb.forward(ops, in.get(0), in.get(1)));
    }

    @Test
    void resBlockDownWithScaleShift() {
        ResBlock rb = new ResBlock("rb", 64, 40, 0.0, null, false, true, false, true);
        check("ResBlock down 64 channels, scale-shift", rb,
                shapes("x", new long[] {2, 64, 4, 4}, "emb", new long[] {2, 40}),
                (ops, in) -> rb.forward(ops, in.get(0), in.get(1)));
    }

    /** The token embedding of a trainable graph (SameDiff's own gather backward fails in M2.1). */
    @Test
    void tokenEmbeddingLookup() {
        Layer table = new Layer("") {
            @Override
            public void collectParams(List<ParamSpec> out) {
                out.add(new ParamSpec("token_embedding.weight", new long[] {11, 6}, ParamLayout.TORCH, ParamInit.normal(1)));
            }
        };
        INDArray ids = Nd4j.createFromArray(3L, 0L, 3L, 10L, 7L, 3L);
        check("gatherRows of a trainable [11, 6] table, repeated ids", table, shapes(),
                (ops, in) -> ops.gatherRows(ops.param("token_embedding.weight"), ops.constant(ids)));
    }

    @Test
    void transformerResidualAttentionBlock() {
        ResidualAttentionBlock block = new ResidualAttentionBlock("transformer.resblocks.0", 16, 2);
        check("xf ResidualAttentionBlock(width 16, 2 heads)", block, shapes("x", new long[] {2, 5, 16}),
                (ops, in) -> block.forward(ops, in.get(0)));
    }
}
