package io.github.glidejava.diffusion.pipeline;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.image.InpaintMasks;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.core.text.TokenBatch;
import io.github.glidejava.core.text.TokensAndMask;
import io.github.glidejava.diffusion.ClassifierFreeGuidance;
import io.github.glidejava.diffusion.ClipGuidance;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.download.GlideAsset;
import io.github.glidejava.diffusion.download.GlideCache;
import io.github.glidejava.diffusion.sampling.SamplerOptions;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.diffusion.sampling.SamplingLoop;
import io.github.glidejava.nn.clip.ClipConfig;
import io.github.glidejava.nn.clip.ClipModel;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.GlideModelKind;
import io.github.glidejava.nn.unet.TextEncoder;
import io.github.glidejava.nn.unet.UNetInputs;
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
 * {@link #inpaint} does too unless an upsampling sampler is set). {@link PipelineSettings} holds them all. With
 * {@code clipGuidanceScale} the base stage is CLIP-guided instead, as the clip_guided notebook (noised CLIP from
 * {@link Builder#clip}, no classifier-free guidance).
 *
 * <p>Thread safety: a pipeline is immutable and its calls keep all state (noise, sampler) to themselves, so one
 * loaded pipeline may serve concurrent calls; each call gives exactly what it gives when run alone. Listeners are
 * called on the calling thread.
 */
public final class GlidePipeline {
    static {
        GlideBackend.init();
    }

    private final GlideModel base;
    private final GlideModel upsampler;
    private final BpeTokenizer tokenizer;
    private final PipelineSettings settings;
    private final ClipModel clip;

    private GlidePipeline(GlideModel base, GlideModel upsampler, BpeTokenizer tokenizer, PipelineSettings settings,
                          ClipModel clip) {
        this.base = base;
        this.upsampler = upsampler;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.clip = clip;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder with this pipeline's settings and its loaded models and tokenizer (nothing is loaded again). */
    public Builder toBuilder() {
        Builder b = new Builder().settings(settings).tokenizer(tokenizer);
        b.base = ModelSlot.loaded(base);
        b.upsampler = ModelSlot.loaded(upsampler);
        b.clipModel = clip;
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

    public PipelineSettings settings() {
        return settings;
    }

    /** The noised CLIP of CLIP guidance, or null when the pipeline has none. */
    public ClipModel clip() {
        return clip;
    }

    // ---- the three tasks ----------------------------------------------------------------------------------------

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
        requireBase(GlideModelKind.BASE);
        return run("text-to-image", List.of(prompt), seed, noise, null, null, null).get(0);
    }

    /** {@link #sample(List, long)} with the configured seed (a random one, recorded in the results, when none). */
    public List<GlideResult> sample(List<String> prompts) {
        return sample(prompts, nextSeed());
    }

    /**
     * Text to image for several prompts at once: {@code imagesPerPrompt} images each, sampled together in batches of
     * {@code batchSize} rows that may mix prompts (a small model samples many prompts much faster batched than one
     * by one). Returns one result per prompt, in order. The images depend on the seed, the prompt list and the batch
     * size; {@code sample(List.of(p), seed)} gives the images of {@code sample(p, seed)}.
     */
    public List<GlideResult> sample(List<String> prompts, long seed) {
        Objects.requireNonNull(prompts, "prompts");
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("sample(prompts) needs at least one prompt");
        }
        requireBase(GlideModelKind.BASE);
        return run("text-to-image", List.copyOf(prompts), seed, new SeededNoise(seed), null, null, null);
    }

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
        int s = requireBase(GlideModelKind.BASE_INPAINT).imageSize();
        INDArray keep = InpaintMasks.fromImages(List.of(mask), s, s, settings.maskSource(),
                InpaintMasks.DEFAULT_THRESHOLD);
        return run("inpaint", List.of(prompt), seed, new SeededNoise(seed), null, image, keep).get(0);
    }

    /**
     * Inpainting with GLIDE's mask tensor: {@code keepMask} [1, 1, h, w] (or [h, w]) holds 1 where the image is
     * kept and 0 where it is generated, at the base model's resolution (64x64 for GLIDE) or the image's; it is
     * resized with nearest-neighbour sampling.
     */
    public GlideResult inpaint(BufferedImage image, INDArray keepMask, String prompt, long seed) {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(keepMask, "keepMask");
        int s = requireBase(GlideModelKind.BASE_INPAINT).imageSize();
        INDArray keep = KnownRegion.keepMask(keepMask, s, image.getWidth(), image.getHeight());
        return run("inpaint", List.of(prompt), seed, new SeededNoise(seed), null, image, keep).get(0);
    }

    /** Upsamples an image (resized to the base resolution first, as the base stage would produce it). */
    public GlideResult upsample(BufferedImage image, String prompt) {
        return upsample(image, prompt, nextSeed());
    }

    public GlideResult upsample(BufferedImage image, String prompt, long seed) {
        Objects.requireNonNull(image, "image");
        requireUpsampler("upsample(image, prompt)");
        // the base model's size, else a quarter of the upsampler's
        int s = base != null ? base.imageSize() : Math.max(1, upsampler.imageSize() / 4);
        return upsampleLowRes(ImageTensors.fromImage(image, s, s), prompt, seed, new SeededNoise(seed));
    }

    /**
     * Upsamples low-resolution images given as a tensor [1 or imagesPerPrompt, 3, h, w] in [-1, 1], at their own
     * size (the U-Net resizes low_res to its own size bilinearly), e.g. a reference run's recorded low_res.
     */
    GlideResult upsampleLowRes(INDArray low, String prompt, long seed, NoiseSource noise) {
        Objects.requireNonNull(low, "low");
        requireUpsampler("upsampling");
        long[] shape = low.shape();
        int n = settings.imagesPerPrompt();
        if (shape.length != 4 || shape[1] != 3 || (shape[0] != 1 && shape[0] != n)) {
            throw new IllegalArgumentException("low-resolution images must be [1 or " + n
                    + " (imagesPerPrompt), 3, h, w], got " + Arrays.toString(shape));
        }
        return run("upsample", List.of(prompt), seed, noise, shape[0] == 1 ? low.repeat(0, n) : low, null, null)
                .get(0);
    }

    // ---- one batch loop for all three -----------------------------------------------------------------------------

    /**
     * Runs the call batch by batch over {@code imagesPerPrompt} rows per prompt: the base stage (unless
     * {@code lowRes} gives its output), then the upsampler when there is one. {@code image} and {@code keep} (at the
     * base size) are the known region when inpainting. Returns one result per prompt.
     */
    private List<GlideResult> run(String task, List<String> prompts, long seed, NoiseSource noise, INDArray lowRes,
                                  BufferedImage image, INDArray keep) {
        prompts.forEach(p -> Objects.requireNonNull(p, "prompt"));
        GlideModel b = lowRes == null ? base : null;
        KnownRegion baseKnown = image == null ? null : KnownRegion.of(image, keep, b.imageSize());
        KnownRegion upKnown = image == null || upsampler == null ? null
                : KnownRegion.of(image, keep, upsampler.imageSize());
        int perPrompt = settings.imagesPerPrompt();
        int total = prompts.size() * perPrompt;
        int rowsPerBatch = settings.rowsPerBatch(total);
        int numBatches = (total + rowsPerBatch - 1) / rowsPerBatch;
        List<INDArray> finals = new ArrayList<>();
        List<INDArray> lows = new ArrayList<>();
        for (int batch = 0; batch < numBatches; batch++) {
            int from = batch * rowsPerBatch;
            int n = Math.min(rowsPerBatch, total - from);
            List<String> rowPrompts = new ArrayList<>(n);
            for (int r = from; r < from + n; r++) {
                rowPrompts.add(prompts.get(r / perPrompt));
            }
            INDArray low = b == null ? lowRes.get(NDArrayIndex.interval(from, from + n), NDArrayIndex.all(),
                    NDArrayIndex.all(), NDArrayIndex.all()).dup()
                    : runStage(PipelineStage.BASE, b, rowPrompts, null, baseKnown, noise, batch, numBatches);
            lows.add(low);
            finals.add(upsampler == null ? low : runStage(PipelineStage.UPSAMPLE, upsampler, rowPrompts,
                    ImageTensors.quantize(low), upKnown, noise, batch, numBatches));
        }
        INDArray samples = finals.size() == 1 ? finals.get(0) : Nd4j.concat(0, finals.toArray(new INDArray[0]));
        INDArray baseSamples = lows.size() == 1 ? lows.get(0) : Nd4j.concat(0, lows.toArray(new INDArray[0]));
        List<GlideResult> results = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            INDArray rows = prompts.size() == 1 ? samples : samples.get(NDArrayIndex.interval(i * perPrompt,
                    (i + 1) * perPrompt), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).dup();
            INDArray lowRows = prompts.size() == 1 ? baseSamples : baseSamples.get(NDArrayIndex.interval(
                    i * perPrompt, (i + 1) * perPrompt), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.all()).dup();
            results.add(new GlideResult(rows, lowRows, GenerationParameters.of(task, prompts.get(i), seed, b,
                    upsampler, settings, rowsPerBatch, (int) samples.size(3), (int) samples.size(2))));
        }
        return results;
    }

    /**
     * One stage for one batch of n images, one per row prompt. The base stage, as the notebooks: 2n rows
     * [prompts | "" x n], the model sees the first half twice (classifier-free guidance), x_T ~ N(0, I) for all 2n rows; returns the n
     * conditional rows. With CLIP guidance the base stage samples the n prompt rows alone, the sampler's condFn being
     * the CLIP gradient (the clip_guided notebook). The upsampling stage ({@code lowRes} given, quantised to 8 bits): n prompt rows, x_T =
     * temperature * N(0, I), no guidance. Both clip x_0 (unless the stage's sampler options say not to); for
     * inpainting the model sees {@code image * keep} and {@code keep}, and the known region is re-imposed on every
     * x_0 prediction (the notebook's denoised_fn).
     */
    private INDArray runStage(PipelineStage stage, GlideModel m, List<String> rowPrompts, INDArray lowRes,
                              KnownRegion known, NoiseSource noise, int batch, int numBatches) {
        // CLIP guidance replaces classifier-free guidance in the base stage, as in the clip_guided notebook
        boolean clipGuided = stage == PipelineStage.BASE && settings.clipGuidanceScale() != null;
        boolean guided = stage == PipelineStage.BASE && !clipGuided;
        int n = rowPrompts.size();
        int rows = guided ? 2 * n : n;
        GlideModelConfig c = m.config();
        List<TokensAndMask> texts = new ArrayList<>(n);
        rowPrompts.forEach(p -> texts.add(tokenizer.encodePadded(p, c.textCtx())));
        if (guided) {
            texts.addAll(Collections.nCopies(n, tokenizer.encodePadded("", c.textCtx())));
        }
        TokenBatch tokens = TokenBatch.of(texts);
        KnownRegion.Rows inpaint = known == null ? null : known.rows(rows);
        SamplerOptions options = guided ? settings.samplerOptions() : settings.upsampleSamplerOptions();
        options = inpaint == null ? options : options.toBuilder().denoisedFn(inpaint.denoisedFn()).build();
        options = !clipGuided ? options
                : options.toBuilder().condFn(ClipGuidance.of(clip, rowPrompts, settings.clipGuidanceScale())).build();
        // the prompt is the same at every step: encode it once
        TextEncoder.Output<INDArray> text = c.xfWidth() > 0 ? m.unet().encodeText(tokens.tokens(), tokens.mask())
                : null;
        DiffusionModel model = (x, t) -> {
            UNetInputs<INDArray> in = UNetInputs.of(x, t, tokens.tokens(), tokens.mask());
            in = lowRes == null ? in : in.withLowRes(lowRes);
            in = inpaint == null ? in : in.withInpaint(inpaint.maskedImage(), inpaint.mask());
            return text == null ? m.unet().forward(in, settings.precision())
                    : m.unet().forward(in, text, settings.precision());
        };
        int s = m.imageSize();
        INDArray xT = noise.next(rows, 3, s, s);
        boolean isBase = stage == PipelineStage.BASE;
        xT = isBase ? xT : xT.mul(settings.upsampleTemperature());
        SamplerType type = isBase ? settings.sampler() : settings.upsampleSampler(m.kind());
        GaussianDiffusion d = m.respaced(isBase ? settings.steps() : settings.upsampleSteps(), isBase ? "steps"
                : "upsampleSteps");
        INDArray out = SamplingLoop.sample(type.create(d, options),
                guided ? ClassifierFreeGuidance.wrap(model, settings.guidanceScale()) : model, xT, noise, info -> {
                    settings.progress().onStep(stage, info.stepIndex() + 1, info.numSteps(), batch, numBatches);
                    PipelineStepCallback callback = settings.stepCallback();
                    return callback == null || callback.onStep(stage, batch, info);
                }, null);
        return guided ? out.get(NDArrayIndex.interval(0, n), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all()).dup() : out;
    }

    private GlideModel requireBase(GlideModelKind kind) {
        String[] calls = {"sample(prompt) (glide sample)", "inpaint(image, mask, prompt) (glide inpaint)"};
        String call = calls[kind.inpaint() ? 1 : 0];
        String hint = kind.inpaint() ? "text-to-image models need " + calls[0] : "inpainting models need " + calls[1];
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

    private void requireUpsampler(String call) {
        if (upsampler == null) {
            throw new IllegalStateException(call + " needs an upsampler; this pipeline was built without one (drop"
                    + " withoutUpsampler(), or give upsampler(checkpoint))");
        }
    }

    private long nextSeed() {
        return settings.seed() != null ? settings.seed() : ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
    }

    // ---- builder ------------------------------------------------------------------------------------------------

    /**
     * Configures a pipeline; {@link #build()} validates everything, then loads the models and the tokenizer. The
     * sampling settings' setters are those of {@link PipelineSettings.Setters}.
     *
     * <p>Models: by default GLIDE's released checkpoints from {@link #checkpointDir} by their published names
     * ({@code base.pt} and {@code upsample.pt}, or {@code base_inpaint.pt} and {@code upsample_inpaint.pt} with
     * {@link #inpainting}), configured by the matching preset. {@link #base(Path)} / {@link #upsampler(Path)} take
     * other files (their configuration from the file's metadata or its kind's preset), {@code base(Path,
     * GlideModelConfig)} any architecture, {@link #base(GlideModel)} an already loaded model.
     */
    public static final class Builder extends PipelineSettings.Setters<Builder> {
        private Path checkpointDir;
        private boolean inpainting;
        private ModelSlot base = ModelSlot.DEFAULT;
        private ModelSlot upsampler = ModelSlot.DEFAULT;
        private BpeTokenizer tokenizer;
        private Path tokenizerDir;
        private ClipModel clipModel;
        private Path clipImageEncoder;
        private Path clipTextEncoder;
        private ClipConfig clipConfig;

        private Builder() {
        }

        /**
         * The noised CLIP for {@code clipGuidanceScale}: glide-text2im's {@code clip/image-enc} and
         * {@code clip/text-enc} checkpoints with config.yaml's architecture. Default: {@code clip_image_enc.pt} and
         * {@code clip_text_enc.pt} in the checkpoint directory ({@code glide download clip}). Loaded only when CLIP
         * guidance is on.
         */
        public Builder clip(Path imageEncoder, Path textEncoder) {
            return clip(imageEncoder, textEncoder, ClipConfig.released());
        }

        /** {@link #clip(Path, Path)} with another architecture (e.g. a small CLIP for a small base model). */
        public Builder clip(Path imageEncoder, Path textEncoder, ClipConfig config) {
            this.clipImageEncoder = Objects.requireNonNull(imageEncoder, "imageEncoder");
            this.clipTextEncoder = Objects.requireNonNull(textEncoder, "textEncoder");
            this.clipConfig = Objects.requireNonNull(config, "config");
            this.clipModel = null;
            return this;
        }

        /** An already loaded noised CLIP (shared, not copied). */
        public Builder clip(ClipModel model) {
            this.clipModel = Objects.requireNonNull(model, "model");
            this.clipImageEncoder = null;
            this.clipTextEncoder = null;
            return this;
        }

        private ClipModel loadClip(Path dir, GlideModel b) throws IOException {
            ClipModel c = clipModel;
            if (c == null) {
                Path image = clipImageEncoder != null ? clipImageEncoder : dir.resolve(GlideAsset.CLIP_IMAGE_ENC.fileName());
                Path text = clipTextEncoder != null ? clipTextEncoder : dir.resolve(GlideAsset.CLIP_TEXT_ENC.fileName());
                for (Path f : List.of(image, text)) {
                    if (!Files.isRegularFile(f)) {
                        throw new NoSuchFileException(f.toString(), null, "the noised CLIP checkpoint is missing;"
                                + (clipImageEncoder == null ? " download it with 'glide download clip', or use the"
                                + " directory that holds it (checkpointDir; glide --models)" : " check the path"));
                    }
                }
                c = ClipModel.load(clipConfig != null ? clipConfig : ClipConfig.released(), image, text);
            }
            if (b != null) {
                if (c.config().imageSize() != b.imageSize()) {
                    throw new IllegalArgumentException("the noised CLIP sees " + c.config().imageSize() + "x"
                            + c.config().imageSize() + " images but the base model samples " + b.imageSize() + "x"
                            + b.imageSize() + "; CLIP guidance needs a CLIP of the base model's size");
                }
                if (c.config().nTimesteps() < b.diffusion().numTimesteps()) {
                    throw new IllegalArgumentException("the noised CLIP knows " + c.config().nTimesteps()
                            + " timesteps but the base model's diffusion has " + b.diffusion().numTimesteps());
                }
            }
            return c;
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
            this.base = ModelSlot.file(checkpoint, config);
            return this;
        }

        /** An already loaded base model (shared, not copied). */
        public Builder base(GlideModel model) {
            this.base = ModelSlot.loaded(Objects.requireNonNull(model, "model"));
            return this;
        }

        /**
         * The model glide-java ships ({@link GlideModel#embedded()}, 32x32, trained on Noto emoji) as the base model,
         * without upsampler: text to image with no download and no files. Other settings keep their defaults.
         */
        public Builder embeddedModel() throws IOException {
            return base(GlideModel.embedded()).withoutUpsampler();
        }

        /** No base model: the pipeline only upsamples ({@link GlidePipeline#upsample}). */
        public Builder withoutBase() {
            this.base = ModelSlot.ABSENT;
            return this;
        }

        public Builder upsampler(Path checkpoint) {
            return upsampler(checkpoint, null);
        }

        public Builder upsampler(Path checkpoint, GlideModelConfig config) {
            this.upsampler = ModelSlot.file(checkpoint, config);
            return this;
        }

        public Builder upsampler(GlideModel model) {
            this.upsampler = ModelSlot.loaded(Objects.requireNonNull(model, "model"));
            return this;
        }

        /** Stop at the base model's resolution (64x64 for GLIDE). */
        public Builder withoutUpsampler() {
            this.upsampler = ModelSlot.ABSENT;
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

        /**
         * Validates the settings, loads the models and the tokenizer and checks that they fit together.
         *
         * @throws IllegalArgumentException naming the setting, file or model that is wrong and how to fix it
         * @throws NoSuchFileException      for a missing checkpoint or tokenizer file (with the download command)
         * @throws IOException              when a file cannot be read
         */
        public GlidePipeline build() throws IOException {
            PipelineSettings s = settings();
            Path dir = checkpointDir != null ? checkpointDir : GlideCache.defaultDir();
            GlideModel b = base.load("base model", dir, inpainting ? GlideModelKind.BASE_INPAINT : GlideModelKind.BASE,
                    false, "upsampler instead (upsampler(...) in Java,"
                    + " --upsampler FILE on the command line)");
            ModelSlot.checkInpainting(b, inpainting);
            if (b != null) {
                b.respaced(s.steps(), "steps");
            }
            boolean inpaintUp = b != null ? b.kind().inpaint() : inpainting;
            GlideModel u = upsampler.load("upsampler", dir, inpaintUp ? GlideModelKind.UPSAMPLE_INPAINT
                    : GlideModelKind.UPSAMPLE, true, "base model instead (base(...) in Java, --base"
                    + " FILE on the command line)");
            if (u != null) {
                u.respaced(s.upsampleSteps(), "upsampleSteps");
                s.upsampleSampler(u.kind());
            }
            BpeTokenizer tok = ModelSlot.tokenizer(tokenizer, tokenizerDir, dir);
            ModelSlot.checkTogether(b, u, tok);
            ClipModel c = s.clipGuidanceScale() == null ? clipModel : loadClip(dir, b);
            return new GlidePipeline(b, u, tok, s, c);
        }
    }
}
