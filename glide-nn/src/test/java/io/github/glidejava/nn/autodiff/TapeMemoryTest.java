package io.github.glidejava.nn.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * Memory does not grow from step to step: 50 forward + backward passes of a tiny text-conditional U-Net (with
 * dropout and a recomputed block) keep the process's physical memory flat after the second step, because backward
 * frees every activation and gradient it is done with.
 */
class TapeMemoryTest {
    static final int STEPS = 50;

    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    @Test
    void fiftyStepsDoNotGrowMemory() {
        GlideModelConfig c = GlideModelConfig.builder().imageSize(32).numChannels(32).numResBlocks(1)
                .channelMult("1,2,2").attentionResolutions("16").numHeadChannels(32).xfWidth(32).xfLayers(1).xfHeads(2)
                .textCtx(8).vocabSize(64).dropout(0.1).build();
        Text2ImUNet model = Text2ImUNet.create(c).initParameters(3);
        Gradients grads = Gradients.zerosLike(model.parameters(), k -> true);
        int n = 4;
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, 3, 32, 32);
        INDArray noise = Nd4j.randn(DataType.FLOAT, n, 3, 32, 32);
        INDArray t = Nd4j.createFromArray(1L, 10L, 100L, 999L);
        INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 2, 3, 0, 0, 0, 0, 0}, {4, 5, 0, 0, 0, 0, 0, 0},
                {6, 7, 8, 9, 10, 11, 12, 13}, {63, 0, 0, 0, 0, 0, 0, 0}});
        INDArray mask = tokens.gt(0);
        long activations = 0;
        int nodes = 0;
        List<Long> rss = new ArrayList<>();
        for (int step = 1; step <= STEPS; step++) {
            TapeOps ops = new TapeOps(model.parameters(), grads).training(true).dropoutSeed(step)
                    .recompute(name -> name.equals("middle_block"));
            UNetInputs<Tensor> in = UNetInputs.of(ops.input(x, false), ops.input(t, false),
                    ops.input(tokens, false), ops.input(mask, false));
            Tensor out = model.forward(ops, in);
            Tensor eps = ops.slice(out, 1, 0, 3);
            Tensor loss = ops.mean(ops.square(ops.sub(eps, ops.input(noise, false))), false);
            nodes = ops.tapeSize();
            activations = ops.tapeBytes();
            ops.backward(loss);
            assertEquals(0, ops.tapeSize(), "backward empties the tape");
            grads.zero();
            rss.add(Pointer.physicalBytes());
        }
        long base = rss.get(1);
        long max = rss.subList(2, STEPS).stream().mapToLong(Long::longValue).max().orElseThrow();
        long last = rss.get(STEPS - 1);
        System.out.printf("%d tape nodes, %.1f MB of activations per step; physical memory after step 2: %.1f MB,"
                + " max over steps 3-%d: %.1f MB, after step %d: %.1f MB%n", nodes, activations / 1e6, base / 1e6, STEPS,
                max / 1e6, STEPS, last / 1e6);
        System.out.println("per step (MB): " + rss.stream().map(b -> String.format("%.0f", b / 1e6)).toList());
        // activations alone are tens of MB per step here: memory left behind by every step would add gigabytes
        assertTrue(activations > 10_000_000, "the model is big enough to show a leak");
        assertTrue(max - base < 64_000_000, String.format("memory grew %.1f MB after the second step: %s",
                (max - base) / 1e6, rss));
    }
}
