package io.github.glidejava.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.core.text.TokenBatch;
import io.github.glidejava.diffusion.ClipGuidance;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.GradientFunction;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.sampling.DdpmSampler;
import io.github.glidejava.diffusion.sampling.SamplerOptions;
import io.github.glidejava.diffusion.sampling.StepOutput;
import io.github.glidejava.nn.clip.ClipConfig;
import io.github.glidejava.nn.clip.ClipModel;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * The Java side of {@code glide-bench/scripts/torch_clip_worker.py} (issue 12's speed figure): one base-model DDPM
 * step per {@code run}, unguided or CLIP-guided, through the project's own sampler and {@link ClipGuidance}: the
 * model is called as {@link io.github.glidejava.diffusion.sampling.SamplingLoop} calls it
 * ({@link GaussianDiffusion#callModel} with the original timestep), then {@link DdpmSampler#step}, whose
 * {@code condFn} (the clip_guided notebook's {@code cond_fn}) adds {@code variance * grad} to the mean
 * (condition_mean), the gradient of the CLIP score taken at the un-respaced timestep with the eager tape.
 *
 * <p>Shapes as the PyTorch worker: the base preset (64x64, batch 1, respacing "100", step at respaced t = 50), the
 * GPT-2 tokens of a fixed prompt, no classifier-free guidance; {@code clip}: a noised CLIP of config.yaml's size
 * ({@link ClipConfig#released()}), guidance scale 3. Weights are random ({@link RandomWeights} for the U-Net,
 * {@link ClipModel#initialise} for CLIP). The text transformer runs at every step as in PyTorch's
 * {@code p_sample} (the pipeline encodes the prompt once per sample; that saving is not counted here); the CLIP
 * text embedding is computed once, when the guidance is made, on both sides.
 *
 * <pre>
 * java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.ClipStepWorker unguided|clip \
 *      [--t 50] [--respacing 100] [--scale 3] [--tiny] [--clip-config FILE]
 * </pre>
 *
 * {@code --tiny}: a 16x16 U-Net (32 channels, mult 1,2, 1 res block, attention at 8, text 32 x 1 layer) and the
 * fixture CLIP config ({@code --clip-config}, default {@code ../shared/glide-ref/clip/config_tiny.json}), to check
 * the protocol in seconds. Protocol: {@code READY}, {@code run} -> {@code T <seconds> ...}, {@code rss},
 * {@code quit}.
 */
public final class ClipStepWorker {
    static final String PROMPT = "an oil painting of a corgi wearing a red hat";

    private final Text2ImUNet unet;
    private final ClipModel clip;
    private final DdpmSampler sampler;
    private final DiffusionModel model;
    private final int stepIndex;
    private final INDArray x;
    private final SeededNoise noise = new SeededNoise(2);
    private double lastGrad = Double.NaN;

    ClipStepWorker(GlideModelConfig config, ClipConfig clipConfig, int t, String respacing, double scale) {
        unet = Text2ImUNet.create(config);
        unet.setParameters(RandomWeights.of(unet.parameterSpecs(), 0));
        GaussianDiffusion diffusion = GlideModel.of(unet, "random-base").diffusion().respaced(respacing);
        TokenBatch tokens = TokenBatch.of(List.of(BpeTokenizer.glide().encodePadded(PROMPT, config.textCtx())));
        model = (xt, ts) -> unet.forward(UNetInputs.of(xt, ts, tokens.tokens(), tokens.mask()));
        SamplerOptions.Builder options = SamplerOptions.builder().clipDenoised(true);
        if (clipConfig != null) {
            if (clipConfig.imageSize() != config.imageSize()) {
                throw new IllegalArgumentException("CLIP image_size " + clipConfig.imageSize() + " != the U-Net's "
                        + config.imageSize());
            }
            clip = ClipModel.initialise(clipConfig, 1);
            ClipGuidance guidance = ClipGuidance.of(clip, List.of(PROMPT), scale);
            GradientFunction recorded = (xt, ts) -> {
                INDArray g = guidance.gradient(xt, ts);
                lastGrad = g.amean().getDouble(0) * g.length();   // reported so a zero or non-finite gradient shows
                return g;
            };
            options.condFn(recorded);
        } else {
            clip = null;
        }
        sampler = new DdpmSampler(diffusion, options.build());
        int idx = -1;
        int[] ts = sampler.timesteps();
        for (int i = 0; i < ts.length; i++) {
            if (ts[i] == t) {
                idx = i;
            }
        }
        if (idx < 0) {
            throw new IllegalArgumentException("--t " + t + " is not a step of respacing '" + respacing + "' (0.."
                    + (ts.length - 1) + ")");
        }
        stepIndex = idx;
        Nd4j.getRandom().setSeed(1);
        x = Nd4j.randn(DataType.FLOAT, 1, 3, config.imageSize(), config.imageSize());
    }

    static GlideModelConfig tiny() {
        return GlideModelConfig.base().toBuilder().imageSize(16).numChannels(32).channelMult("1,2").numResBlocks(1)
                .attentionResolutions("8").numHeadChannels(16).xfWidth(32).xfLayers(1).xfHeads(2).build();
    }

    /** One p_sample step; returns the details printed after the time. */
    String run() {
        GaussianDiffusion d = sampler.diffusion();
        int t = sampler.timesteps()[stepIndex];
        INDArray out = d.callModel(model, x, GaussianDiffusion.fill(t, (int) x.size(0)));
        StepOutput step = sampler.step(out, stepIndex, x, noise);
        INDArray s = step.sample();
        double sum = s.sumNumber().doubleValue();
        if (!Double.isFinite(sum)) {
            throw new IllegalStateException("sample is not finite");
        }
        String grad = clip == null ? "" : String.format(Locale.ROOT, " grad_abs=%.6g", lastGrad);
        return String.format(Locale.ROOT, "sum=%.6f abs=%.6f%s", sum, s.ameanNumber().doubleValue() * s.length(),
                grad);
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !(args[0].equals("unguided") || args[0].equals("clip"))) {
            System.err.println("usage: ClipStepWorker unguided|clip [--t 50] [--respacing 100] [--scale 3] [--tiny]"
                    + " [--clip-config FILE]");
            System.exit(2);
        }
        GlideBackend.init();
        boolean guided = args[0].equals("clip");
        int t = 50;
        String respacing = "100";
        double scale = 3.0;
        boolean tiny = false;
        Path clipConfigFile = null;
        for (int i = 1; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--t" -> t = Integer.parseInt(v);
                case "--respacing" -> respacing = v;
                case "--scale" -> scale = Double.parseDouble(v);
                case "--clip-config" -> clipConfigFile = Path.of(v);
                case "--tiny" -> {
                    tiny = true;
                    continue;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --t, --respacing, --scale, --tiny, --clip-config)");
            }
            i++;
        }
        if (tiny && clipConfigFile == null) {
            clipConfigFile = Path.of("../shared/glide-ref/clip/config_tiny.json");
        }
        GlideModelConfig config = tiny ? tiny() : GlideModelConfig.preset("base");
        ClipConfig clipConfig = !guided ? null : clipConfigFile == null ? ClipConfig.released()
                : ClipConfig.load(clipConfigFile);
        long t0 = System.nanoTime();
        ClipStepWorker w = new ClipStepWorker(config, clipConfig, t, respacing, scale);
        System.err.printf(Locale.ROOT, "U-Net %.2fM, CLIP %.2fM, built in %.1f s%n",
                w.unet.parameters().numParameters() / 1e6,
                w.clip == null ? 0.0 : (w.clip.imageParameters().numParameters()
                        + w.clip.textParameters().numParameters()) / 1e6, (System.nanoTime() - t0) / 1e9);
        WorkerProtocol.serve(String.format(Locale.ROOT, "mode=%s size=%d t=%d/%s scale=%s", args[0],
                config.imageSize(), t, respacing, guided ? scale : 0), w::run);
    }
}
