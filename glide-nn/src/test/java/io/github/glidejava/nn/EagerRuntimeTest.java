package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.SuperResText2ImUNet;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetGraph;
import io.github.glidejava.nn.unet.UNetInputs;

/** Eager forwards: workspace memory does not grow, results survive later forwards, bad inputs are clear errors. */
class EagerRuntimeTest {
    private static Text2ImUNet model;

    @BeforeAll
    static void init() {
        GlideBackend.init();
        model = Text2ImUNet.create(GlideModelConfig.builder().imageSize(16).numChannels(32).numResBlocks(1)
                .channelMult("1,2").attentionResolutions("8").numHeadChannels(32).xfWidth(16).xfLayers(1).xfHeads(2)
                .textCtx(6).vocabSize(20).dropout(0.0).build());
        model.setParameters(RandomTensors.store(model.parameterSpecs(), 5));
    }

    private static UNetInputs<INDArray> inputs(long seed) {
        INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 5, 19, 0, 3, 19}, {19, 19, 19, 19, 19, 19}});
        INDArray mask = Nd4j.createFromArray(new boolean[][] {{true, true, true, false, false, false},
                {false, false, false, false, false, false}});
        return UNetInputs.of(RandomTensors.randn(seed, 2, 3, 16, 16), Nd4j.createFromArray(1L, 500L), tokens, mask);
    }

    @Test
    void repeatedForwardsReuseWorkspaceMemoryAndKeepResults() {
        UNetInputs<INDArray> in = inputs(1);
        INDArray first = model.forward(in);
        List<Long> sizes = new ArrayList<>();
        List<INDArray> outs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            outs.add(model.forward(inputs(10 + i)));
            sizes.add(EagerOps.workspaceBytes());
        }
        assertTrue(sizes.get(1) > 0, "forward ran in workspaces");
        for (int i = 2; i < sizes.size(); i++) {
            assertEquals(sizes.get(1), sizes.get(i), "workspace bytes after forward " + i + ": " + sizes);
        }
        // outputs are detached: later forwards do not overwrite them
        assertFalse(first.isAttached());
        assertEquals(first, model.forward(in));
        assertFalse(outs.get(0).equalsWithEps(outs.get(1), 1e-6), "different inputs give different outputs");
    }

    @Test
    void releaseFreesOrdinaryArraysAndLeavesViewsAndWorkspacesAlone() {
        EagerOps ops = new EagerOps(model.parameters()::get);
        INDArray own = Nd4j.rand(DataType.FLOAT, 4, 4);
        INDArray view = own.get(NDArrayIndex.interval(0, 2));
        ops.release(view);
        assertFalse(own.wasClosed(), "a view owns nothing");
        ops.release(own);
        assertTrue(own.wasClosed());
        ops.release(own);  // twice is harmless
        boolean[] seen = new boolean[2];
        INDArray out = ops.run(() -> ops.block("b", () -> {
            INDArray scratch = Nd4j.ones(DataType.FLOAT, 3);
            ops.release(scratch);
            seen[0] = scratch.isAttached();
            seen[1] = scratch.wasClosed();
            return ops.mul(scratch, 2.0);
        }));
        assertTrue(seen[0], "a block computes in a workspace");
        assertFalse(seen[1], "workspace memory is not closed array by array");
        assertFalse(out.isAttached());
        assertEquals(Nd4j.valueArrayOf(new long[] {3}, 2f, DataType.FLOAT), out);
    }

    @Test
    void aCachedTextEncodingGivesTheSameForward() {
        UNetInputs<INDArray> in = inputs(7);
        var text = model.encodeText(in.tokens(), in.mask());
        assertFalse(text.xfOut.isAttached());
        INDArray cached = model.forward(UNetInputs.of(in.x(), in.timesteps(), null, null), text);
        assertEquals(model.forward(in), cached);
    }

    @Test
    void aForwardInsideAnotherForwardUsesItsOwnWorkspaces() {
        UNetInputs<INDArray> in = inputs(8);
        INDArray outside = model.forward(in);
        EagerOps ops = new EagerOps(model.parameters()::get);
        INDArray[] inner = new INDArray[1];
        INDArray outer = ops.run(() -> {
            INDArray h = model.forward(ops, in);
            inner[0] = model.forward(in);
            return h;
        });
        assertEquals(outside, outer);
        assertEquals(outside, inner[0]);
    }

    @Test
    void tracedIntermediatesAreDetached() {
        var traces = model.forwardWithTrace(inputs(2));
        assertTrue(traces.keySet().containsAll(List.of("unet_input", "time_embed", "transformer", "xf_out", "xf_proj",
                "emb", "input_blocks.0", "middle_block", "output_blocks.0", "out")), traces.keySet().toString());
        model.forward(inputs(3));
        for (var e : traces.entrySet()) {
            assertFalse(e.getValue().isAttached(), e.getKey());
        }
        assertEquals(List.of(2L, 6L, 16L), List.of(traces.get("xf_out").size(0), traces.get("xf_out").size(2),
                traces.get("xf_out").size(1)));
    }

    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void elementWiseOpsLeaveTheirArgumentsUnchanged() {
        EagerOps ops = new EagerOps(key -> {
            throw new IllegalArgumentException(key);
        });
        INDArray x = Nd4j.createFromArray(0.25f, 1f, 4f);
        INDArray copy = x.dup();
        assertEquals(2f, ops.rsqrt(x).getFloat(0), 1e-6f);
        assertEquals(copy, x, "rsqrt changed its argument");
        ops.erf(x);
        assertEquals(copy, x, "erf changed its argument");
    }

    @Test
    void groupNormOfAnOffsetViewReadsTheView() {
        EagerOps ops = new EagerOps(key -> {
            throw new IllegalArgumentException(key);
        });
        INDArray both = Nd4j.rand(DataType.FLOAT, 2, 64, 4, 4).muli(3).addi(1);
        INDArray second = both.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 2));
        assertTrue(second.offset() > 0, "the slice should be an offset view");
        INDArray w = Nd4j.rand(DataType.FLOAT, 64);
        INDArray b = Nd4j.rand(DataType.FLOAT, 64);
        INDArray fromView = ops.groupNorm(second, 32, 1e-5, w, b, true);
        INDArray fromCopy = ops.groupNorm(second.dup(), 32, 1e-5, w, b, true);
        assertTrue(fromCopy.equalsWithEps(fromView, 1e-6), "GroupNorm of an offset view differs from its copy");
    }

    @Test
    void badInputsAreClearErrors() {
        UNetInputs<INDArray> ok = inputs(4);
        String m = error(() -> model.forward(ok.x(), ok.timesteps(), ok.tokens().add(1), ok.mask()));
        assertTrue(m.contains("token ids must be in [0, 20), found 20"), m);
        m = error(() -> model.forward(Nd4j.zeros(DataType.FLOAT, 2, 4, 16, 16), ok.timesteps(), ok.tokens(), ok.mask()));
        assertTrue(m.contains("x must be [N, 3, H, W]") && m.contains("[2, 4, 16, 16]"), m);
        m = error(() -> model.forward(Nd4j.zeros(DataType.FLOAT, 2, 3, 15, 16), ok.timesteps(), ok.tokens(), ok.mask()));
        assertTrue(m.contains("divisible by 2"), m);
        m = error(() -> model.forward(ok.x(), Nd4j.createFromArray(1L, 2L, 3L), ok.tokens(), ok.mask()));
        assertTrue(m.contains("timesteps must be [2]"), m);
        m = error(() -> model.forward(ok.x(), ok.timesteps(), Nd4j.zeros(DataType.LONG, 2, 5), ok.mask()));
        assertTrue(m.contains("tokens must be [N, 6]"), m);
        m = error(() -> model.forward(ok.x(), ok.timesteps(), ok.tokens(), null));
        assertTrue(m.contains("needs a mask"), m);
        m = error(() -> model.forward(ok.x(), ok.timesteps(), null, null));
        assertTrue(m.contains("tokens [N, 6] are required"), m);

        SuperResText2ImUNet sr = (SuperResText2ImUNet) Text2ImUNet.create(model.config().toBuilder().superRes(true).build());
        sr.setParameters(RandomTensors.store(sr.parameterSpecs(), 6));
        m = error(() -> sr.forward(ok));
        assertTrue(m.contains("needs low_res"), m);
        INDArray lowRes = RandomTensors.randn(9, 2, 3, 4, 4);
        assertEquals(6, sr.forward(ok.x(), ok.timesteps(), ok.tokens(), ok.mask(), lowRes).size(1));

        UNetGraph g = UNetGraph.builder(model).batch(2).build();
        m = error(() -> g.forward(UNetInputs.of(RandomTensors.randn(1, 1, 3, 16, 16), ok.timesteps(), ok.tokens(), ok.mask())));
        assertTrue(m.contains("input 'x' must be [2, 3, 16, 16]"), m);
    }

    @Test
    void modelWithoutParametersSaysWhatToDo() {
        Text2ImUNet m = Text2ImUNet.create(model.config());
        String msg = assertThrows(IllegalStateException.class, () -> m.forward(inputs(1))).getMessage();
        assertTrue(msg.contains("no parameters yet"), msg);
    }
}
