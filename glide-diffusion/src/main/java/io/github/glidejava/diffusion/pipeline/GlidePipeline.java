package io.github.glidejava.diffusion.pipeline;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.image.InpaintMasks;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.core.text.TokenBatch;
import io.github.glidejava.core.text.TokensAndMask;
import io.github.glidejava.diffusion.ClassifierFreeGuidance;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.download.GlideAsset;
import io.github.glidejava.diffusion.download.GlideCache;
import io.github.glidejava.diffusion.sampling.Sampler;
import io.github.glidejava.diffusion.sampling.SamplerOptions;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.diffusion.sampling.SamplingLoop;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.TextEncoder;
import io.github.glidejava.nn.unet.UNetInputs;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * GLIDE end to end: prompt -> 64x64 base model with classifier-free guidance -> text-conditional 256x256
 * upsampler, as glide-text2im's notebooks do it; inpainting with the inpainting models; upsampling of a given image.
 *
 * <pre>{@code
 * GlidePipeline glide = GlidePipeline.builder()          // base.pt, upsample.pt, encoder.json, vocab.bpe
 *         .checkpointDir(Path.of("/models/glide"))       //   from here (default: ~/.cache/glide-java)
 *         .seed(42)
 *         .build();
 * GlideResult result = glide.sample("an oil painting of a corgi");
 * result.writePng(0, Path.of("corgi.png"));              // PNG with prompt, seed, sampler, ... as text
 * }</pre>
 *
 * <p>Defaults are GLIDE's: base sampler DDPM with respacing "100", guidance scale 3.0; upsampler DDIM with
 * "fast27" and noise temperature 0.997 (the inpainting notebook samples its upsampler with DDPM, so
 * {@link #inpaint} does too unless an upsampling sampler is set).
 *
 * <p>Thread safety: a pipeline is immutable and its calls keep all state (noise, sampler) to themselves, so one
 * loaded pipeline may serve concurrent calls; each call gives exactly what it gives when run alone. Listeners are
 * called on the calling thread.
 */
public final class GlidePipeline {
    static {
        GlideBackend.init();
    }

    /** glide-text2im's text-to-image notebook values. */
    public static final String DEFAULT_STEPS = "100";
    public static final String DEFAULT_UPSAMPLE_STEPS = "fast27";
    public static final double DEFAULT_GUIDANCE_SCALE = 3.0;
    public static final double DEFAULT_UPSAMPLE_TEMPERATURE = 0.997;

    private final GlideModel base;
    private final GlideModel upsampler;
    private final BpeTokenizer tokenizer;
    private final SamplerType sampler;
    private final String steps;
    private final SamplerType upsampleSampler;
    private final String upsampleSteps;
    private final double guidanceScale;
    private final double upsampleTemperature;
    private final Long seed;
    private final int imagesPerPrompt;
    private final int batchSize;
    private final InpaintMasks.Source maskSource;
    private final ProgressListener progress;
    private final PipelineStepCallback stepCallback;
    private final Builder settings;

    private GlidePipeline(Builder b, GlideModel base, GlideModel upsampler, BpeTokenizer tokenizer) {
        this.base = base;
        this.upsampler = upsampler;
        this.tokenizer = tokenizer;
        this.sampler = b.sampler;
        this.steps = b.steps;
        this.upsampleSampler = b.upsampleSampler;
        this.upsampleSteps = b.upsampleSteps;
        this.guidanceScale = b.guidanceScale;
        this.upsampleTemperature = b.upsampleTemperature;
        this.seed = b.seed;
        this.imagesPerPrompt = b.imagesPerPrompt;
        this.batchSize = b.batchSize != null ? Math.min(b.batchSize, b.imagesPerPrompt) : b.imagesPerPrompt;
        this.maskSource = b.maskSource;
        this.progress = b.progress;
        this.stepCallback = b.stepCallback;
        this.settings = b.copy();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder with this pipeline's settings and its loaded models and tokenizer (nothing is loaded again). */
    public Builder toBuilder() {
        Builder b = settings.copy();
        b.baseModel = base;
        b.basePath = null;
        b.withoutBase = base == null;
        b.upsamplerModel = upsampler;
        b.upsamplerPath = null;
        b.withoutUpsampler = upsampler == null;
        b.tokenizer = tokenizer;
        b.tokenizerDir = null;
        return b;
    }

    /** The base model, or null for an upsampling-only pipeline. */
    public GlideModel base() {
        return base;
    }

    /** The upsampler, or null when the pipeline stops at the base resolution. */
    public GlideModel upsampler() {
        return upsampler;
    }

    public BpeTokenizer tokenizer() {
        return tokenizer;
    }

    // ---- text to image ------------------------------------------------------------------------------------------

    /** Text to image with the configured seed (a random one, recorded in the result, when none is set). */
    public GlideResult sample(String prompt) {
        return sample(prompt, nextSeed());
    }

    /** Text to image: base model with classifier-free guidance, then the upsampler when there is one. */
    public GlideResult sample(String prompt, long seed) {
        return sample(prompt, seed, new SeededNoise(seed));
    }

    /** {@link #sample(String, long)} drawing from {@code noise} (tests replay recorded reference noise). */
    GlideResult sample(String prompt, long seed, NoiseSource noise) {
        Objects.requireNonNull(prompt, "prompt");
        GlideModel b = requireBase(GlideModelKind.BASE, "sample(prompt) (glide sample)",
                "inpainting models need inpaint(image, mask, prompt) (glide inpaint)");
        SamplerType upSampler = upsampleSampler != null ? upsampleSampler : SamplerType.DDIM;
        List<INDArray> finals = new ArrayList<>();
        List<INDArray> bases = new ArrayList<>();
        int numBatches = numBatches();
        for (int batch = 0; batch < numBatches; batch++) {
            int n = batchRows(batch);
            INDArray low = sampleBase(b, prompt, n, null, null, noise, batch, numBatches);
            bases.add(low);
            finals.add(upsampler == null ? low
                    : sampleUpsample(upSampler, prompt, low, null, null, noise, batch, numBatches));
        }
        return result("text-to-image", prompt, seed, b, upsampler, upSampler, finals, bases);
    }

    // ---- inpainting ---------------------------------------------------------------------------------------------

    /**
     * Inpainting with a mask picture of the image's size; by default (as in diffusers) white mask pixels are
     * repainted and black ones kept ({@link Builder#maskSource} changes the convention).
     */
    public GlideResult inpaint(BufferedImage image, BufferedImage mask, String prompt) {
        return inpaint(image, mask, prompt, nextSeed());
    }

    public GlideResult inpaint(BufferedImage image, BufferedImage mask, String prompt, long seed) {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(mask, "mask");
        if (image.getWidth() != mask.getWidth() || image.getHeight() != mask.getHeight()) {
            throw new IllegalArgumentException("the mask is " + mask.getWidth() + "x" + mask.getHeight()
                    + " but the image is " + image.getWidth() + "x" + image.getHeight()
                    + "; give a mask of the image's size");
        }
        GlideModel b = requireBase(GlideModelKind.BASE_INPAINT, "inpaint(image, mask, prompt) (glide inpaint)",
                "text-to-image models need sample(prompt) (glide sample)");
        int s = b.imageSize();
        INDArray keep = InpaintMasks.fromImages(List.of(mask), s, s, maskSource, InpaintMasks.DEFAULT_THRESHOLD);
        return inpaintAtBaseSize(b, image, keep, prompt, seed, new SeededNoise(seed));
    }

    /**
     * Inpainting with GLIDE's mask tensor: {@code keepMask} [1, 1, h, w] (or [h, w]) holds 1 where the image is
     * kept and 0 where it is generated, at the base model's resolution (64x64 for GLIDE) or the image's; it is
     * resized with nearest-neighbour sampling.
     */
    public GlideResult inpaint(BufferedImage image, INDArray keepMask, String prompt, long seed) {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(keepMask, "keepMask");
        GlideModel b = requireBase(GlideModelKind.BASE_INPAINT, "inpaint(image, mask, prompt) (glide inpaint)",
                "text-to-image models need sample(prompt) (glide sample)");
        int s = b.imageSize();
        long[] shape = keepMask.shape();
        boolean rank2 = shape.length == 2;
        boolean rank4 = shape.length == 4 && shape[0] == 1 && shape[1] == 1;
        long h = rank2 ? shape[0] : rank4 ? shape[2] : -1;
        long w = rank2 ? shape[1] : rank4 ? shape[3] : -1;
        boolean sizeOk = (h == s && w == s) || (h == image.getHeight() && w == image.getWidth());
        if (!(rank2 || rank4) || !sizeOk) {
            throw new IllegalArgumentException("the inpainting mask must be [1, 1, H, W] or [H, W] with H x W = "
                    + s + "x" + s + " (the base model's size) or " + image.getWidth() + "x" + image.getHeight()
                    + " (the image's), got " + java.util.Arrays.toString(shape));
        }
        INDArray m = keepMask.castTo(DataType.FLOAT).reshape(1, 1, h, w);
        return inpaintAtBaseSize(b, image, nearest(m, s, s), prompt, seed, new SeededNoise(seed));
    }

    private GlideResult inpaintAtBaseSize(GlideModel b, BufferedImage image, INDArray keep, String prompt, long seed,
                                          NoiseSource noise) {
        Objects.requireNonNull(prompt, "prompt");
        int s = b.imageSize();
        SamplerType upSampler = upsampleSampler != null ? upsampleSampler : SamplerType.DDPM;
        INDArray image64 = ImageTensors.fromImage(image, s, s);
        INDArray imageUp = null;
        INDArray keepUp = null;
        if (upsampler != null) {
            int u = upsampler.imageSize();
            imageUp = ImageTensors.fromImage(image, u, u);
            keepUp = nearest(keep, u, u); // the notebook: F.interpolate(mask_64, (256, 256), mode="nearest")
        }
        List<INDArray> finals = new ArrayList<>();
        List<INDArray> bases = new ArrayList<>();
        int numBatches = numBatches();
        for (int batch = 0; batch < numBatches; batch++) {
            int n = batchRows(batch);
            INDArray low = sampleBase(b, prompt, n, image64, keep, noise, batch, numBatches);
            bases.add(low);
            finals.add(upsampler == null ? low
                    : sampleUpsample(upSampler, prompt, low, imageUp, keepUp, noise, batch, numBatches));
        }
        return result("inpaint", prompt, seed, b, upsampler, upSampler, finals, bases);
    }

    // ---- upsampling ---------------------------------------------------------------------------------------------

    /** Upsamples an image (resized to the base resolution first, as the base stage would produce it). */
    public GlideResult upsample(BufferedImage image, String prompt) {
        return upsample(image, prompt, nextSeed());
    }

    public GlideResult upsample(BufferedImage image, String prompt, long seed) {
        return upsample(image, prompt, seed, new SeededNoise(seed));
    }

    GlideResult upsample(BufferedImage image, String prompt, long seed, NoiseSource noise) {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(prompt, "prompt");
        if (upsampler == null) {
            throw new IllegalStateException("upsample(image, prompt) needs an upsampler; this pipeline was built"
                    + " without one (drop withoutUpsampler(), or give upsampler(checkpoint))");
        }
        int s = lowResSize();
        return upsampleLowRes(ImageTensors.fromImage(image, s, s), prompt, seed, noise);
    }

    /**
     * Upsamples low-resolution images given as a tensor [1 or imagesPerPrompt, 3, h, w] in [-1, 1], at their own
     * size (the U-Net resizes low_res to its own size bilinearly), e.g. a reference run's recorded low_res.
     */
    GlideResult upsampleLowRes(INDArray low, String prompt, long seed, NoiseSource noise) {
        Objects.requireNonNull(low, "low");
        Objects.requireNonNull(prompt, "prompt");
        if (upsampler == null) {
            throw new IllegalStateException("upsampling needs an upsampler; this pipeline was built without one");
        }
        long[] shape = low.shape();
        if (shape.length != 4 || shape[1] != 3 || (shape[0] != 1 && shape[0] != imagesPerPrompt)) {
            throw new IllegalArgumentException("low-resolution images must be [1 or " + imagesPerPrompt
                    + " (imagesPerPrompt), 3, h, w], got " + java.util.Arrays.toString(shape));
        }
        SamplerType upSampler = upsampleSampler != null ? upsampleSampler : SamplerType.DDIM;
        List<INDArray> finals = new ArrayList<>();
        List<INDArray> lows = new ArrayList<>();
        int numBatches = numBatches();
        for (int batch = 0; batch < numBatches; batch++) {
            int n = batchRows(batch);
            long from = (long) batch * batchSize;
            INDArray rows = shape[0] == 1 ? low.repeat(0, n)
                    : low.get(NDArrayIndex.interval(from, from + n), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.all()).dup();
            lows.add(rows);
            finals.add(sampleUpsample(upSampler, prompt, rows, null, null, noise, batch, numBatches));
        }
        return result("upsample", prompt, seed, null, upsampler, upSampler, finals, lows);
    }

    /** The size images are brought to before upsampling: the base model's, else a quarter of the upsampler's. */
    private int lowResSize() {
        return base != null ? base.imageSize() : Math.max(1, upsampler.imageSize() / 4);
    }

    // ---- the two stages -----------------------------------------------------------------------------------------

    /**
     * The base stage, as the notebooks: 2n rows [prompt x n | "" x n], the model sees the first half twice (classifier
     * -free guidance), x_T ~ N(0, I) for all 2n rows, clipped x_0; for inpainting the known region is re-imposed on
     * every x_0 prediction (the notebook's denoised_fn). Returns the n conditional rows.
     */
    private INDArray sampleBase(GlideModel b, String prompt, int n, INDArray image, INDArray keep, NoiseSource noise,
                                int batch, int numBatches) {
        GlideModelConfig c = b.config();
        List<TokensAndMask> rows = new ArrayList<>(2 * n);
        TokensAndMask cond = tokenizer.encodePadded(prompt, c.textCtx());
        TokensAndMask uncond = tokenizer.encodePadded("", c.textCtx());
        rows.addAll(Collections.nCopies(n, cond));
        rows.addAll(Collections.nCopies(n, uncond));
        TokenBatch tokens = TokenBatch.of(rows);
        UnaryOperator<INDArray> denoised = null;
        INDArray inpaintImage = null;
        INDArray inpaintMask = null;
        if (keep != null) {
            inpaintMask = keep.repeat(0, 2L * n);
            inpaintImage = image.mul(Nd4j.concat(1, keep, keep, keep)).repeat(0, 2L * n);
            denoised = knownRegion(inpaintImage, inpaintMask);
        }
        INDArray img = inpaintImage;
        INDArray msk = inpaintMask;
        TextEncoder.Output<INDArray> text = encodeText(b, tokens); // the prompt is the same at every step
        DiffusionModel model = (x, t) -> {
            UNetInputs<INDArray> in = UNetInputs.of(x, t, tokens.tokens(), tokens.mask());
            return forward(b, img == null ? in : in.withInpaint(img, msk), text);
        };
        int s = b.imageSize();
        INDArray xT = noise.next(2L * n, 3, s, s);
        INDArray out = runStage(PipelineStage.BASE, b, sampler, steps, ClassifierFreeGuidance.wrap(model, guidanceScale),
                xT, noise, denoised, batch, numBatches);
        return out.get(NDArrayIndex.interval(0, n), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup();
    }

    /**
     * The upsampling stage: low_res quantised to 8 bits ({@code ((s + 1) * 127.5).round() / 127.5 - 1}), x_T =
     * temperature * N(0, I), no guidance; for inpainting the known 256x256 region is re-imposed on every x_0.
     */
    private INDArray sampleUpsample(SamplerType type, String prompt, INDArray low, INDArray image, INDArray keep,
                                    NoiseSource noise, int batch, int numBatches) {
        GlideModel u = upsampler;
        int n = (int) low.size(0);
        TokenBatch tokens = TokenBatch.of(Collections.nCopies(n,
                tokenizer.encodePadded(prompt, u.config().textCtx())));
        INDArray lowRes = ImageTensors.quantize(low);
        UnaryOperator<INDArray> denoised = null;
        INDArray inpaintImage = null;
        INDArray inpaintMask = null;
        if (keep != null) {
            inpaintMask = keep.repeat(0, n);
            inpaintImage = image.mul(Nd4j.concat(1, keep, keep, keep)).repeat(0, n);
            denoised = knownRegion(inpaintImage, inpaintMask);
        }
        INDArray img = inpaintImage;
        INDArray msk = inpaintMask;
        TextEncoder.Output<INDArray> text = encodeText(u, tokens);
        DiffusionModel model = (x, t) -> {
            UNetInputs<INDArray> in = UNetInputs.of(x, t, tokens.tokens(), tokens.mask()).withLowRes(lowRes);
            return forward(u, img == null ? in : in.withInpaint(img, msk), text);
        };
        int s = u.imageSize();
        INDArray xT = noise.next(n, 3, s, s).mul(upsampleTemperature);
        return runStage(PipelineStage.UPSAMPLE, u, type, upsampleSteps, model, xT, noise, denoised, batch,
                numBatches);
    }

    /** The text encoder's output for the stage's tokens, or null for a model without text conditioning. */
    private static TextEncoder.Output<INDArray> encodeText(GlideModel m, TokenBatch tokens) {
        return m.config().xfWidth() > 0 ? m.unet().encodeText(tokens.tokens(), tokens.mask()) : null;
    }

    private static INDArray forward(GlideModel m, UNetInputs<INDArray> in, TextEncoder.Output<INDArray> text) {
        return text == null ? m.unet().forward(in) : m.unet().forward(in, text);
    }

    /** The notebook's denoised_fn: {@code x0 * (1 - mask) + inpaint_image * mask}, per channel. */
    private static UnaryOperator<INDArray> knownRegion(INDArray maskedImage, INDArray keep) {
        INDArray keep3 = Nd4j.concat(1, keep, keep, keep);
        INDArray drop3 = keep3.rsub(1.0);
        INDArray known = maskedImage.mul(keep3);
        return x0 -> x0.mul(drop3).addi(known);
    }

    private INDArray runStage(PipelineStage stage, GlideModel m, SamplerType type, String respacing,
                              DiffusionModel model, INDArray xT, NoiseSource noise, UnaryOperator<INDArray> denoised,
                              int batch, int numBatches) {
        GaussianDiffusion d = respaced(m, respacing, stage);
        SamplerOptions.Builder options = SamplerOptions.builder().clipDenoised(true);
        if (denoised != null) {
            options.denoisedFn(denoised);
        }
        Sampler s = type.create(d, options.build());
        return SamplingLoop.sample(s, model, xT, noise, info -> {
            progress.onStep(stage, info.stepIndex() + 1, info.numSteps(), batch, numBatches);
            return stepCallback == null || stepCallback.onStep(stage, batch, info);
        }, null);
    }

    private static GaussianDiffusion respaced(GlideModel m, String respacing, PipelineStage stage) {
        try {
            GaussianDiffusion d = m.diffusion().respaced(respacing);
            if (d.numTimesteps() < 1) {
                throw new IllegalArgumentException("it keeps no timestep");
            }
            return d;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException((stage == PipelineStage.BASE ? "steps" : "upsampleSteps") + " '"
                    + respacing + "' is not a valid timestep respacing for " + m.name() + "'s "
                    + m.diffusion().numTimesteps() + "-step process: " + e.getMessage()
                    + ". Use a step count such as \"100\", \"ddim50\" or \"fast27\".", e);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private GlideModel requireBase(GlideModelKind kind, String call, String hint) {
        if (base == null) {
            throw new IllegalStateException(call + " needs a base model; this pipeline was built without one");
        }
        if (base.kind() != kind) {
            throw new IllegalStateException(call + " needs " + kind.withArticle() + " model as its base model, but"
                    + " this pipeline's base model " + base.name() + " is " + base.kind().withArticle() + " model: "
                    + hint);
        }
        return base;
    }

    private int numBatches() {
        return (imagesPerPrompt + batchSize - 1) / batchSize;
    }

    private int batchRows(int batch) {
        return Math.min(batchSize, imagesPerPrompt - batch * batchSize);
    }

    private long nextSeed() {
        return seed != null ? seed : ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
    }

    private GlideResult result(String task, String prompt, long seed, GlideModel b, GlideModel up,
                               SamplerType upSampler, List<INDArray> finals, List<INDArray> bases) {
        INDArray samples = finals.size() == 1 ? finals.get(0) : Nd4j.concat(0, finals.toArray(new INDArray[0]));
        INDArray baseSamples = bases.size() == 1 ? bases.get(0) : Nd4j.concat(0, bases.toArray(new INDArray[0]));
        GenerationParameters p = new GenerationParameters(task, prompt, seed,
                b == null ? null : b.name(), b == null ? null : sampler.configName(), b == null ? null : steps,
                b == null ? 0 : guidanceScale,
                up == null ? null : up.name(), up == null ? null : upSampler.configName(),
                up == null ? null : upsampleSteps, up == null ? 0 : upsampleTemperature,
                imagesPerPrompt, batchSize, (int) samples.size(3), (int) samples.size(2));
        return new GlideResult(samples, baseSamples, p);
    }

    /** Nearest-neighbour resize of [N, C, h, w] as torch's F.interpolate(mode="nearest"): src = floor(dst * in / out). */
    static INDArray nearest(INDArray x, int height, int width) {
        long[] s = x.shape();
        if (s[2] == height && s[3] == width) {
            return x.dup();
        }
        int n = (int) s[0];
        int c = (int) s[1];
        int h = (int) s[2];
        int w = (int) s[3];
        float[] in = x.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] out = new float[n * c * height * width];
        float sy = (float) h / height;
        float sx = (float) w / width;
        for (int p = 0; p < n * c; p++) {
            for (int y = 0; y < height; y++) {
                int iy = Math.min((int) Math.floor(y * sy), h - 1);
                for (int xx = 0; xx < width; xx++) {
                    int ix = Math.min((int) Math.floor(xx * sx), w - 1);
                    out[(p * height + y) * width + xx] = in[(p * h + iy) * w + ix];
                }
            }
        }
        return Nd4j.create(out, new long[]{n, c, height, width}, 'c');
    }

    // ---- builder ------------------------------------------------------------------------------------------------

    /**
     * Configures a pipeline; {@link #build()} validates everything, then loads the models and the tokenizer.
     *
     * <p>Models: by default GLIDE's released checkpoints from {@link #checkpointDir} by their published names
     * ({@code base.pt} and {@code upsample.pt}, or {@code base_inpaint.pt} and {@code upsample_inpaint.pt} with
     * {@link #inpainting}), configured by the matching preset. {@link #base(Path)} / {@link #upsampler(Path)} take
     * other files (their configuration from the file's metadata or its kind's preset), {@code base(Path,
     * GlideModelConfig)} any architecture, {@link #base(GlideModel)} an already loaded model.
     */
    public static final class Builder {
        private Path checkpointDir;
        private boolean inpainting;
        private Path basePath;
        private GlideModelConfig baseConfig;
        private GlideModel baseModel;
        private boolean withoutBase;
        private Path upsamplerPath;
        private GlideModelConfig upsamplerConfig;
        private GlideModel upsamplerModel;
        private boolean withoutUpsampler;
        private BpeTokenizer tokenizer;
        private Path tokenizerDir;
        private SamplerType sampler = SamplerType.DDPM;
        private String steps = DEFAULT_STEPS;
        private SamplerType upsampleSampler;
        private String upsampleSteps = DEFAULT_UPSAMPLE_STEPS;
        private double guidanceScale = DEFAULT_GUIDANCE_SCALE;
        private double upsampleTemperature = DEFAULT_UPSAMPLE_TEMPERATURE;
        private Long seed;
        private int imagesPerPrompt = 1;
        private Integer batchSize;
        private InpaintMasks.Source maskSource = InpaintMasks.Source.LUMA_BLACK_KEEPS;
        private ProgressListener progress = ProgressListener.NONE;
        private PipelineStepCallback stepCallback;

        private Builder() {
        }

        /**
         * Directory holding the released checkpoints and tokenizer files under their published names (what
         * {@code glide download} fills); default {@link GlideCache#defaultDir()}.
         */
        public Builder checkpointDir(Path dir) {
            this.checkpointDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** Use the inpainting checkpoints ({@code base_inpaint.pt}, {@code upsample_inpaint.pt}) by default. */
        public Builder inpainting(boolean inpainting) {
            this.inpainting = inpainting;
            return this;
        }

        /** The base model's checkpoint (.pt or .safetensors). */
        public Builder base(Path checkpoint) {
            return base(checkpoint, null);
        }

        /** The base model's checkpoint with its create_model options (null: from the file or the preset). */
        public Builder base(Path checkpoint, GlideModelConfig config) {
            this.basePath = Objects.requireNonNull(checkpoint, "checkpoint");
            this.baseConfig = config;
            this.baseModel = null;
            this.withoutBase = false;
            return this;
        }

        /** An already loaded base model (shared, not copied). */
        public Builder base(GlideModel model) {
            this.baseModel = Objects.requireNonNull(model, "model");
            this.basePath = null;
            this.withoutBase = false;
            return this;
        }

        /** No base model: the pipeline only upsamples ({@link GlidePipeline#upsample}). */
        public Builder withoutBase() {
            this.withoutBase = true;
            this.baseModel = null;
            this.basePath = null;
            return this;
        }

        public Builder upsampler(Path checkpoint) {
            return upsampler(checkpoint, null);
        }

        public Builder upsampler(Path checkpoint, GlideModelConfig config) {
            this.upsamplerPath = Objects.requireNonNull(checkpoint, "checkpoint");
            this.upsamplerConfig = config;
            this.upsamplerModel = null;
            this.withoutUpsampler = false;
            return this;
        }

        public Builder upsampler(GlideModel model) {
            this.upsamplerModel = Objects.requireNonNull(model, "model");
            this.upsamplerPath = null;
            this.withoutUpsampler = false;
            return this;
        }

        /** Stop at the base model's resolution (64x64 for GLIDE). */
        public Builder withoutUpsampler() {
            this.withoutUpsampler = true;
            this.upsamplerModel = null;
            this.upsamplerPath = null;
            return this;
        }

        public Builder tokenizer(BpeTokenizer tokenizer) {
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
            this.tokenizerDir = null;
            return this;
        }

        /**
         * Directory with {@code encoder.json} and {@code vocab.bpe} (or their .gz). Default: the checkpoint directory
         * when it holds them, else the GLIDE tokenizer bundled with glide-java ({@link BpeTokenizer#glide()}).
         */
        public Builder tokenizerDir(Path dir) {
            this.tokenizerDir = Objects.requireNonNull(dir, "dir");
            this.tokenizer = null;
            return this;
        }

        /** Base-stage sampler; default DDPM. */
        public Builder sampler(SamplerType sampler) {
            this.sampler = Objects.requireNonNull(sampler, "sampler");
            return this;
        }

        /** Base-stage timestep respacing: "100" (default), "50", "ddim25", "fast27", "10,10,5"... */
        public Builder steps(String respacing) {
            this.steps = Objects.requireNonNull(respacing, "respacing");
            return this;
        }

        /** Base-stage step count (>= 1). */
        public Builder steps(int count) {
            this.steps = String.valueOf(count);
            return this;
        }

        /** Upsampling sampler; default DDIM (DDPM for inpainting, as the inpainting notebook). */
        public Builder upsampleSampler(SamplerType sampler) {
            this.upsampleSampler = Objects.requireNonNull(sampler, "sampler");
            return this;
        }

        /** Upsampling respacing; default "fast27". */
        public Builder upsampleSteps(String respacing) {
            this.upsampleSteps = Objects.requireNonNull(respacing, "respacing");
            return this;
        }

        public Builder upsampleSteps(int count) {
            this.upsampleSteps = String.valueOf(count);
            return this;
        }

        /** Classifier-free guidance scale (>= 0; 0 = unconditional, 1 = conditional only); default 3.0. */
        public Builder guidanceScale(double scale) {
            this.guidanceScale = scale;
            return this;
        }

        /** Factor on the upsampler's initial noise (> 0); default 0.997 (1.0 is sharper but grainier). */
        public Builder upsampleTemperature(double temperature) {
            this.upsampleTemperature = temperature;
            return this;
        }

        /** Seed of every call (same seed, same images); default a fresh random seed per call. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Images per call; default 1. */
        public Builder imagesPerPrompt(int n) {
            this.imagesPerPrompt = n;
            return this;
        }

        /** Images sampled at once (memory grows with it); default all of {@link #imagesPerPrompt}. */
        public Builder batchSize(int n) {
            this.batchSize = n;
            return this;
        }

        /** Which mask pixels mean "keep" for {@code inpaint(image, BufferedImage mask, prompt)}. */
        public Builder maskSource(InpaintMasks.Source source) {
            this.maskSource = Objects.requireNonNull(source, "source");
            return this;
        }

        public Builder progressListener(ProgressListener listener) {
            this.progress = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Called after every step with its tensors; may cancel. */
        public Builder stepCallback(PipelineStepCallback callback) {
            this.stepCallback = callback;
            return this;
        }

        /**
         * Validates the settings, loads the models and the tokenizer and checks that they fit together.
         *
         * @throws IllegalArgumentException naming the setting, file or model that is wrong and how to fix it
         * @throws NoSuchFileException      for a missing checkpoint or tokenizer file (with the download command)
         * @throws IOException              when a file cannot be read
         */
        public GlidePipeline build() throws IOException {
            validateSettings();
            Path dir = checkpointDir != null ? checkpointDir : GlideCache.defaultDir();
            GlideModel b = null;
            if (!withoutBase) {
                b = baseModel != null ? baseModel : load("base model", basePath != null ? basePath
                        : dir.resolve((inpainting ? GlideAsset.BASE_INPAINT : GlideAsset.BASE).fileName()), baseConfig,
                        inpainting ? "base-inpaint" : "base", basePath == null);
                if (b.kind().superRes()) {
                    throw new IllegalArgumentException("the base model slot needs a base or base-inpaint model, but "
                            + b.name() + " is " + b.kind().withArticle() + " model (" + b.kind().modelClass()
                            + "); give it as the upsampler instead (upsampler(...) in Java, --upsampler FILE on the"
                            + " command line)");
                }
                if (inpainting && !b.kind().inpaint()) {
                    throw new IllegalArgumentException("inpainting (inpainting(true) in Java, glide inpaint on the"
                            + " command line) needs a base-inpaint model, but " + b.name() + " is "
                            + b.kind().withArticle() + " model; give a base-inpaint checkpoint (base(...) / --base FILE)");
                }
                respaced(b, steps, PipelineStage.BASE);
            }
            GlideModel u = null;
            if (!withoutUpsampler) {
                boolean inpaintUp = b != null ? b.kind().inpaint() : inpainting;
                u = upsamplerModel != null ? upsamplerModel : load("upsampler", upsamplerPath != null ? upsamplerPath
                        : dir.resolve((inpaintUp ? GlideAsset.UPSAMPLE_INPAINT : GlideAsset.UPSAMPLE).fileName()),
                        upsamplerConfig, inpaintUp ? "upsample-inpaint" : "upsample", upsamplerPath == null);
                if (!u.kind().superRes()) {
                    throw new IllegalArgumentException("the upsampler slot needs an upsample or upsample-inpaint model,"
                            + " but " + u.name() + " is " + u.kind().withArticle() + " model (" + u.kind().modelClass()
                            + "); give it as the base model instead (base(...) in Java, --base FILE on the command"
                            + " line)");
                }
                if (b != null && b.kind().inpaint() != u.kind().inpaint()) {
                    throw new IllegalArgumentException("the base model " + b.name() + " is " + b.kind().withArticle()
                            + " model but the upsampler " + u.name() + " is " + u.kind().withArticle() + " model; "
                            + (b.kind().inpaint() ? "inpainting needs the upsample-inpaint upsampler"
                            : "text-to-image needs the upsample upsampler (not upsample-inpaint)"));
                }
                respaced(u, upsampleSteps, PipelineStage.UPSAMPLE);
            }
            if (b == null && u == null) {
                throw new IllegalArgumentException("a pipeline needs a base model, an upsampler or both;"
                        + " withoutBase() and withoutUpsampler() were both given");
            }
            BpeTokenizer tok = tokenizer != null ? tokenizer
                    : tokenizerDir != null ? loadTokenizer(tokenizerDir)
                    : hasTokenizerFiles(dir) ? BpeTokenizer.loadFromDirectory(dir) : BpeTokenizer.glide();
            for (GlideModel m : new GlideModel[]{b, u}) {
                if (m != null && m.config().xfWidth() > 0 && m.config().vocabSize() != tok.vocabSize()) {
                    throw new IllegalArgumentException("the tokenizer has " + tok.vocabSize() + " tokens but "
                            + m.name() + " embeds " + m.config().vocabSize() + "; use GLIDE's GPT-2 tokenizer");
                }
            }
            return new GlidePipeline(this, b, u, tok);
        }

        private void validateSettings() {
            if (steps.isBlank() || steps.trim().equals("0")) {
                throw new IllegalArgumentException("steps must be at least 1 (e.g. \"100\", GLIDE's default), got '"
                        + steps + "'");
            }
            if (upsampleSteps.isBlank() || upsampleSteps.trim().equals("0")) {
                throw new IllegalArgumentException("upsampleSteps must be at least 1 (e.g. \"fast27\", GLIDE's"
                        + " default), got '" + upsampleSteps + "'");
            }
            if (!(guidanceScale >= 0) || Double.isInfinite(guidanceScale)) {
                throw new IllegalArgumentException("guidanceScale must be a finite number >= 0 (1 = no guidance,"
                        + " GLIDE uses 3.0), got " + guidanceScale);
            }
            if (!(upsampleTemperature > 0) || Double.isInfinite(upsampleTemperature)) {
                throw new IllegalArgumentException("upsampleTemperature must be a finite number > 0 (GLIDE uses 0.997),"
                        + " got " + upsampleTemperature);
            }
            if (imagesPerPrompt < 1) {
                throw new IllegalArgumentException("imagesPerPrompt must be >= 1, got " + imagesPerPrompt);
            }
            if (batchSize != null && batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            }
        }

        private static GlideModel load(String slot, Path file, GlideModelConfig config, String downloadName,
                                       boolean fromDir) throws IOException {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null, "the " + slot + " checkpoint is missing; "
                        + (fromDir ? "download it with 'glide download " + downloadName + "', or use the directory that"
                        + " holds it (checkpointDir; glide --models)"
                        : "check the path"));
            }
            return GlideModel.load(file, config);
        }

        private static boolean hasTokenizerFiles(Path dir) {
            return Files.isRegularFile(dir.resolve("encoder.json")) && Files.isRegularFile(dir.resolve("vocab.bpe"))
                    || Files.isRegularFile(dir.resolve("encoder.json.gz"))
                    && Files.isRegularFile(dir.resolve("vocab.bpe.gz"));
        }

        private static BpeTokenizer loadTokenizer(Path dir) throws IOException {
            if (!hasTokenizerFiles(dir)) {
                throw new NoSuchFileException(dir.resolve("encoder.json").toString(), null,
                        "the tokenizer files (encoder.json, vocab.bpe) are missing in " + dir
                                + "; download them with 'glide download tokenizer', or use the directory that holds them"
                                + " (tokenizerDir; glide --tokenizer)");
            }
            return BpeTokenizer.loadFromDirectory(dir);
        }

        Builder copy() {
            Builder b = new Builder();
            b.checkpointDir = checkpointDir;
            b.inpainting = inpainting;
            b.basePath = basePath;
            b.baseConfig = baseConfig;
            b.baseModel = baseModel;
            b.withoutBase = withoutBase;
            b.upsamplerPath = upsamplerPath;
            b.upsamplerConfig = upsamplerConfig;
            b.upsamplerModel = upsamplerModel;
            b.withoutUpsampler = withoutUpsampler;
            b.tokenizer = tokenizer;
            b.tokenizerDir = tokenizerDir;
            b.sampler = sampler;
            b.steps = steps;
            b.upsampleSampler = upsampleSampler;
            b.upsampleSteps = upsampleSteps;
            b.guidanceScale = guidanceScale;
            b.upsampleTemperature = upsampleTemperature;
            b.seed = seed;
            b.imagesPerPrompt = imagesPerPrompt;
            b.batchSize = batchSize;
            b.maskSource = maskSource;
            b.progress = progress;
            b.stepCallback = stepCallback;
            return b;
        }
    }
}
