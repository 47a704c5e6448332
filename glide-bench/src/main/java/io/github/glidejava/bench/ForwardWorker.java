package io.github.glidejava.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.core.text.TokenBatch;
import io.github.glidejava.core.text.TokensAndMask;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * The Java side of {@code ../shared/peer/torch_worker.py forward}: one full-size U-Net forward with its text
 * transformer per {@code run}, at the PyTorch worker's shapes (base: x {@code [2, 3, 64, 64]}, t = 500; upsample: x
 * {@code [1, 3, 256, 256]} and a 64x64 low-res input, t = 100; the first half of the rows carry the corgi prompt, the
 * rest the empty one), with random weights ({@link RandomWeights}) or, with {@code --checkpoint}, a checkpoint's
 * ({@code READY} then reports the loading's peak memory).
 *
 * <pre>
 * java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.ForwardWorker forward \
 *      [--model base|upsample] [--checkpoint FILE] [--batch N] [--precision fp32|winograd|bf16]
 * </pre>
 *
 * Protocol: {@code READY}, {@code run} -> {@code T <seconds> sum=...}, {@code rss}, {@code quit}.
 */
public final class ForwardWorker {
    private final Text2ImUNet unet;
    private final UNetInputs<INDArray> inputs;
    private final Precision precision;

    ForwardWorker(GlideModelConfig config, Path checkpoint, int batch, Precision precision) throws IOException {
        this.precision = precision;
        if (checkpoint != null) {
            unet = GlideModel.load(checkpoint, config).unet();
        } else {
            unet = Text2ImUNet.create(config);
            unet.setParameters(RandomWeights.of(unet.parameterSpecs(), 0));
        }
        BpeTokenizer tokenizer = BpeTokenizer.glide();
        List<TokensAndMask> rows = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            rows.add(tokenizer.encodePadded(i < (batch + 1) / 2 ? ClipStepWorker.PROMPT : "", config.textCtx()));
        }
        TokenBatch tokens = TokenBatch.of(rows);
        // portable, so that every process gets the same inputs (and the printed sums compare)
        SeededNoise random = new SeededNoise(0);
        int size = config.imageSize();
        INDArray x = random.next(batch, 3, size, size);
        boolean upsampler = config.superRes();
        INDArray t = Nd4j.valueArrayOf(new long[] {batch}, upsampler ? 100L : 500L, DataType.INT64);
        UNetInputs<INDArray> in = UNetInputs.of(x, t, tokens.tokens(), tokens.mask());
        inputs = upsampler ? in.withLowRes(random.next(batch, 3, 64, 64)) : in;
    }

    String run() {
        INDArray out = unet.forward(inputs, precision);
        double sum = out.sumNumber().doubleValue();
        if (!Double.isFinite(sum)) {
            throw new IllegalStateException("output is not finite");
        }
        out.close();
        return String.format(Locale.ROOT, "sum=%.6f workspaces=%dMB", sum, EagerOps.workspaceBytes() >> 20);
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !args[0].equals("forward")) {
            System.err.println("usage: ForwardWorker forward [--model base|upsample] [--checkpoint FILE] [--batch N]"
                    + " [--precision fp32|winograd|bf16]");
            System.exit(2);
        }
        GlideBackend.init();
        String model = "base";
        int batch = 0;
        Precision precision = Precision.FP32;
        Path checkpoint = null;
        for (int i = 1; i < args.length; i += 2) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--model" -> model = v;
                case "--batch" -> batch = Integer.parseInt(v);
                case "--precision" -> precision = Precision.parse(v);
                case "--checkpoint" -> checkpoint = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --model, --checkpoint, --batch, --precision)");
            }
        }
        if (!model.equals("base") && !model.equals("upsample")) {
            throw new IllegalArgumentException("--model must be base or upsample, got " + model);
        }
        batch = batch > 0 ? batch : model.equals("base") ? 2 : 1;
        long t0 = System.nanoTime();
        ForwardWorker w = new ForwardWorker(GlideModelConfig.preset(model), checkpoint, batch, precision);
        System.err.printf(Locale.ROOT, "%s U-Net %.2fM parameters, built in %.1f s%n", model,
                w.unet.parameters().numParameters() / 1e6, (System.nanoTime() - t0) / 1e9);
        // the peak so far is the loading's (WorkerProtocol resets it for the work)
        WorkerProtocol.serve(String.format(Locale.ROOT, "model=%s batch=%d precision=%s %s", model, batch, precision,
                WorkerProtocol.memory()),
                w::run);
    }
}
