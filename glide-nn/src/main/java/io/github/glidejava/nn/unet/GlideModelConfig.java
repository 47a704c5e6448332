package io.github.glidejava.nn.unet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

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

    private final int imageSize;
    private final int numChannels;
    private final int numResBlocks;
    private final String channelMult;
    private final int numHeads;
    private final int numHeadChannels;
    private final int numHeadsUpsample;
    private final String attentionResolutions;
    private final double dropout;
    private final int textCtx;
    private final int xfWidth;
    private final int xfLayers;
    private final int xfHeads;
    private final boolean xfFinalLn;
    private final boolean xfPadding;
    private final int diffusionSteps;
    private final String noiseSchedule;
    private final String timestepRespacing;
    private final boolean useScaleShiftNorm;
    private final boolean resblockUpdown;
    private final boolean useFp16;
    private final boolean cacheTextEmb;
    private final boolean inpaint;
    private final boolean superRes;
    private final int vocabSize;
    // derived
    private final int[] channelMultiplier;
    private final int[] attentionDownsampleRates;

    private GlideModelConfig(Builder b, int[] mult, int[] attentionDs) {
        imageSize = b.imageSize;
        numChannels = b.numChannels;
        numResBlocks = b.numResBlocks;
        channelMult = b.channelMult;
        numHeads = b.numHeads;
        numHeadChannels = b.numHeadChannels;
        numHeadsUpsample = b.numHeadsUpsample;
        attentionResolutions = b.attentionResolutions;
        dropout = b.dropout;
        textCtx = b.textCtx;
        xfWidth = b.xfWidth;
        xfLayers = b.xfLayers;
        xfHeads = b.xfHeads;
        xfFinalLn = b.xfFinalLn;
        xfPadding = b.xfPadding;
        diffusionSteps = b.diffusionSteps;
        noiseSchedule = b.noiseSchedule;
        timestepRespacing = b.timestepRespacing;
        useScaleShiftNorm = b.useScaleShiftNorm;
        resblockUpdown = b.resblockUpdown;
        useFp16 = b.useFp16;
        cacheTextEmb = b.cacheTextEmb;
        inpaint = b.inpaint;
        superRes = b.superRes;
        vocabSize = b.vocabSize;
        channelMultiplier = mult;
        attentionDownsampleRates = attentionDs;
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
        Builder b = builder();
        if (options == null || !options.isObject()) {
            throw new IllegalArgumentException("GLIDE options must be a JSON object, got " + options);
        }
        List<String> unknown = new ArrayList<>();
        options.fields().forEachRemaining(e -> {
            if (!b.set(e.getKey(), e.getValue())) {
                unknown.add(e.getKey());
            }
        });
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown GLIDE model options " + unknown + "; known: "
                    + new Builder().toOptions().keySet());
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
        return toBuilder().toOptions();
    }

    /** {@link #toOptions()} as a JSON object string. */
    public String toJson() {
        ObjectNode n = JSON.valueToTree(toOptions());
        return n.toString();
    }

    // ---- accessors -------------------------------------------------------------------------------------------

    public int imageSize() {
        return imageSize;
    }

    public int numChannels() {
        return numChannels;
    }

    public int numResBlocks() {
        return numResBlocks;
    }

    /** The option as given ("" = derived from the image size). */
    public String channelMult() {
        return channelMult;
    }

    /** The channel multiplier per level, resolved. */
    public int[] channelMultiplier() {
        return channelMultiplier.clone();
    }

    public int numHeads() {
        return numHeads;
    }

    public int numHeadChannels() {
        return numHeadChannels;
    }

    public int numHeadsUpsample() {
        return numHeadsUpsample;
    }

    public String attentionResolutions() {
        return attentionResolutions;
    }

    /** Downsample rates (image_size / resolution) at which attention is used. */
    public int[] attentionDownsampleRates() {
        return attentionDownsampleRates.clone();
    }

    public double dropout() {
        return dropout;
    }

    public int textCtx() {
        return textCtx;
    }

    public int xfWidth() {
        return xfWidth;
    }

    public int xfLayers() {
        return xfLayers;
    }

    public int xfHeads() {
        return xfHeads;
    }

    public boolean xfFinalLn() {
        return xfFinalLn;
    }

    public boolean xfPadding() {
        return xfPadding;
    }

    public int diffusionSteps() {
        return diffusionSteps;
    }

    public String noiseSchedule() {
        return noiseSchedule;
    }

    public String timestepRespacing() {
        return timestepRespacing;
    }

    public boolean useScaleShiftNorm() {
        return useScaleShiftNorm;
    }

    public boolean resblockUpdown() {
        return resblockUpdown;
    }

    /** Kept for fidelity; glide-java always computes in float32. */
    public boolean useFp16() {
        return useFp16;
    }

    /** Kept for fidelity; not used. */
    public boolean cacheTextEmb() {
        return cacheTextEmb;
    }

    public boolean inpaint() {
        return inpaint;
    }

    public boolean superRes() {
        return superRes;
    }

    /** Token vocabulary size of the text encoder (GPT-2 BPE: 50257). */
    public int vocabSize() {
        return vocabSize;
    }

    /** Which of GLIDE's four models this config builds (by super_res and inpaint). */
    public GlideModelKind kind() {
        return GlideModelKind.of(superRes, inpaint);
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
        return o instanceof GlideModelConfig && ((GlideModelConfig) o).toOptions().equals(toOptions());
    }

    @Override
    public int hashCode() {
        return toOptions().hashCode();
    }

    @Override
    public String toString() {
        return "GlideModelConfig" + toOptions();
    }

    // ---- builder ---------------------------------------------------------------------------------------------

    /** Fluent builder; {@link #build()} validates the whole configuration. */
    public static final class Builder {
        private int imageSize = 64;
        private int numChannels = 192;
        private int numResBlocks = 3;
        private String channelMult = "";
        private int numHeads = 1;
        private int numHeadChannels = 64;
        private int numHeadsUpsample = -1;
        private String attentionResolutions = "32,16,8";
        private double dropout = 0.1;
        private int textCtx = 128;
        private int xfWidth = 512;
        private int xfLayers = 16;
        private int xfHeads = 8;
        private boolean xfFinalLn = true;
        private boolean xfPadding = true;
        private int diffusionSteps = 1000;
        private String noiseSchedule = "squaredcos_cap_v2";
        private String timestepRespacing = "";
        private boolean useScaleShiftNorm = true;
        private boolean resblockUpdown = true;
        private boolean useFp16 = true;
        private boolean cacheTextEmb = false;
        private boolean inpaint = false;
        private boolean superRes = false;
        private int vocabSize = GPT2_VOCAB;

        private Builder() {
        }

        private Builder(GlideModelConfig c) {
            imageSize = c.imageSize;
            numChannels = c.numChannels;
            numResBlocks = c.numResBlocks;
            channelMult = c.channelMult;
            numHeads = c.numHeads;
            numHeadChannels = c.numHeadChannels;
            numHeadsUpsample = c.numHeadsUpsample;
            attentionResolutions = c.attentionResolutions;
            dropout = c.dropout;
            textCtx = c.textCtx;
            xfWidth = c.xfWidth;
            xfLayers = c.xfLayers;
            xfHeads = c.xfHeads;
            xfFinalLn = c.xfFinalLn;
            xfPadding = c.xfPadding;
            diffusionSteps = c.diffusionSteps;
            noiseSchedule = c.noiseSchedule;
            timestepRespacing = c.timestepRespacing;
            useScaleShiftNorm = c.useScaleShiftNorm;
            resblockUpdown = c.resblockUpdown;
            useFp16 = c.useFp16;
            cacheTextEmb = c.cacheTextEmb;
            inpaint = c.inpaint;
            superRes = c.superRes;
            vocabSize = c.vocabSize;
        }

        public Builder imageSize(int v) {
            imageSize = v;
            return this;
        }

        public Builder numChannels(int v) {
            numChannels = v;
            return this;
        }

        public Builder numResBlocks(int v) {
            numResBlocks = v;
            return this;
        }

        /** Comma-separated multipliers, e.g. "1,2,3,4"; "" derives them from the image size (64, 128, 256). */
        public Builder channelMult(String v) {
            channelMult = Objects.requireNonNull(v, "channel_mult");
            return this;
        }

        public Builder numHeads(int v) {
            numHeads = v;
            return this;
        }

        /** Channels per attention head; -1 to use {@link #numHeads} heads instead. */
        public Builder numHeadChannels(int v) {
            numHeadChannels = v;
            return this;
        }

        public Builder numHeadsUpsample(int v) {
            numHeadsUpsample = v;
            return this;
        }

        /** Comma-separated resolutions at which to use attention, e.g. "32,16,8". */
        public Builder attentionResolutions(String v) {
            attentionResolutions = Objects.requireNonNull(v, "attention_resolutions");
            return this;
        }

        public Builder dropout(double v) {
            dropout = v;
            return this;
        }

        public Builder textCtx(int v) {
            textCtx = v;
            return this;
        }

        /** Width of the text transformer; 0 builds an unconditional model without a text encoder. */
        public Builder xfWidth(int v) {
            xfWidth = v;
            return this;
        }

        public Builder xfLayers(int v) {
            xfLayers = v;
            return this;
        }

        public Builder xfHeads(int v) {
            xfHeads = v;
            return this;
        }

        public Builder xfFinalLn(boolean v) {
            xfFinalLn = v;
            return this;
        }

        public Builder xfPadding(boolean v) {
            xfPadding = v;
            return this;
        }

        public Builder diffusionSteps(int v) {
            diffusionSteps = v;
            return this;
        }

        public Builder noiseSchedule(String v) {
            noiseSchedule = Objects.requireNonNull(v, "noise_schedule");
            return this;
        }

        public Builder timestepRespacing(String v) {
            timestepRespacing = Objects.requireNonNull(v, "timestep_respacing");
            return this;
        }

        public Builder useScaleShiftNorm(boolean v) {
            useScaleShiftNorm = v;
            return this;
        }

        public Builder resblockUpdown(boolean v) {
            resblockUpdown = v;
            return this;
        }

        /** Accepted for compatibility and ignored (float32 compute). */
        public Builder useFp16(boolean v) {
            useFp16 = v;
            return this;
        }

        /** Accepted for compatibility and ignored. */
        public Builder cacheTextEmb(boolean v) {
            cacheTextEmb = v;
            return this;
        }

        public Builder inpaint(boolean v) {
            inpaint = v;
            return this;
        }

        public Builder superRes(boolean v) {
            superRes = v;
            return this;
        }

        public Builder vocabSize(int v) {
            vocabSize = v;
            return this;
        }

        /** Sets one option by glide's name from JSON; false when the name is unknown. */
        boolean set(String name, JsonNode v) {
            switch (name) {
                case "image_size": imageSize = intOf(name, v); return true;
                case "num_channels": numChannels = intOf(name, v); return true;
                case "num_res_blocks": numResBlocks = intOf(name, v); return true;
                case "channel_mult": channelMult = stringOf(name, v); return true;
                case "num_heads": numHeads = intOf(name, v); return true;
                case "num_head_channels": numHeadChannels = intOf(name, v); return true;
                case "num_heads_upsample": numHeadsUpsample = intOf(name, v); return true;
                case "attention_resolutions": attentionResolutions = stringOf(name, v); return true;
                case "dropout": dropout = doubleOf(name, v); return true;
                case "text_ctx": textCtx = intOf(name, v); return true;
                case "xf_width": xfWidth = intOf(name, v); return true;
                case "xf_layers": xfLayers = intOf(name, v); return true;
                case "xf_heads": xfHeads = intOf(name, v); return true;
                case "xf_final_ln": xfFinalLn = boolOf(name, v); return true;
                case "xf_padding": xfPadding = boolOf(name, v); return true;
                case "diffusion_steps": diffusionSteps = intOf(name, v); return true;
                case "noise_schedule": noiseSchedule = stringOf(name, v); return true;
                case "timestep_respacing": timestepRespacing = stringOf(name, v); return true;
                case "use_scale_shift_norm": useScaleShiftNorm = boolOf(name, v); return true;
                case "resblock_updown": resblockUpdown = boolOf(name, v); return true;
                case "use_fp16": useFp16 = boolOf(name, v); return true;
                case "cache_text_emb": cacheTextEmb = boolOf(name, v); return true;
                case "inpaint": inpaint = boolOf(name, v); return true;
                case "super_res": superRes = boolOf(name, v); return true;
                case "n_vocab": vocabSize = intOf(name, v); return true;
                default: return false;
            }
        }

        Map<String, Object> toOptions() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("image_size", imageSize);
            m.put("num_channels", numChannels);
            m.put("num_res_blocks", numResBlocks);
            m.put("channel_mult", channelMult);
            m.put("num_heads", numHeads);
            m.put("num_head_channels", numHeadChannels);
            m.put("num_heads_upsample", numHeadsUpsample);
            m.put("attention_resolutions", attentionResolutions);
            m.put("dropout", dropout);
            m.put("text_ctx", textCtx);
            m.put("xf_width", xfWidth);
            m.put("xf_layers", xfLayers);
            m.put("xf_heads", xfHeads);
            m.put("xf_final_ln", xfFinalLn);
            m.put("xf_padding", xfPadding);
            m.put("diffusion_steps", diffusionSteps);
            m.put("noise_schedule", noiseSchedule);
            m.put("timestep_respacing", timestepRespacing);
            m.put("use_scale_shift_norm", useScaleShiftNorm);
            m.put("resblock_updown", resblockUpdown);
            m.put("use_fp16", useFp16);
            m.put("cache_text_emb", cacheTextEmb);
            m.put("inpaint", inpaint);
            m.put("super_res", superRes);
            m.put("n_vocab", vocabSize);
            return m;
        }

        private static int intOf(String name, JsonNode v) {
            if (v == null || !v.canConvertToInt() || (v.isNumber() && v.asDouble() != v.asInt())) {
                throw new IllegalArgumentException("GLIDE option " + name + " must be an integer, got " + v);
            }
            return v.asInt();
        }

        private static double doubleOf(String name, JsonNode v) {
            if (v == null || !v.isNumber()) {
                throw new IllegalArgumentException("GLIDE option " + name + " must be a number, got " + v);
            }
            return v.asDouble();
        }

        private static boolean boolOf(String name, JsonNode v) {
            if (v == null || !v.isBoolean()) {
                throw new IllegalArgumentException("GLIDE option " + name + " must be true or false, got " + v);
            }
            return v.asBoolean();
        }

        private static String stringOf(String name, JsonNode v) {
            if (v == null || v.isNull()) {
                throw new IllegalArgumentException("GLIDE option " + name + " must be a string, got " + v);
            }
            return v.isTextual() ? v.asText() : v.toString();
        }

        /** Validates every option and derived shape; errors name the option and what was expected. */
        public GlideModelConfig build() {
            List<String> errors = new ArrayList<>();
            if (imageSize <= 0) {
                errors.add("image_size must be positive, got " + imageSize);
            }
            if (numChannels <= 0) {
                errors.add("num_channels must be positive, got " + numChannels);
            }
            if (numResBlocks < 1) {
                errors.add("num_res_blocks must be >= 1, got " + numResBlocks);
            }
            int[] mult = parseChannelMult(errors);
            int[] attentionDs = parseAttention(errors);
            if (!(dropout >= 0 && dropout < 1)) {
                errors.add("dropout must be in [0, 1), got " + dropout);
            }
            if (numHeadsUpsample != -1 && numHeadsUpsample <= 0) {
                errors.add("num_heads_upsample must be -1 (same as num_heads) or positive, got " + numHeadsUpsample);
            }
            if (xfWidth < 0) {
                errors.add("xf_width must be >= 0 (0 = no text encoder), got " + xfWidth);
            } else if (xfWidth > 0) {
                if (xfLayers < 0) {
                    errors.add("xf_layers must be >= 0, got " + xfLayers);
                }
                if (xfHeads <= 0 || xfWidth % xfHeads != 0) {
                    errors.add("xf_width " + xfWidth + " must be divisible by xf_heads " + xfHeads);
                }
                if (textCtx <= 0) {
                    errors.add("text_ctx must be positive, got " + textCtx);
                }
                if (vocabSize <= 0) {
                    errors.add("n_vocab must be positive, got " + vocabSize);
                }
            }
            if (diffusionSteps <= 0) {
                errors.add("diffusion_steps must be positive, got " + diffusionSteps);
            }
            if (!noiseSchedule.equals("linear") && !noiseSchedule.equals("squaredcos_cap_v2")) {
                errors.add("noise_schedule must be linear or squaredcos_cap_v2, got '" + noiseSchedule + "'");
            }
            if (mult != null && numChannels > 0) {
                for (int i = 0; i < mult.length; i++) {
                    long ch = (long) mult[i] * numChannels;
                    if (ch % GroupNorm32.GROUPS != 0) {
                        errors.add("num_channels * channel_mult[" + i + "] = " + numChannels + " * " + mult[i] + " = "
                                + ch + " is not divisible by " + GroupNorm32.GROUPS + " GroupNorm groups");
                    }
                }
                if (attentionDs != null) {
                    checkHeads(mult, attentionDs, errors);
                }
            }
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException("invalid GLIDE model config: " + String.join("; ", errors));
            }
            return new GlideModelConfig(this, mult, attentionDs);
        }

        private int[] parseChannelMult(List<String> errors) {
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
            if (attentionResolutions.isBlank()) {
                return new int[0];
            }
            String[] parts = attentionResolutions.split(",");
            int[] ds = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                int res;
                try {
                    res = Integer.parseInt(parts[i].trim());
                } catch (NumberFormatException e) {
                    errors.add("attention_resolutions must be comma-separated integers, got '" + attentionResolutions + "'");
                    return null;
                }
                if (res <= 0) {
                    errors.add("attention_resolutions entries must be positive, got '" + attentionResolutions + "'");
                    return null;
                }
                ds[i] = imageSize / res;
            }
            return ds;
        }

        private void checkHeads(int[] mult, int[] attentionDs, List<String> errors) {
            int ds = 1;
            int upHeads = numHeadsUpsample == -1 ? numHeads : numHeadsUpsample;
            for (int level = 0; level < mult.length; level++) {
                int ch = mult[level] * numChannels;
                boolean lastLevel = level == mult.length - 1;
                if (contains(attentionDs, ds)) {
                    checkHeads(ch, numHeads, "input attention at level " + level, errors);
                    checkHeads(ch, upHeads, "output attention at level " + level, errors);
                }
                if (lastLevel) {
                    checkHeads(ch, numHeads, "middle attention", errors);
                } else {
                    ds *= 2;
                }
            }
        }

        private void checkHeads(int channels, int heads, String where, List<String> errors) {
            try {
                AttentionBlock.heads(channels, heads, numHeadChannels, where);
            } catch (IllegalArgumentException e) {
                String msg = e.getMessage();
                if (!errors.contains(msg)) {
                    errors.add(msg);
                }
            }
        }

        private static boolean contains(int[] a, int v) {
            return Arrays.stream(a).anyMatch(x -> x == v);
        }
    }
}
