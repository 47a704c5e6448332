package io.github.glidejava.diffusion.pipeline;

import java.util.Objects;

import io.github.glidejava.core.image.InpaintMasks;
import io.github.glidejava.diffusion.sampling.SamplerOptions;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.GlideModelKind;

/**
 * How a {@link GlidePipeline} samples: everything but its models and tokenizer. Immutable; produced by
 * {@link GlidePipeline.Builder} or {@link #builder()}, whose setters ({@link Setters}) document each setting.
 * Validated on construction, with messages that name the setter.
 *
 * @param sampler                base-stage sampler
 * @param steps                  base-stage timestep respacing ("100", "ddim50", "fast27", "10,10,5", ...)
 * @param samplerOptions         base-stage sampler options (eta, clipping of x_0, solver order)
 * @param upsampleSampler        upsampling sampler, or null for the upsampler's default ({@link #upsampleSampler(
 *                               GlideModelKind)})
 * @param upsampleSteps          upsampling timestep respacing
 * @param upsampleSamplerOptions upsampling sampler options
 * @param guidanceScale          classifier-free guidance scale of the base stage
 * @param upsampleTemperature    factor on the upsampler's initial noise
 * @param seed                   seed of every call, or null for a fresh random seed per call
 * @param imagesPerPrompt        images per call
 * @param batchSize              images sampled at once, or null for all ({@link #rowsPerBatch()})
 * @param maskSource             which mask picture pixels mean "keep"
 * @param progress               told about every step
 * @param stepCallback           sees every step's tensors and may cancel; null for none
 * @param clipGuidanceScale      CLIP guidance of the base stage (glide-text2im's clip_guided notebook), or null for
 *                               none; with it the base stage samples without classifier-free guidance
 * @param precision              how the models' convolutions compute ({@link Precision#FP32}, exact, by default)
 */
public record PipelineSettings(
        SamplerType sampler,
        String steps,
        SamplerOptions samplerOptions,
        SamplerType upsampleSampler,
        String upsampleSteps,
        SamplerOptions upsampleSamplerOptions,
        double guidanceScale,
        double upsampleTemperature,
        Long seed,
        int imagesPerPrompt,
        Integer batchSize,
        InpaintMasks.Source maskSource,
        ProgressListener progress,
        PipelineStepCallback stepCallback,
        Double clipGuidanceScale,
        Precision precision) {

    /** glide-text2im's text-to-image notebook values. */
    public static final String DEFAULT_STEPS = "100";
    public static final String DEFAULT_UPSAMPLE_STEPS = "fast27";
    public static final double DEFAULT_GUIDANCE_SCALE = 3.0;
    public static final double DEFAULT_UPSAMPLE_TEMPERATURE = 0.997;

    public PipelineSettings {
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(steps, "steps");
        Objects.requireNonNull(samplerOptions, "samplerOptions");
        Objects.requireNonNull(upsampleSteps, "upsampleSteps");
        Objects.requireNonNull(upsampleSamplerOptions, "upsampleSamplerOptions");
        Objects.requireNonNull(maskSource, "maskSource");
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(precision, "precision");
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
        if (clipGuidanceScale != null && (!(clipGuidanceScale > 0) || Double.isInfinite(clipGuidanceScale))) {
            throw new IllegalArgumentException("clipGuidanceScale must be a finite number > 0 (the clip_guided"
                    + " notebook uses 3.0) or null for none, got " + clipGuidanceScale);
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
        checkOptions("sampler", sampler, samplerOptions);
        if (upsampleSampler != null) {
            checkOptions("upsampleSampler", upsampleSampler, upsampleSamplerOptions);
        }
    }

    /**
     * The upsampling sampler for an upsampler of {@code kind}: the one set, else DDIM for text-to-image and DDPM for
     * inpainting, as glide-text2im's notebooks.
     */
    public SamplerType upsampleSampler(GlideModelKind kind) {
        if (upsampleSampler != null) {
            return upsampleSampler;
        }
        SamplerType type = kind.inpaint() ? SamplerType.DDPM : SamplerType.DDIM;
        checkOptions("upsampleSampler (default for " + kind.withArticle() + " upsampler)", type,
                upsampleSamplerOptions);
        return type;
    }

    /** Images sampled at once: batchSize, at most imagesPerPrompt. */
    public int rowsPerBatch() {
        return batchSize == null ? imagesPerPrompt : Math.min(batchSize, imagesPerPrompt);
    }

    /** Rows sampled at once when a call makes {@code totalImages} images (several prompts may share a batch). */
    int rowsPerBatch(int totalImages) {
        return batchSize == null ? totalImages : Math.min(batchSize, totalImages);
    }

    private static void checkOptions(String setting, SamplerType type, SamplerOptions options) {
        if (options.condFn() != null || options.denoisedFn() != null) {
            throw new IllegalArgumentException("the pipeline's sampler options take eta, clipDenoised and"
                    + " solverOrder; condFn and denoisedFn are set by the pipeline itself (inpainting) or not at all");
        }
        try {
            type.check(options);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (" + setting + " is " + type.configName() + ")", e);
        }
    }

    /** A builder of settings alone, e.g. to apply to a loaded pipeline with {@code toBuilder().settings(s)}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings on their own; {@link #build()} validates them. */
    public static final class Builder extends Setters<Builder> {
        private Builder() {
        }

        public PipelineSettings build() {
            return settings();
        }
    }

    /**
     * The fluent setters of every setting, shared by {@link Builder} and {@link GlidePipeline.Builder} (so each
     * setting is declared here once); {@code B} is the builder they return.
     */
    public abstract static class Setters<B extends Setters<B>> {
        private SamplerType sampler = SamplerType.DDPM;
        private String steps = DEFAULT_STEPS;
        private SamplerOptions samplerOptions = SamplerOptions.defaults();
        private SamplerType upsampleSampler;
        private String upsampleSteps = DEFAULT_UPSAMPLE_STEPS;
        private SamplerOptions upsampleSamplerOptions = SamplerOptions.defaults();
        private double guidanceScale = DEFAULT_GUIDANCE_SCALE;
        private double upsampleTemperature = DEFAULT_UPSAMPLE_TEMPERATURE;
        private Long seed;
        private int imagesPerPrompt = 1;
        private Integer batchSize;
        private InpaintMasks.Source maskSource = InpaintMasks.Source.LUMA_BLACK_KEEPS;
        private ProgressListener progress = ProgressListener.NONE;
        private PipelineStepCallback stepCallback;
        private Double clipGuidanceScale;
        private Precision precision = Precision.FP32;

        Setters() {
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /** Every setting of {@code s} (the models and tokenizer stay as they are). */
        public B settings(PipelineSettings s) {
            sampler = s.sampler();
            steps = s.steps();
            samplerOptions = s.samplerOptions();
            upsampleSampler = s.upsampleSampler();
            upsampleSteps = s.upsampleSteps();
            upsampleSamplerOptions = s.upsampleSamplerOptions();
            guidanceScale = s.guidanceScale();
            upsampleTemperature = s.upsampleTemperature();
            seed = s.seed();
            imagesPerPrompt = s.imagesPerPrompt();
            batchSize = s.batchSize();
            maskSource = s.maskSource();
            progress = s.progress();
            stepCallback = s.stepCallback();
            clipGuidanceScale = s.clipGuidanceScale();
            precision = s.precision();
            return self();
        }

        /** The settings as they stand, validated (the models are not loaded). */
        public PipelineSettings settings() {
            return new PipelineSettings(sampler, steps, samplerOptions, upsampleSampler, upsampleSteps,
                    upsampleSamplerOptions, guidanceScale, upsampleTemperature, seed, imagesPerPrompt,
                    batchSize, maskSource, progress, stepCallback, clipGuidanceScale, precision);
        }

        /** Base-stage sampler; default DDPM. */
        public B sampler(SamplerType sampler) {
            this.sampler = Objects.requireNonNull(sampler, "sampler");
            return self();
        }

        /** Base-stage timestep respacing: "100" (default), "50", "ddim25", "fast27", "10,10,5"... */
        public B steps(String respacing) {
            this.steps = Objects.requireNonNull(respacing, "respacing");
            return self();
        }

        /** Base-stage step count (>= 1). */
        public B steps(int count) {
            this.steps = String.valueOf(count);
            return self();
        }

        /**
         * Base-stage sampler options: {@code eta} (DDIM, default 0; Euler ancestral, default 1), {@code solverOrder}
         * (DPM-Solver++, default 2), {@code clipDenoised} (default true). An option the sampler does not use is an
         * error in {@link #build()}.
         */
        public B samplerOptions(SamplerOptions options) {
            this.samplerOptions = Objects.requireNonNull(options, "options");
            return self();
        }

        /** The base-stage sampler's eta (DDIM, Euler ancestral): 0 is deterministic, 1 is DDPM-like. */
        public B eta(double eta) {
            return samplerOptions(samplerOptions.toBuilder().eta(eta).build());
        }

        /** Upsampling sampler; default DDIM (DDPM for inpainting, as the inpainting notebook). */
        public B upsampleSampler(SamplerType sampler) {
            this.upsampleSampler = Objects.requireNonNull(sampler, "sampler");
            return self();
        }

        /** Upsampling respacing; default "fast27". */
        public B upsampleSteps(String respacing) {
            this.upsampleSteps = Objects.requireNonNull(respacing, "respacing");
            return self();
        }

        public B upsampleSteps(int count) {
            this.upsampleSteps = String.valueOf(count);
            return self();
        }

        /** Upsampling sampler options, as {@link #samplerOptions}. */
        public B upsampleSamplerOptions(SamplerOptions options) {
            this.upsampleSamplerOptions = Objects.requireNonNull(options, "options");
            return self();
        }

        /** The upsampling sampler's eta (GLIDE's upsampler runs DDIM with eta 0). */
        public B upsampleEta(double eta) {
            return upsampleSamplerOptions(upsampleSamplerOptions.toBuilder().eta(eta).build());
        }

        /**
         * CLIP guidance of the base stage with the noised CLIP ({@code GlidePipeline.Builder.clip}), as
         * glide-text2im's clip_guided notebook (which uses 3.0): every DDPM step's mean moves by {@code scale *
         * variance * grad_x CLIP score} (other samplers shift eps). The base stage then samples WITHOUT
         * classifier-free guidance ({@link #guidanceScale} is not used); the upsampler is unchanged. Null (the
         * default) for none.
         */
        public B clipGuidanceScale(Double scale) {
            this.clipGuidanceScale = scale;
            return self();
        }

        /** Classifier-free guidance scale (>= 0; 0 = unconditional, 1 = conditional only); default 3.0. */
        public B guidanceScale(double scale) {
            this.guidanceScale = scale;
            return self();
        }

        /** Factor on the upsampler's initial noise (> 0); default 0.997 (1.0 is sharper but grainier). */
        public B upsampleTemperature(double temperature) {
            this.upsampleTemperature = temperature;
            return self();
        }

        /** Seed of every call (same seed, same images); default a fresh random seed per call. */
        public B seed(long seed) {
            this.seed = seed;
            return self();
        }

        /** Images per call; default 1. */
        public B imagesPerPrompt(int n) {
            this.imagesPerPrompt = n;
            return self();
        }

        /** Images sampled at once (memory grows with it); default all of {@link #imagesPerPrompt}. */
        public B batchSize(int n) {
            this.batchSize = n;
            return self();
        }

        /** Which mask pixels mean "keep" for {@code inpaint(image, BufferedImage mask, prompt)}. */
        public B maskSource(InpaintMasks.Source source) {
            this.maskSource = Objects.requireNonNull(source, "source");
            return self();
        }

        public B progressListener(ProgressListener listener) {
            this.progress = Objects.requireNonNull(listener, "listener");
            return self();
        }

        /**
         * How the models' convolutions compute: {@link Precision#FP32} (default, exact), {@link Precision#WINOGRAD}
         * or {@link Precision#BF16} (faster, less exact; {@code docs/benchmarks.md} has the speed and the effect on
         * images).
         */
        public B precision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return self();
        }

        /** Called after every step with its tensors; may cancel. */
        public B stepCallback(PipelineStepCallback callback) {
            this.stepCallback = callback;
            return self();
        }

    }
}
