package io.github.glidejava.nn.unet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.GroupNorm32;

/**
 * GLIDE's model options, named as in glide-text2im's {@code model_and_diffusion_defaults()} (a JDK-style immutable
 * value with a fluent builder validated in {@link Builder#build()}). Presets: {@link #base()} (64x64 text-to-image),
 * {@link #upsample()} (64 -> 256 super-resolution), {@link #baseInpaint()}, {@link #upsampleInpaint()}.
 *
 * <p>{@code use_fp16} and {@code cache_text_emb} are kept for fidelity but ignored: glide-java computes in float32
 * and fp16 checkpoints are up-cast when loaded. The diffusion options ({@code diffusion_steps}, {@code noise_schedule},
 * {@code timestep_respacing}) are carried for the sampler; the network does not use them.
 */
public final class GlideModelConfig {
    /** GPT-2 BPE vocabulary size of GLIDE's tokenizer. */
    public static final int GPT2_VOCAB = 50257;

    // ---- the options: glide's name, type, default and what a valid value is, in model_and_diffusion_defaults()
    // order. The builder, the accessors, JSON reading and writing and toOptions all go through this table.

    private static final Map<String, Option<?>> OPTIONS = new LinkedHashMap<>();

    private static final Option<Integer> IMAGE_SIZE = option("image_size", Integer.class, 64, v -> v > 0, "positive");
    private static final Option<Integer> NUM_CHANNELS = option("num_channels", Integer.class, 192, v -> v > 0,
            "positive");
    private static final Option<Integer> NUM_RES_BLOCKS = option("num_res_blocks", Integer.class, 3, v -> v >= 1,
            ">= 1");
    private static final Option<String> CHANNEL_MULT = option("channel_mult", String.class, "", v -> true, "");
    private static final Option<Integer> NUM_HEADS = option("num_heads", Integer.class, 1, v -> true, "");
    private static final Option<Integer> NUM_HEAD_CHANNELS = option("num_head_channels", Integer.class, 64,
            v -> true, "");
    private static final Option<Integer> NUM_HEADS_UPSAMPLE = option("num_heads_upsample", Integer.class, -1,
            v -> v == -1 || v > 0, "-1 (same as num_heads) or positive");
    private static final Option<String> ATTENTION_RESOLUTIONS = option("attention_resolutions", String.class,
            "32,16,8", v -> true, "");
    private static final Option<Double> DROPOUT = option("dropout", Double.class, 0.1, v -> v >= 0 && v < 1,
            "in [0, 1)");
    private static final Option<Integer> TEXT_CTX = option("text_ctx", Integer.class, 128, v -> true, "");
    private static final Option<Integer> XF_WIDTH = option("xf_width", Integer.class, 512, v -> v >= 0,
            ">= 0 (0 = no text encoder)");
    private static final Option<Integer> XF_LAYERS = option("xf_layers", Integer.class, 16, v -> true, "");
    private static final Option<Integer> XF_HEADS = option("xf_heads", Integer.class, 8, v -> true, "");
    private static final Option<Boolean> XF_FINAL_LN = option("xf_final_ln", Boolean.class, true, v -> true, "");
    private static final Option<Boolean> XF_PADDING = option("xf_padding", Boolean.class, true, v -> true, "");
    private static final Option<Integer> DIFFUSION_STEPS = option("diffusion_steps", Integer.class, 1000, v -> v > 0,
            "positive");
    private static final Option<String> NOISE_SCHEDULE = option("noise_schedule", String.class, "squaredcos_cap_v2",
            v -> v.equals("linear") || v.equals("squaredcos_cap_v2"), "linear or squaredcos_cap_v2");
    private static final Option<String> TIMESTEP_RESPACING = option("timestep_respacing", String.class, "",
            v -> true, "");
    private static final Option<Boolean> USE_SCALE_SHIFT_NORM = option("use_scale_shift_norm", Boolean.class, true,
            v -> true, "");
    private static final Option<Boolean> RESBLOCK_UPDOWN = option("resblock_updown", Boolean.class, true, v -> true,
            "");
    private static final Option<Boolean> USE_FP16 = option("use_fp16", Boolean.class, true, v -> true, "");
    private static final Option<Boolean> CACHE_TEXT_EMB = option("cache_text_emb", Boolean.class, false, v -> true,
            "");
    private static final Option<Boolean> INPAINT = option("inpaint", Boolean.class, false, v -> true, "");
    private static final Option<Boolean> SUPER_RES = option("super_res", Boolean.class, false, v -> true, "");
    /** Not a glide option (glide's tokenizer fixes it); named as the text transformer's n_vocab. */
    private static final Option<Integer> N_VOCAB = option("n_vocab", Integer.class, GPT2_VOCAB, v -> true, "");

    /**
     * One option. {@code valid} checks the value alone ({@code expected} says what it must be, for the message);
     * checks that involve several options are in {@link Builder#build()}.
     */
    private record Option<V>(String name, Class<V> type, V defaultValue, Predicate<V> valid, String expected) {
        /** The value of a JSON node, with an error naming the option when it has the wrong type. */
        V read(JsonNode v) {
            Object value;
            if (type == Integer.class) {
                if (v == null || !v.canConvertToInt() || (v.isNumber() && v.asDouble() != v.asInt())) {
                    throw new IllegalArgumentException("GLIDE option " + name + " must be an integer, got " + v);
                }
                value = v.asInt();
            } else if (type == Double.class) {
                if (v == null || !v.isNumber()) {
                    throw new IllegalArgumentException("GLIDE option " + name + " must be a number, got " + v);
                }
                value = v.asDouble();
            } else if (type == Boolean.class) {
                if (v == null || !v.isBoolean()) {
                    throw new IllegalArgumentException("GLIDE option " + name + " must be true or false, got " + v);
                }
                value = v.asBoolean();
            } else {
                if (v == null || v.isNull()) {
                    throw new IllegalArgumentException("GLIDE option " + name + " must be a string, got " + v);
                }
                value = v.isTextual() ? v.asText() : v.toString();
            }
            return type.cast(value);
        }

        /** The check of the value alone, or null when it passes. */
        String check(Object value) {
            return valid.test(type.cast(value)) ? null : name + " must be " + expected + ", got "
                    + (value instanceof String ? "'" + value + "'" : value);
        }
    }

    private static <V> Option<V> option(String name, Class<V> type, V defaultValue, Predicate<V> valid,
                                        String expected) {
        Option<V> o = new Option<>(name, type, defaultValue, valid, expected);
        OPTIONS.put(name, o);
        return o;
    }

    /** Option name -> value, in table order (immutable). */
    private final Map<String, Object> values;
    // derived
    private final int[] channelMultiplier;
    private final int[] attentionDownsampleRates;

    private GlideModelConfig(Map<String, Object> values, int[] mult, int[] attentionDs) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.channelMultiplier = mult;
        this.attentionDownsampleRates = attentionDs;
    }

    private <V> V get(Option<V> o) {
        return o.type().cast(values.get(o.name()));
    }

    // ---- presets -------------------------------------------------------------------------------------------

    /** glide-text2im's {@code model_and_diffusion_defaults()}: the 64x64 text-conditional base model. */
    public static GlideModelConfig base() {
        return GlideModelKind.BASE.preset();
    }

    /** glide-text2im's {@code model_and_diffusion_defaults_upsampler()}: the 64 -> 256 text-conditional upsampler. */
    public static GlideModelConfig upsample() {
        return GlideModelKind.UPSAMPLE.preset();
    }

    /** The base model for inpainting ({@code base-inpaint}): base defaults with {@code inpaint=True}. */
    public static GlideModelConfig baseInpaint() {
        return GlideModelKind.BASE_INPAINT.preset();
    }

    /** The upsampler for inpainting ({@code upsample-inpaint}): upsampler defaults with {@code inpaint=True}. */
    public static GlideModelConfig upsampleInpaint() {
        return GlideModelKind.UPSAMPLE_INPAINT.preset();
    }

    /** A preset by glide's checkpoint name: base, upsample, base-inpaint, upsample-inpaint. */
    public static GlideModelConfig preset(String name) {
        return GlideModelKind.parse(Objects.requireNonNull(name, "preset name")).preset();
    }

    /** A builder holding {@code model_and_diffusion_defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding {@code model_and_diffusion_defaults_upsampler()}. */
    public static Builder upsampleBuilder() {
        return new Builder().imageSize(256).numResBlocks(2).noiseSchedule("linear").superRes(true);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    // ---- glide option maps ------------------------------------------------------------------------------------

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A config from glide's option names (e.g. the {@code options} object of a fixture or of
     * {@code model_and_diffusion_defaults()} as JSON); options not given keep their defaults. Unknown names are an
     * error.
     */
    public static GlideModelConfig fromOptions(JsonNode options) {
        if (options == null || !options.isObject()) {
            throw new IllegalArgumentException("GLIDE options must be a JSON object, got " + options);
        }
        Builder b = builder();
        List<String> unknown = new ArrayList<>();
        options.fields().forEachRemaining(e -> {
            Option<?> o = OPTIONS.get(e.getKey());
            if (o == null) {
                unknown.add(e.getKey());
            } else {
                b.values.put(o.name(), o.read(e.getValue()));
            }
        });
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown GLIDE model options " + unknown + "; known: "
                    + OPTIONS.keySet());
        }
        return b.build();
    }

    /** {@link #fromOptions(JsonNode)} from a JSON string. */
    public static GlideModelConfig fromJson(String json) {
        try {
            return fromOptions(JSON.readTree(json));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("GLIDE options are not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The options under glide's names, in {@code model_and_diffusion_defaults()} order. */
    public Map<String, Object> toOptions() {
        return new LinkedHashMap<>(values);
    }

    /** {@link #toOptions()} as a JSON object string. */
    public String toJson() {
        ObjectNode n = JSON.valueToTree(toOptions());
        return n.toString();
    }

    // ---- accessors -------------------------------------------------------------------------------------------

    public int imageSize() {
        return get(IMAGE_SIZE);
    }

    public int numChannels() {
        return get(NUM_CHANNELS);
    }

    public int numResBlocks() {
        return get(NUM_RES_BLOCKS);
    }

    /** The option as given ("" = derived from the image size). */
    public String channelMult() {
        return get(CHANNEL_MULT);
    }

    /** The channel multiplier per level, resolved. */
    public int[] channelMultiplier() {
        return channelMultiplier.clone();
    }

    public int numHeads() {
        return get(NUM_HEADS);
    }

    public int numHeadChannels() {
        return get(NUM_HEAD_CHANNELS);
    }

    public int numHeadsUpsample() {
        return get(NUM_HEADS_UPSAMPLE);
    }

    public String attentionResolutions() {
        return get(ATTENTION_RESOLUTIONS);
    }

    /** Downsample rates (image_size / resolution) at which attention is used. */
    public int[] attentionDownsampleRates() {
        return attentionDownsampleRates.clone();
    }

    public double dropout() {
        return get(DROPOUT);
    }

    public int textCtx() {
        return get(TEXT_CTX);
    }

    public int xfWidth() {
        return get(XF_WIDTH);
    }

    public int xfLayers() {
        return get(XF_LAYERS);
    }

    public int xfHeads() {
        return get(XF_HEADS);
    }

    public boolean xfFinalLn() {
        return get(XF_FINAL_LN);
    }

    public boolean xfPadding() {
        return get(XF_PADDING);
    }

    public int diffusionSteps() {
        return get(DIFFUSION_STEPS);
    }

    public String noiseSchedule() {
        return get(NOISE_SCHEDULE);
    }

    public String timestepRespacing() {
        return get(TIMESTEP_RESPACING);
    }

    public boolean useScaleShiftNorm() {
        return get(USE_SCALE_SHIFT_NORM);
    }

    public boolean resblockUpdown() {
        return get(RESBLOCK_UPDOWN);
    }

    /** Kept for fidelity; glide-java always computes in float32. */
    public boolean useFp16() {
        return get(USE_FP16);
    }

    /** Kept for fidelity; not used. */
    public boolean cacheTextEmb() {
        return get(CACHE_TEXT_EMB);
    }

    public boolean inpaint() {
        return get(INPAINT);
    }

    public boolean superRes() {
        return get(SUPER_RES);
    }

    /** Token vocabulary size of the text encoder (GPT-2 BPE: 50257). */
    public int vocabSize() {
        return get(N_VOCAB);
    }

    /** Which of GLIDE's four models this config builds (by super_res and inpaint). */
    public GlideModelKind kind() {
        return GlideModelKind.of(superRes(), inpaint());
    }

    /** Channels of the image input (3). */
    public int imageChannels() {
        return GlideModelKind.IMAGE_CHANNELS;
    }

    /** Channels the U-Net's first convolution takes: 3, x2 for super-resolution, +3+1 for inpainting. */
    public int unetInChannels() {
        return kind().inChannels();
    }

    /** Output channels: 3 epsilon + 3 variance values. */
    public int outChannels() {
        return 2 * GlideModelKind.IMAGE_CHANNELS;
    }

    /** The glide-text2im class this config builds. */
    public String modelClass() {
        return kind().modelClass();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GlideModelConfig && ((GlideModelConfig) o).values.equals(values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return "GlideModelConfig" + toOptions();
    }

    // ---- builder ---------------------------------------------------------------------------------------------

    /** Fluent builder (one setter per option, named as glide's); {@link #build()} validates the whole configuration. */
    public static final class Builder {
        private final Map<String, Object> values = new LinkedHashMap<>();

        private Builder() {
            OPTIONS.values().forEach(o -> values.put(o.name(), o.defaultValue()));
        }

        private Builder(GlideModelConfig c) {
            values.putAll(c.values);
        }

        private <V> Builder set(Option<V> o, V v) {
            values.put(o.name(), Objects.requireNonNull(v, o.name()));
            return this;
        }

        private <V> V get(Option<V> o) {
            return o.type().cast(values.get(o.name()));
        }

        public Builder imageSize(int v) {
            return set(IMAGE_SIZE, v);
        }

        public Builder numChannels(int v) {
            return set(NUM_CHANNELS, v);
        }

        public Builder numResBlocks(int v) {
            return set(NUM_RES_BLOCKS, v);
        }

        /** Comma-separated multipliers, e.g. "1,2,3,4"; "" derives them from the image size (64, 128, 256). */
        public Builder channelMult(String v) {
            return set(CHANNEL_MULT, v);
        }

        public Builder numHeads(int v) {
            return set(NUM_HEADS, v);
        }

        /** Channels per attention head; -1 to use {@link #numHeads} heads instead. */
        public Builder numHeadChannels(int v) {
            return set(NUM_HEAD_CHANNELS, v);
        }

        public Builder numHeadsUpsample(int v) {
            return set(NUM_HEADS_UPSAMPLE, v);
        }

        /** Comma-separated resolutions at which to use attention, e.g. "32,16,8". */
        public Builder attentionResolutions(String v) {
            return set(ATTENTION_RESOLUTIONS, v);
        }

        public Builder dropout(double v) {
            return set(DROPOUT, v);
        }

        public Builder textCtx(int v) {
            return set(TEXT_CTX, v);
        }

        /** Width of the text transformer; 0 builds an unconditional model without a text encoder. */
        public Builder xfWidth(int v) {
            return set(XF_WIDTH, v);
        }

        public Builder xfLayers(int v) {
            return set(XF_LAYERS, v);
        }

        public Builder xfHeads(int v) {
            return set(XF_HEADS, v);
        }

        public Builder xfFinalLn(boolean v) {
            return set(XF_FINAL_LN, v);
        }

        public Builder xfPadding(boolean v) {
            return set(XF_PADDING, v);
        }

        public Builder diffusionSteps(int v) {
            return set(DIFFUSION_STEPS, v);
        }

        public Builder noiseSchedule(String v) {
            return set(NOISE_SCHEDULE, v);
        }

        public Builder timestepRespacing(String v) {
            return set(TIMESTEP_RESPACING, v);
        }

        public Builder useScaleShiftNorm(boolean v) {
            return set(USE_SCALE_SHIFT_NORM, v);
        }

        public Builder resblockUpdown(boolean v) {
            return set(RESBLOCK_UPDOWN, v);
        }

        /** Accepted for compatibility and ignored (float32 compute). */
        public Builder useFp16(boolean v) {
            return set(USE_FP16, v);
        }

        /** Accepted for compatibility and ignored. */
        public Builder cacheTextEmb(boolean v) {
            return set(CACHE_TEXT_EMB, v);
        }

        public Builder inpaint(boolean v) {
            return set(INPAINT, v);
        }

        public Builder superRes(boolean v) {
            return set(SUPER_RES, v);
        }

        public Builder vocabSize(int v) {
            return set(N_VOCAB, v);
        }

        /** Validates every option and derived shape; errors name the option and what was expected. */
        public GlideModelConfig build() {
            List<String> errors = new ArrayList<>();
            for (Option<?> o : OPTIONS.values()) {
                String error = o.check(values.get(o.name()));
                if (error != null) {
                    errors.add(error);
                }
            }
            int[] mult = parseChannelMult(errors);
            int[] attentionDs = parseAttention(errors);
            int xfWidth = get(XF_WIDTH);
            if (xfWidth > 0) {
                if (get(XF_LAYERS) < 0) {
                    errors.add("xf_layers must be >= 0, got " + get(XF_LAYERS));
                }
                if (get(XF_HEADS) <= 0 || xfWidth % get(XF_HEADS) != 0) {
                    errors.add("xf_width " + xfWidth + " must be divisible by xf_heads " + get(XF_HEADS));
                }
                if (get(TEXT_CTX) <= 0) {
                    errors.add("text_ctx must be positive, got " + get(TEXT_CTX));
                }
                if (get(N_VOCAB) <= 0) {
                    errors.add("n_vocab must be positive, got " + get(N_VOCAB));
                }
            }
            int channels = get(NUM_CHANNELS);
            if (mult != null && channels > 0) {
                for (int i = 0; i < mult.length; i++) {
                    long ch = (long) mult[i] * channels;
                    if (ch % GroupNorm32.GROUPS != 0) {
                        errors.add("num_channels * channel_mult[" + i + "] = " + channels + " * " + mult[i] + " = "
                                + ch + " is not divisible by " + GroupNorm32.GROUPS + " GroupNorm groups");
                    }
                }
                if (attentionDs != null && get(NUM_RES_BLOCKS) >= 1) {
                    checkHeads(mult, attentionDs, errors);
                }
            }
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException("invalid GLIDE model config: " + String.join("; ", errors));
            }
            return new GlideModelConfig(values, mult, attentionDs);
        }

        private int[] parseChannelMult(List<String> errors) {
            String channelMult = get(CHANNEL_MULT);
            int imageSize = get(IMAGE_SIZE);
            if (channelMult.isBlank()) {
                switch (imageSize) {
                    case 256:
                        return new int[] {1, 1, 2, 2, 4, 4};
                    case 128:
                        return new int[] {1, 1, 2, 3, 4};
                    case 64:
                        return new int[] {1, 2, 3, 4};
                    default:
                        errors.add("channel_mult is empty and image_size " + imageSize
                                + " has no default (64, 128, 256); give channel_mult, e.g. \"1,2\"");
                        return null;
                }
            }
            String[] parts = channelMult.split(",");
            int[] m = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    m[i] = Integer.parseInt(parts[i].trim());
                } catch (NumberFormatException e) {
                    errors.add("channel_mult must be comma-separated integers, got '" + channelMult + "'");
                    return null;
                }
                if (m[i] <= 0) {
                    errors.add("channel_mult entries must be positive, got '" + channelMult + "'");
                    return null;
                }
            }
            // glide's create_model asserts 2 ** (len(channel_mult) + 2) == image_size
            if (imageSize > 0 && (m.length + 2 >= 31 || (1 << (m.length + 2)) != imageSize)) {
                errors.add("channel_mult '" + channelMult + "' has " + m.length + " levels, so image_size must be 2^("
                        + m.length + "+2) = " + (m.length + 2 < 31 ? (1 << (m.length + 2)) : "too large")
                        + ", got " + imageSize);
            }
            return m;
        }

        private int[] parseAttention(List<String> errors) {
            String resolutions = get(ATTENTION_RESOLUTIONS);
            if (resolutions.isBlank()) {
                return new int[0];
            }
            String[] parts = resolutions.split(",");
            int[] ds = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                int res;
                try {
                    res = Integer.parseInt(parts[i].trim());
                } catch (NumberFormatException e) {
                    errors.add("attention_resolutions must be comma-separated integers, got '" + resolutions + "'");
                    return null;
                }
                if (res <= 0) {
                    errors.add("attention_resolutions entries must be positive, got '" + resolutions + "'");
                    return null;
                }
                ds[i] = get(IMAGE_SIZE) / res;
            }
            return ds;
        }

        /** Every attention block's channels must split into its heads. */
        private void checkHeads(int[] mult, int[] attentionDs, List<String> errors) {
            int heads = get(NUM_HEADS);
            int upHeads = get(NUM_HEADS_UPSAMPLE) == -1 ? heads : get(NUM_HEADS_UPSAMPLE);
            for (UNetBlocks.Block b : UNetBlocks.of(mult, get(NUM_RES_BLOCKS), attentionDs).attentionBlocks()) {
                int h = b.part() == UNetBlocks.Part.OUTPUT ? upHeads : heads;
                try {
                    AttentionBlock.heads(mult[b.level()] * get(NUM_CHANNELS), h, get(NUM_HEAD_CHANNELS),
                            b.part().label() + " attention at level " + b.level());
                } catch (IllegalArgumentException e) {
                    if (!errors.contains(e.getMessage())) {
                        errors.add(e.getMessage());
                    }
                }
            }
        }
    }
}
