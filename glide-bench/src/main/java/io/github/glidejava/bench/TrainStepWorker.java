package io.github.glidejava.bench;

import java.util.Locale;
import java.util.Random;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.autodiff.Gradients;
import io.github.glidejava.nn.autodiff.TapeOps;
import io.github.glidejava.nn.autodiff.Tensor;
import io.github.glidejava.nn.ops.ArrayPool;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.train.AdamW;
import io.github.glidejava.nn.train.AdamWOptions;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * The Java side of {@code ../shared/peer/torch_worker.py train}: one training step of a GLIDE U-Net on the tape
 * back-end ({@link TapeOps}) per {@code run}: fresh noise, q_sample, forward in training mode (dropout on), the
 * epsilon MSE on the first 3 output channels, backward, then an AdamW step (torch's defaults, as the peer's
 * {@code torch.optim.AdamW(lr=1e-4)}). Speaks the peer protocol:
 * {@code READY} once the model is built, {@code run} -> {@code T <seconds> fwd <s> bwd <s> loss <l>}, {@code rss}
 * -> {@code RSS VmHWM=<n>kB VmRSS=<n>kB}, {@code quit}.
 *
 * <pre>
 * java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.TrainStepWorker train --config small32 \
 *      [--batch 16] [--recompute none|all] [--lr 1e-4] [--memory-budget-mb 1024] [--precision fp32|winograd|bf16]
 * </pre>
 *
 * {@code small32} is torch_worker's config: 32x32, 64 channels, mult 1,2,2, 2 res blocks, attention at 16 and 8,
 * 32 channels per head, text transformer width 128 x 4 layers x 4 heads, dropout 0.1, the base model's other options.
 */
public final class TrainStepWorker {
    private final Text2ImUNet model;
    private final Gradients grads;
    private final int batch;
    private final boolean recompute;
    private final AdamW adam;
    private final long memoryBudget;
    private final Precision precision;
    private final INDArray x;
    private final INDArray t;
    private final INDArray tokens;
    private final INDArray mask;
    private final double[] alphasCumprod;
    private int step;

    TrainStepWorker(GlideModelConfig config, int batch, boolean recompute, double lr, long memoryBudget,
            Precision precision) {
        this.memoryBudget = memoryBudget;
        this.precision = precision;
        this.model = Text2ImUNet.create(config).initParameters(0);
        this.grads = Gradients.zerosLike(model.parameters(), k -> true);
        this.batch = batch;
        this.recompute = recompute;
        // torch.optim.AdamW's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01
        this.adam = new AdamW(model.parameters(),
                AdamWOptions.builder().lr(lr).betas(0.9, 0.999).eps(1e-8)
                        .weightDecay(0.01).build());
        int size = config.imageSize();
        Nd4j.getRandom().setSeed(0);
        Random rnd = new Random(0);
        x = Nd4j.randn(DataType.FLOAT, batch, 3, size, size);
        long[] ts = new long[batch];
        long[][] tok = new long[batch][config.textCtx()];
        for (int i = 0; i < batch; i++) {
            ts[i] = rnd.nextInt(1000);
            for (int j = 0; j < tok[i].length; j++) {
                tok[i][j] = rnd.nextInt(config.vocabSize() - 1);
            }
        }
        t = Nd4j.createFromArray(ts);
        tokens = Nd4j.createFromArray(tok);
        mask = Nd4j.ones(DataType.BOOL, batch, config.textCtx());
        alphasCumprod = cosineAlphasCumprod(1000);
    }

    static GlideModelConfig small32() {
        return GlideModelConfig.base().toBuilder().imageSize(32).numChannels(64).channelMult("1,2,2").numResBlocks(2)
                .attentionResolutions("16,8").numHeadChannels(32).xfWidth(128).xfLayers(4).xfHeads(4).dropout(0.1)
                .build();
    }

    /** glide's squaredcos_cap_v2 schedule: betas from alpha_bar(t) = cos^2((t + 0.008) / 1.008 * pi / 2). */
    static double[] cosineAlphasCumprod(int steps) {
        double[] out = new double[steps];
        double prod = 1.0;
        for (int i = 0; i < steps; i++) {
            double beta = Math.min(1 - alphaBar((i + 1.0) / steps) / alphaBar((double) i / steps), 0.999);
            prod *= 1 - beta;
            out[i] = prod;
        }
        return out;
    }

    private static double alphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** One step; returns {seconds, forward seconds, backward seconds, optimiser seconds, loss}. */
    double[] run() {
        long t0 = System.nanoTime();
        step++;
        INDArray noise = Nd4j.randn(DataType.FLOAT, x.shape());
        INDArray xt = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        for (int i = 0; i < batch; i++) {
            double ab = alphasCumprod[t.getInt(i)];
            xt.slice(i).assign(x.slice(i).mul(Math.sqrt(ab)).addi(noise.slice(i).mul(Math.sqrt(1 - ab))));
        }
        java.util.Map<String, Long> profile = new java.util.HashMap<>();
        TapeOps ops = new TapeOps(model.parameters(), grads).training(true).dropoutSeed(step)
                .profile(profile).memoryBudget(memoryBudget).convPrecision(precision);
        if (recompute) {
            ops.recompute(name -> true);
        }
        Tensor out = model.forward(ops, UNetInputs.of(ops.input(xt, false), ops.input(t, false),
                ops.input(tokens, false), ops.input(mask, false)));
        Tensor diff = ops.sub(ops.slice(out, 1, 0, 3), ops.input(noise, false));
        Tensor loss = ops.mean(ops.square(diff), false);
        double l = loss.value().getDouble(0);
        long activations = ops.tapeBytes();
        if (step == 1) {
            StringBuilder b = new StringBuilder("activations by op (MB):");
            ops.tapeBytesByOp().entrySet().stream().sorted((a, c) -> Long.compare(c.getValue(), a.getValue()))
                    .forEach(e -> b.append(String.format(Locale.ROOT, " %s %.0f", e.getKey(), e.getValue() / 1e6)));
            System.err.println(b);
        }
        long t1 = System.nanoTime();
        ops.backward(loss);
        long t2 = System.nanoTime();
        adam.step(grads.asMap());
        grads.zero();
        long t3 = System.nanoTime();
        StringBuilder p = new StringBuilder(String.format(Locale.ROOT, "activations %.0f MB, pooled %.0f MB; by op (s):",
                activations / 1e6, ArrayPool.bytes() / 1e6));
        profile.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(24)
                .forEach(e -> p.append(String.format(Locale.ROOT, " %s %.3f", e.getKey(), e.getValue() / 1e9)));
        System.err.println(p);
        return new double[] {(t3 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, l};
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !args[0].equals("train")) {
            System.err.println("usage: TrainStepWorker train [--config small32] [--batch 16] [--recompute none|all]"
                    + " [--lr 1e-4] [--memory-budget-mb 1024] [--precision fp32|winograd|bf16]");
            System.exit(2);
        }
        GlideBackend.init();
        String config = "small32";
        int batch = 16;
        boolean recompute = false;
        double lr = 1e-4;
        long budgetMb = 1024;
        Precision precision = Precision.FP32;
        for (int i = 1; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--config" -> config = v;
                case "--batch" -> batch = Integer.parseInt(v);
                case "--recompute" -> recompute = "all".equals(v);
                case "--lr" -> lr = Double.parseDouble(v);
                case "--memory-budget-mb" -> budgetMb = Long.parseLong(v);
                case "--precision" -> precision = Precision.parse(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --config, --batch, --recompute, --lr, --memory-budget-mb, --precision)");
            }
            i++;
        }
        if (!config.equals("small32")) {
            throw new IllegalArgumentException("--config: only small32 is supported, got " + config);
        }
        if (batch <= 0) {
            throw new IllegalArgumentException("--batch must be positive, got " + batch);
        }
        if (budgetMb <= 0) {
            throw new IllegalArgumentException("--memory-budget-mb must be positive, got " + budgetMb);
        }
        TrainStepWorker w = new TrainStepWorker(small32(), batch, recompute, lr, budgetMb << 20, precision);
        WorkerProtocol.serve(String.format(Locale.ROOT, "params %.2fM batch %d recompute %s precision %s",
                w.model.parameters().numParameters() / 1e6, batch, recompute ? "all" : "none", precision), () -> {
                    double[] r = w.run();
                    return String.format(Locale.ROOT, "fwd %.4f bwd %.4f opt %.4f loss %.5f", r[1], r[2], r[3], r[4]);
                });
    }
}
