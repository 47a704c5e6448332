package io.github.glidejava.bench;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.diffusion.pipeline.PipelineStage;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;

/**
 * The Java side of {@code glide-bench/scripts/torch_sample_worker.py sample}: text to a 256x256 image through
 * {@link GlidePipeline}, base model with classifier-free guidance and then the upsampler, as GLIDE's text2im notebook
 * does it. {@code READY} comes once both checkpoints are loaded and carries the load time and the loading's peak
 * memory; one {@code run} samples {@code --batch} prompts and reports each stage's time.
 *
 * <pre>
 * java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.SampleWorker sample \
 *      [--base base.pt --upsampler upsample.pt] [--preset notebook|fast] [--batch N] [--precision fp32|winograd|bf16]
 * </pre>
 *
 * Presets: {@code notebook} is the notebook's own settings (base: DDPM over respacing "100", guidance scale 3;
 * upsampler: DDIM over "fast27", temperature 0.997); {@code fast} samples the base stage with DDIM over "ddim25".
 * Without checkpoints both models get random weights ({@link RandomWeights}) and nothing is loaded.
 */
public final class SampleWorker {
    static final String PROMPT = "an oil painting of a corgi";

    private final GlidePipeline pipeline;
    private final int batch;
    private long baseDone;

    private SampleWorker(GlideModel base, GlideModel upsampler, String preset, int batch, Precision precision)
            throws Exception {
        this.batch = batch;
        GlidePipeline.Builder b = GlidePipeline.builder().base(base).upsampler(upsampler)
                .tokenizer(BpeTokenizer.glide()).guidanceScale(3.0).upsampleSteps("fast27")
                .upsampleSampler(SamplerType.DDIM).upsampleTemperature(0.997).precision(precision)
                .progressListener((stage, step, numSteps, batchIndex, numBatches) -> {
                    if (stage == PipelineStage.BASE && step == numSteps) {
                        baseDone = System.nanoTime();
                    }
                });
        if (preset.equals("notebook")) {
            b.sampler(SamplerType.DDPM).steps("100");
        } else {
            b.sampler(SamplerType.DDIM).steps("ddim25");
        }
        pipeline = b.build();
    }

    String run() {
        long s0 = System.nanoTime();
        List<GlideResult> results = pipeline.sample(Collections.nCopies(batch, PROMPT), 0);
        long s2 = System.nanoTime();
        double sum = 0;
        for (GlideResult r : results) {
            INDArray samples = r.samples();
            sum += samples.sumNumber().doubleValue();
        }
        if (!Double.isFinite(sum)) {
            throw new IllegalStateException("sample is not finite");
        }
        return String.format(Locale.ROOT, "base=%.2f upsample=%.2f sum=%.4f", (baseDone - s0) / 1e9,
                (s2 - baseDone) / 1e9, sum);
    }

    private static GlideModel model(Path checkpoint, String preset) throws Exception {
        if (checkpoint != null) {
            return GlideModel.load(checkpoint);
        }
        Text2ImUNet unet = Text2ImUNet.create(GlideModelConfig.preset(preset));
        unet.setParameters(RandomWeights.of(unet.parameterSpecs(), 0));
        return GlideModel.of(unet, "random-" + preset);
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !args[0].equals("sample")) {
            System.err.println("usage: SampleWorker sample [--base FILE --upsampler FILE] [--preset notebook|fast]"
                    + " [--batch N] [--precision fp32|winograd|bf16]");
            System.exit(2);
        }
        GlideBackend.init();
        Path base = null, upsampler = null;
        String preset = "notebook";
        int batch = 1;
        Precision precision = Precision.FP32;
        for (int i = 1; i < args.length; i += 2) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--base" -> base = Path.of(v);
                case "--upsampler" -> upsampler = Path.of(v);
                case "--preset" -> preset = v;
                case "--batch" -> batch = Integer.parseInt(v);
                case "--precision" -> precision = Precision.parse(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --base, --upsampler, --preset, --batch, --precision)");
            }
        }
        if (!preset.equals("notebook") && !preset.equals("fast")) {
            throw new IllegalArgumentException("--preset must be notebook or fast, got " + preset);
        }
        if (batch <= 0) {
            throw new IllegalArgumentException("--batch must be positive, got " + batch);
        }
        long t0 = System.nanoTime();
        SampleWorker w = new SampleWorker(model(base, "base"), model(upsampler, "upsample"), preset, batch,
                precision);
        double load = (System.nanoTime() - t0) / 1e9;
        WorkerProtocol.serve(String.format(Locale.ROOT, "preset=%s batch=%d precision=%s load=%.1fs %s", preset,
                batch, precision, load, WorkerProtocol.memory()), w::run);
    }
}
