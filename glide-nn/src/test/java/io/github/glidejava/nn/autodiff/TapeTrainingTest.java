package io.github.glidejava.nn.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * A tiny text-conditional U-Net learns on the tape back-end: on one fixed batch the epsilon-prediction MSE falls at
 * least 10x within a bounded number of Adam steps (dropout on, gradients accumulated over two micro-batches of the
 * same samples and averaged with {@link Gradients#scale}), and the eager forward with the trained weights reproduces
 * the last loss.
 */
class TapeTrainingTest {
    static final int BATCH = 4;
    static final int SIZE = 16;
    static final int MAX_STEPS = 80;

    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    @Test
    void epsilonLossFallsTenfoldOnOneBatch() {
        GlideModelConfig c = GlideModelConfig.builder().imageSize(SIZE).numChannels(32).numResBlocks(1)
                .channelMult("1,2").attentionResolutions("8").numHeadChannels(32).xfWidth(32).xfLayers(1).xfHeads(2)
                .textCtx(8).vocabSize(64).dropout(0.1).build();
        Text2ImUNet model = Text2ImUNet.create(c).initParameters(1234);
        Random rnd = new Random(5);
        Nd4j.getRandom().setSeed(5);
        INDArray x0 = Transforms.tanh(Nd4j.randn(DataType.FLOAT, BATCH, 3, SIZE, SIZE).muli(2.0), true);
        INDArray eps0 = Nd4j.randn(DataType.FLOAT, BATCH, 3, SIZE, SIZE);
        long[] t = new long[BATCH];
        INDArray xt = Nd4j.createUninitialized(DataType.FLOAT, BATCH, 3, SIZE, SIZE);
        for (int i = 0; i < BATCH; i++) {
            t[i] = rnd.nextInt(1000);
            double ab = Math.pow(Math.cos((t[i] / 1000.0 + 0.008) / 1.008 * Math.PI / 2), 2);
            xt.slice(i).assign(x0.slice(i).mul(Math.sqrt(ab)).addi(eps0.slice(i).mul(Math.sqrt(1 - ab))));
        }
        long[][] tokens = new long[BATCH][c.textCtx()];
        boolean[][] mask = new boolean[BATCH][c.textCtx()];
        for (int i = 0; i < BATCH; i++) {
            int len = 2 + rnd.nextInt(c.textCtx() - 2);
            for (int j = 0; j < c.textCtx(); j++) {
                mask[i][j] = j < len;
                tokens[i][j] = j < len ? 1 + rnd.nextInt(c.vocabSize() - 1) : 0;
            }
        }
        INDArray ts = Nd4j.createFromArray(t), tok = Nd4j.createFromArray(tokens), msk = Nd4j.createFromArray(mask);

        Gradients grads = Gradients.zerosLike(model.parameters(), k -> true);
        Map<String, INDArray[]> moments = new LinkedHashMap<>();
        List<Double> losses = new ArrayList<>();
        double lr = 3e-3, b1 = 0.9, b2 = 0.999;
        for (int step = 1; step <= MAX_STEPS; step++) {
            double loss = 0;
            for (int micro = 0; micro < 2; micro++) {
                TapeOps ops = new TapeOps(model.parameters(), grads).training(true).dropoutSeed(100L * step + micro);
                Tensor out = model.forward(ops, UNetInputs.of(ops.input(xt, false), ops.input(ts, false),
                        ops.input(tok, false), ops.input(msk, false)));
                Tensor l = ops.mean(ops.square(ops.sub(ops.slice(out, 1, 0, 3), ops.input(eps0, false))), false);
                loss += l.value().getDouble(0) / 2;
                ops.backward(l);
            }
            grads.scale(0.5);
            assertTrue(Double.isFinite(grads.globalNorm()), "gradient norm at step " + step);
            losses.add(loss);
            if (loss <= losses.get(0) / 10) {
                break;
            }
            for (String k : grads.keys()) {
                INDArray g = grads.get(k);
                INDArray p = model.parameters().get(k);
                INDArray[] mv = moments.computeIfAbsent(k, key -> new INDArray[] {Nd4j.zeros(DataType.FLOAT, p.shape()),
                        Nd4j.zeros(DataType.FLOAT, p.shape())});
                mv[0].muli(b1).addi(g.mul(1 - b1));
                mv[1].muli(b2).addi(g.mul(g).muli(1 - b2));
                INDArray denom = Transforms.sqrt(mv[1].div(1 - Math.pow(b2, step)), true).addi(1e-8);
                p.subi(mv[0].div(1 - Math.pow(b1, step)).divi(denom).muli(lr));
            }
            grads.zero();
        }
        double first = losses.get(0), last = losses.get(losses.size() - 1);
        System.out.printf("tape training: loss %.4f -> %.4f in %d steps%n", first, last, losses.size() - 1);
        assertTrue(first > 0.5, "an untrained model predicts ~0, so the loss starts near 1, got " + first);
        assertTrue(last <= first / 10, "loss must fall 10x within " + MAX_STEPS + " steps: " + losses);

        // dropout off: the eager forward with the trained weights gives about the last training loss
        INDArray out = model.forward(UNetInputs.of(xt, ts, tok, msk));
        INDArray eps = out.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 3));
        double eager = eps.sub(eps0).muli(eps.sub(eps0)).meanNumber().doubleValue();
        assertEquals(last, eager, Math.max(0.05, 0.5 * last), "eager loss with the trained weights");
    }

    /**
     * bfloat16 convolutions ({@code convPrecision(BF16)}, forward and backward) give the float32 gradient to within
     * bfloat16's rounding: the same direction and length to a few percent, and not the very same numbers.
     */
    @Test
    void bf16ConvolutionsGiveNearlyTheFloat32Gradient() {
        GlideModelConfig c = GlideModelConfig.builder().imageSize(SIZE).numChannels(32).numResBlocks(1)
                .channelMult("1,2").attentionResolutions("8").numHeadChannels(32).xfWidth(32).xfLayers(1).xfHeads(2)
                .textCtx(8).vocabSize(64).build();
        Text2ImUNet model = Text2ImUNet.create(c).initParameters(77);
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.randn(DataType.FLOAT, BATCH, 3, SIZE, SIZE), eps = Nd4j.randn(DataType.FLOAT, BATCH, 3, SIZE, SIZE);
        INDArray ts = Nd4j.createFromArray(3L, 300L, 600L, 900L);
        INDArray tok = Nd4j.createFromArray(new long[][] {{1, 2, 0, 0, 0, 0, 0, 0}, {3, 4, 5, 0, 0, 0, 0, 0},
                {6, 0, 0, 0, 0, 0, 0, 0}, {7, 8, 9, 10, 0, 0, 0, 0}});
        INDArray msk = tok.gt(0);
        INDArray[] flat = new INDArray[2];
        for (int k = 0; k < 2; k++) {
            Gradients grads = Gradients.zerosLike(model.parameters(), key -> true);
            TapeOps ops = new TapeOps(model.parameters(), grads)
                    .convPrecision(k == 0 ? io.github.glidejava.nn.ops.Precision.FP32
                            : io.github.glidejava.nn.ops.Precision.BF16);
            Tensor out = model.forward(ops, UNetInputs.of(ops.input(x, false), ops.input(ts, false),
                    ops.input(tok, false), ops.input(msk, false)));
            ops.backward(ops.mean(ops.square(ops.sub(ops.slice(out, 1, 0, 3), ops.input(eps, false))), false));
            List<INDArray> parts = new ArrayList<>();
            for (String key : grads.keys()) {
                parts.add(grads.get(key).reshape(-1));
            }
            flat[k] = Nd4j.concat(0, parts.toArray(new INDArray[0]));
        }
        double cos = flat[0].mul(flat[1]).sumNumber().doubleValue() / (flat[0].norm2Number().doubleValue()
                * flat[1].norm2Number().doubleValue());
        double lengths = flat[1].norm2Number().doubleValue() / flat[0].norm2Number().doubleValue();
        System.out.printf("bf16 against float32 gradient: cosine %.5f, length ratio %.4f%n", cos, lengths);
        assertTrue(cos > 0.99, "cosine " + cos);
        assertEquals(1.0, lengths, 0.05, "length ratio");
        assertTrue(flat[0].sub(flat[1]).amaxNumber().doubleValue() > 0, "bf16 must actually round");
    }
}
