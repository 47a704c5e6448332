package io.github.glidejava.diffusion.training;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;

import io.github.glidejava.diffusion.loss.LossType;
import io.github.glidejava.nn.ops.Precision;

/**
 * How a GLIDE model is trained: improved-diffusion's recipe with GLIDE's caption dropout, every value a setting.
 * The noise schedule and the number of diffusion steps belong to the model ({@code GlideModelConfig}), as in
 * glide's {@code create_model_and_diffusion}. Immutable; made by {@link #builder()}, validated in
 * {@link Builder#build()}. Written into every checkpoint as JSON (snake_case keys, as improved-diffusion's flags) so
 * that a run can be read back; the JSON form and {@link #toBuilder()} come from the components and the builder's
 * fields by name, so a setting is declared once here and once in the builder.
 *
 * @param batchSize        images per optimiser step
 * @param microBatch       images per forward/backward; gradients accumulate over {@code batchSize / microBatch}
 *                         passes (0 = the whole batch at once)
 * @param steps            optimiser steps to train for (0 = no step limit)
 * @param epochs           passes over the data to train for (0 = no epoch limit)
 * @param time             wall time to train for (null = no time limit); at least one of the three limits is set
 * @param lr               AdamW's learning rate after warm-up
 * @param beta1            AdamW's first-moment decay
 * @param beta2            AdamW's second-moment decay
 * @param adamEps          AdamW's epsilon
 * @param weightDecay      AdamW's decoupled weight decay
 * @param warmupSteps      steps of linear learning-rate warm-up from 0
 * @param lrDecay          what the learning rate does after warm-up
 * @param maxGradNorm      clip the global L2 norm of the gradients to this (0 = no clipping)
 * @param emaRates         rates of the exponential moving averages of the weights kept (and saved)
 * @param uncondP          probability that a caption is replaced by the empty caption (classifier-free guidance)
 * @param lossType         improved-diffusion's loss (the hybrid RESCALED_MSE is GLIDE's)
 * @param snrGamma         Min-SNR-gamma weighting of the MSE term (0 = off, GLIDE's loss; 5 is the paper's value)
 * @param noiseOffset      standard deviation of a per-image, per-channel constant added to the training noise
 *                         (diffusers' {@code --noise_offset}; 0 = off, GLIDE's)
 * @param timestepSampler  how training timesteps are drawn
 * @param seed             makes the whole run reproducible: data order, augmentations, caption dropout, timesteps,
 *                         noise, dropout
 * @param checkpointEvery  write a resumable checkpoint every this many steps (and at the end)
 * @param keepCheckpoints  how many of the newest checkpoints are kept
 * @param logEvery         write a metrics line every this many steps
 * @param freeze           parameter-key prefixes left unchanged (e.g. the text transformer when fine-tuning)
 * @param precision        how the U-Net's convolutions compute, forward and backward ({@code fp32}, exact to
 *                         float32 round-off; {@code bf16} rounds their inputs to bfloat16 and is faster on CPUs with
 *                         AVX-512 BF16; {@code winograd} uses Winograd's forward)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingRecipe(int batchSize, @JsonProperty("microbatch") int microBatch, long steps, int epochs,
                             @JsonSerialize(using = ToStringSerializer.class) Duration time, double lr,
                             double beta1, double beta2, double adamEps, double weightDecay, int warmupSteps,
                             LrDecay lrDecay, double maxGradNorm, List<Double> emaRates, double uncondP,
                             LossType lossType, double snrGamma, double noiseOffset, TimestepSampling timestepSampler, long seed,
                             int checkpointEvery, int keepCheckpoints, int logEvery, List<String> freeze,
                             @JsonSerialize(using = ToStringSerializer.class) Precision precision) {

    /** The learning rate after warm-up. */
    public enum LrDecay {
        CONSTANT, COSINE;

        /** The command line's and the JSON's name. */
        @JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        static LrDecay named(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        }
    }

    /** improved-diffusion's schedule samplers: {@code uniform} and {@code loss-second-moment}. */
    public enum TimestepSampling {
        UNIFORM, LOSS_SECOND_MOMENT;

        /** improved-diffusion's name. */
        @JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        @JsonCreator
        static TimestepSampling named(String name) {
            return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public TrainingRecipe {
        emaRates = List.copyOf(emaRates);
        freeze = List.copyOf(freeze);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this recipe's settings. */
    public Builder toBuilder() {
        return JSON.convertValue(this, Builder.class);
    }

    /** Images per forward/backward pass. */
    public int effectiveMicroBatch() {
        return microBatch == 0 ? batchSize : microBatch;
    }

    /**
     * The learning rate of (0-based) step {@code step} of {@code totalSteps} (0 when unknown, e.g. a time limit):
     * linear warm-up, then constant or a cosine decay to 0 over the remaining steps.
     */
    public double learningRate(long step, long totalSteps) {
        if (step < warmupSteps) {
            return lr * (step + 1) / warmupSteps;
        }
        if (lrDecay == LrDecay.CONSTANT || totalSteps <= warmupSteps) {
            return lr;
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
        return lr * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a training recipe could not be written as JSON", e);
        }
    }

    /** The recipe of {@link #toJson()}; keys it does not hold keep the builder's defaults, unknown keys are skipped. */
    public static TrainingRecipe fromJson(String json) {
        try {
            return JSON.readValue(json, Builder.class).build();
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("unreadable training recipe: " + e.getMessage(), e);
        }
    }

    /** Defaults: improved-diffusion's and glide-finetune's where they have one (AdamW, lr 1e-4, EMA 0.9999). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonAutoDetect(fieldVisibility = JsonAutoDetect.Visibility.ANY, getterVisibility = JsonAutoDetect.Visibility.NONE,
            isGetterVisibility = JsonAutoDetect.Visibility.NONE, setterVisibility = JsonAutoDetect.Visibility.NONE)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Builder {
        private int batchSize = 16;
        @JsonProperty("microbatch")
        private int microBatch = 0;
        private long steps = 0;
        private int epochs = 0;
        @JsonDeserialize(using = IsoDuration.class)
        private Duration time;
        private double lr = 1e-4;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double adamEps = 1e-8;
        private double weightDecay = 0.0;
        private int warmupSteps = 0;
        private LrDecay lrDecay = LrDecay.CONSTANT;
        private double maxGradNorm = 1.0;
        private List<Double> emaRates = new ArrayList<>(List.of(0.9999));
        private double uncondP = 0.2;
        private LossType lossType = LossType.RESCALED_MSE;
        private double snrGamma = 0.0;
        private double noiseOffset = 0.0;
        private TimestepSampling timestepSampler = TimestepSampling.UNIFORM;
        private long seed = 0;
        private int checkpointEvery = 500;
        private int keepCheckpoints = 2;
        private int logEvery = 1;
        private List<String> freeze = new ArrayList<>();
        @JsonDeserialize(using = PrecisionName.class)
        private Precision precision = Precision.FP32;

        private Builder() {
        }

        public Builder batchSize(int v) { batchSize = v; return this; }

        public Builder microBatch(int v) { microBatch = v; return this; }

        public Builder steps(long v) { steps = v; return this; }

        public Builder epochs(int v) { epochs = v; return this; }

        public Builder time(Duration v) { time = v; return this; }

        public Builder lr(double v) { lr = v; return this; }

        public Builder betas(double b1, double b2) { beta1 = b1; beta2 = b2; return this; }

        public Builder adamEps(double v) { adamEps = v; return this; }

        public Builder weightDecay(double v) { weightDecay = v; return this; }

        public Builder warmupSteps(int v) { warmupSteps = v; return this; }

        public Builder lrDecay(LrDecay v) { lrDecay = v; return this; }

        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }

        public Builder emaRates(List<Double> v) { emaRates = new ArrayList<>(v); return this; }

        public Builder uncondP(double v) { uncondP = v; return this; }

        public Builder lossType(LossType v) { lossType = v; return this; }

        public Builder snrGamma(double v) { snrGamma = v; return this; }

        public Builder noiseOffset(double v) { noiseOffset = v; return this; }

        public Builder timestepSampler(TimestepSampling v) { timestepSampler = v; return this; }

        public Builder seed(long v) { seed = v; return this; }

        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }

        public Builder keepCheckpoints(int v) { keepCheckpoints = v; return this; }

        public Builder logEvery(int v) { logEvery = v; return this; }

        public Builder freeze(List<String> v) { freeze = new ArrayList<>(v); return this; }

        public Builder precision(Precision v) { precision = v; return this; }

        public TrainingRecipe build() {
            List<String> errors = new ArrayList<>();
            check(errors, batchSize >= 1, "batch size must be at least 1 (batchSize / --batch-size), got " + batchSize);
            check(errors, microBatch >= 0 && (microBatch == 0 || batchSize % microBatch == 0),
                    "micro-batch (microBatch / --microbatch) must divide the batch size " + batchSize + ", got "
                            + microBatch);
            check(errors, steps >= 0 && epochs >= 0, "steps and epochs must not be negative");
            check(errors, time == null || !time.isNegative() && !time.isZero(),
                    "the time limit (time / --time) must be positive, e.g. PT90M or 90m");
            check(errors, steps > 0 || epochs > 0 || time != null,
                    "say how long to train: steps(N) / --steps N, epochs(N) / --epochs N or time(D) / --time D");
            check(errors, lr > 0 && Double.isFinite(lr), "the learning rate (lr / --lr) must be positive, got " + lr);
            check(errors, beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                    "Adam betas (--beta1, --beta2) must be in [0, 1), got " + beta1 + ", " + beta2);
            check(errors, adamEps > 0, "Adam's epsilon (--adam-eps) must be positive, got " + adamEps);
            check(errors, weightDecay >= 0, "weight decay (--weight-decay) must not be negative, got " + weightDecay);
            check(errors, warmupSteps >= 0, "warm-up steps (--warmup-steps) must not be negative");
            check(errors, maxGradNorm >= 0, "the gradient norm limit (--max-grad-norm) must not be negative (0 = off)");
            check(errors, emaRates.stream().allMatch(r -> r > 0 && r < 1),
                    "EMA rates (--ema-rate) must be in (0, 1), got " + emaRates);
            check(errors, uncondP >= 0 && uncondP <= 1,
                    "caption dropout (uncondP / --uncond-p) must be in [0, 1], got " + uncondP);
            check(errors, snrGamma >= 0 && Double.isFinite(snrGamma),
                    "Min-SNR gamma (snrGamma / --snr-gamma) must be >= 0 (0 = off), got " + snrGamma);
            check(errors, snrGamma == 0 || lossType == null || !lossType.isKl(),
                    "Min-SNR weighting (--snr-gamma) weights the MSE term; loss " + lossType
                            + " has none: use --loss rescaled_mse or mse");
            check(errors, noiseOffset >= 0 && Double.isFinite(noiseOffset),
                    "the noise offset (noiseOffset / --noise-offset) must be >= 0 (0 = off), got " + noiseOffset);
            check(errors, checkpointEvery >= 1, "--checkpoint-every must be at least 1");
            check(errors, keepCheckpoints >= 1, "--keep-checkpoints must be at least 1");
            check(errors, logEvery >= 1, "--log-every must be at least 1");
            Objects.requireNonNull(lrDecay, "lrDecay");
            Objects.requireNonNull(lossType, "lossType");
            Objects.requireNonNull(timestepSampler, "timestepSampler");
            Objects.requireNonNull(precision, "precision");
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException("invalid training recipe: " + String.join("; ", errors));
            }
            return new TrainingRecipe(batchSize, microBatch, steps, epochs, time, lr, beta1, beta2, adamEps,
                    weightDecay, warmupSteps, lrDecay, maxGradNorm, emaRates, uncondP, lossType, snrGamma, noiseOffset, timestepSampler,
                    seed, checkpointEvery, keepCheckpoints, logEvery, freeze, precision);
        }

        private static void check(List<String> errors, boolean ok, String message) {
            if (!ok) {
                errors.add(message);
            }
        }
    }

    /** Reads a precision by its command-line name ({@code fp32}, {@code winograd}, {@code bf16}). */
    static final class PrecisionName extends StdDeserializer<Precision> {
        PrecisionName() {
            super(Precision.class);
        }

        @Override
        public Precision deserialize(JsonParser p, DeserializationContext ctxt) throws java.io.IOException {
            return Precision.parse(p.getValueAsString());
        }
    }

    /** ISO-8601 durations ("PT1H30M"), as {@link Duration#toString()} writes them. */
    static final class IsoDuration extends StdDeserializer<Duration> {
        IsoDuration() {
            super(Duration.class);
        }

        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws java.io.IOException {
            return Duration.parse(p.getValueAsString());
        }
    }
}
