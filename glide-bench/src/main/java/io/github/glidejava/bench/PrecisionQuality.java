package io.github.glidejava.bench;

import java.io.IOException;
import java.util.List;
import java.util.Locale;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;

/**
 * What the opt-in precisions do to final images: the same prompts and seeds sampled with {@link Precision#FP32} and
 * with each other precision, compared as 8-bit pictures (largest and mean pixel difference, PSNR), and the time per
 * image of each. On the embedded model, or on the full-size base model with random weights ({@code --random-base}).
 *
 * <pre>
 * java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.PrecisionQuality [--random-base]
 *      [--steps ddim25] [--seeds 4]
 * </pre>
 */
public final class PrecisionQuality {
    private static final List<String> PROMPTS = List.of("red apple", "blue heart", "dog face", "smiling face with"
            + " sunglasses");

    private PrecisionQuality() {
    }

    public static void main(String[] args) throws IOException {
        GlideBackend.init();
        boolean randomBase = false;
        String steps = "ddim25";
        int seeds = 4;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--random-base" -> randomBase = true;
                case "--steps" -> steps = args[++i];
                case "--seeds" -> seeds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --random-base, --steps, --seeds)");
            }
        }
        GlidePipeline.Builder b = GlidePipeline.builder();
        if (randomBase) {
            Text2ImUNet unet = Text2ImUNet.create(GlideModelConfig.preset("base"));
            unet.setParameters(RandomWeights.of(unet.parameterSpecs(), 0));
            b.base(GlideModel.of(unet, "random-base")).withoutUpsampler().tokenizer(BpeTokenizer.glide());
        } else {
            b.embeddedModel();
        }
        b.sampler(SamplerType.DDIM).steps(steps);
        System.out.println("machine: " + MachineInfo.describe());
        System.out.printf(Locale.ROOT, "model: %s, %s steps, %d prompts x %d seeds%n",
                randomBase ? "base (random weights)" : "embedded", steps, PROMPTS.size(), seeds);
        INDArray[][] ref = null;
        for (Precision p : Precision.values()) {
            GlidePipeline pipeline = b.precision(p).build();
            INDArray[][] images = new INDArray[PROMPTS.size()][seeds];
            long t0 = System.nanoTime();
            for (int i = 0; i < PROMPTS.size(); i++) {
                for (int s = 0; s < seeds; s++) {
                    images[i][s] = pipeline.sample(PROMPTS.get(i), 1000 + s).samples();
                }
            }
            double perImage = (System.nanoTime() - t0) / 1e9 / (PROMPTS.size() * seeds);
            if (ref == null) {
                ref = images;
                System.out.printf(Locale.ROOT, "%-9s %6.2f s/image%n", p, perImage);
                continue;
            }
            double max = 0, sum = 0, sq = 0;
            long n = 0;
            for (int i = 0; i < PROMPTS.size(); i++) {
                for (int s = 0; s < seeds; s++) {
                    float[] a = pixels(ref[i][s]);
                    float[] c = pixels(images[i][s]);
                    for (int k = 0; k < a.length; k++) {
                        double d = Math.abs(a[k] - c[k]);
                        max = Math.max(max, d);
                        sum += d;
                        sq += d * d;
                    }
                    n += a.length;
                }
            }
            double mse = sq / n;
            System.out.printf(Locale.ROOT, "%-9s %6.2f s/image; against fp32: max |diff| %.0f, mean |diff| %.3f"
                    + " (8-bit levels), PSNR %s dB%n", p, perImage, max, sum / n,
                    mse == 0 ? "inf" : String.format(Locale.ROOT, "%.1f", 10 * Math.log10(255.0 * 255.0 / mse)));
        }
    }

    /** The sample as the 8-bit levels the PNG writer stores. */
    private static float[] pixels(INDArray sample) {
        float[] v = sample.dup().data().asFloat();
        for (int i = 0; i < v.length; i++) {
            v[i] = ImageTensors.toByte(v[i]);
        }
        return v;
    }
}
