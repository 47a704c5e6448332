package io.github.glidejava.nn.clip;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The noised CLIP model's configuration, with the keys and defaults of glide_text2im/clip/config.yaml (the
 * released {@code clip/image-enc} / {@code clip/text-enc} checkpoints). Text width = {@code nHeadText *
 * nHeadStateText}, image width = {@code nHeadImage * nHeadStateImage}; {@code nEmbd} is the joint embedding width;
 * {@code nTimesteps} is the number of rows of the timestep table (the diffusion's un-respaced steps).
 */
public final class ClipConfig {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** config.yaml's keys, in its order. */
    private static final Set<String> KEYS = Set.of("logit_scale", "beta_schedule", "n_timesteps", "image_size",
            "patch_size", "n_vocab", "max_text_len", "n_embd", "n_head_state_text", "n_head_text", "n_xf_blocks_text",
            "n_head_state_image", "n_head_image", "n_xf_blocks_image");

    private final double logitScale;
    private final String betaSchedule;
    private final int nTimesteps;
    private final int imageSize;
    private final int patchSize;
    private final int nVocab;
    private final int maxTextLen;
    private final int nEmbd;
    private final int nHeadStateText;
    private final int nHeadText;
    private final int nXfBlocksText;
    private final int nHeadStateImage;
    private final int nHeadImage;
    private final int nXfBlocksImage;

    private ClipConfig(Builder b) {
        this.logitScale = b.logitScale;
        this.betaSchedule = b.betaSchedule;
        this.nTimesteps = b.nTimesteps;
        this.imageSize = b.imageSize;
        this.patchSize = b.patchSize;
        this.nVocab = b.nVocab;
        this.maxTextLen = b.maxTextLen;
        this.nEmbd = b.nEmbd;
        this.nHeadStateText = b.nHeadStateText;
        this.nHeadText = b.nHeadText;
        this.nXfBlocksText = b.nXfBlocksText;
        this.nHeadStateImage = b.nHeadStateImage;
        this.nHeadImage = b.nHeadImage;
        this.nXfBlocksImage = b.nXfBlocksImage;
    }

    /** glide_text2im/clip/config.yaml: the released noised CLIP (64x64 images, 12 + 12 blocks, width 512 / 768). */
    public static ClipConfig released() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.logitScale = logitScale;
        b.betaSchedule = betaSchedule;
        b.nTimesteps = nTimesteps;
        b.imageSize = imageSize;
        b.patchSize = patchSize;
        b.nVocab = nVocab;
        b.maxTextLen = maxTextLen;
        b.nEmbd = nEmbd;
        b.nHeadStateText = nHeadStateText;
        b.nHeadText = nHeadText;
        b.nXfBlocksText = nXfBlocksText;
        b.nHeadStateImage = nHeadStateImage;
        b.nHeadImage = nHeadImage;
        b.nXfBlocksImage = nXfBlocksImage;
        return b;
    }

    /**
     * Reads a config in config.yaml's keys from JSON (e.g. the fixtures' {@code config_tiny.json}); keys left out
     * keep config.yaml's values.
     *
     * @throws IllegalArgumentException naming an unknown key, a value of the wrong type or an invalid setting
     */
    public static ClipConfig fromJson(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("CLIP config is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("CLIP config must be a JSON object with config.yaml's keys " + KEYS);
        }
        Builder b = builder();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            JsonNode v = e.getValue();
            switch (k) {
                case "logit_scale" -> b.logitScale(number(k, v));
                case "beta_schedule" -> {
                    if (!v.isTextual()) {
                        throw new IllegalArgumentException("CLIP config beta_schedule must be a string, got " + v);
                    }
                    b.betaSchedule(v.asText());
                }
                case "n_timesteps" -> b.nTimesteps(integer(k, v));
                case "image_size" -> b.imageSize(integer(k, v));
                case "patch_size" -> b.patchSize(integer(k, v));
                case "n_vocab" -> b.nVocab(integer(k, v));
                case "max_text_len" -> b.maxTextLen(integer(k, v));
                case "n_embd" -> b.nEmbd(integer(k, v));
                case "n_head_state_text" -> b.nHeadStateText(integer(k, v));
                case "n_head_text" -> b.nHeadText(integer(k, v));
                case "n_xf_blocks_text" -> b.nXfBlocksText(integer(k, v));
                case "n_head_state_image" -> b.nHeadStateImage(integer(k, v));
                case "n_head_image" -> b.nHeadImage(integer(k, v));
                case "n_xf_blocks_image" -> b.nXfBlocksImage(integer(k, v));
                default -> throw new IllegalArgumentException("unknown CLIP config key '" + k + "'; expected one of " + KEYS);
            }
        }
        return b.build();
    }

    /** {@link #fromJson(String)} of a file. */
    public static ClipConfig load(Path file) throws IOException {
        try {
            return fromJson(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static double number(String key, JsonNode v) {
        if (!v.isNumber()) {
            throw new IllegalArgumentException("CLIP config " + key + " must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static int integer(String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("CLIP config " + key + " must be an integer, got " + v);
        }
        return v.asInt();
    }

    /** The config as JSON with config.yaml's keys. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("logit_scale", logitScale);
        m.put("beta_schedule", betaSchedule);
        m.put("n_timesteps", nTimesteps);
        m.put("image_size", imageSize);
        m.put("patch_size", patchSize);
        m.put("n_vocab", nVocab);
        m.put("max_text_len", maxTextLen);
        m.put("n_embd", nEmbd);
        m.put("n_head_state_text", nHeadStateText);
        m.put("n_head_text", nHeadText);
        m.put("n_xf_blocks_text", nXfBlocksText);
        m.put("n_head_state_image", nHeadStateImage);
        m.put("n_head_image", nHeadImage);
        m.put("n_xf_blocks_image", nXfBlocksImage);
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public double logitScale() {
        return logitScale;
    }

    public String betaSchedule() {
        return betaSchedule;
    }

    public int nTimesteps() {
        return nTimesteps;
    }

    public int imageSize() {
        return imageSize;
    }

    public int patchSize() {
        return patchSize;
    }

    public int nVocab() {
        return nVocab;
    }

    public int maxTextLen() {
        return maxTextLen;
    }

    public int nEmbd() {
        return nEmbd;
    }

    public int nHeadStateText() {
        return nHeadStateText;
    }

    public int nHeadText() {
        return nHeadText;
    }

    public int nXfBlocksText() {
        return nXfBlocksText;
    }

    public int nHeadStateImage() {
        return nHeadStateImage;
    }

    public int nHeadImage() {
        return nHeadImage;
    }

    public int nXfBlocksImage() {
        return nXfBlocksImage;
    }

    /** Width of the text transformer. */
    public int textWidth() {
        return nHeadText * nHeadStateText;
    }

    /** Width of the image transformer. */
    public int imageWidth() {
        return nHeadImage * nHeadStateImage;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClipConfig c && c.toJson().equals(toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "ClipConfig" + toJson();
    }

    /** Starts from config.yaml's values; {@link #build()} validates. */
    public static final class Builder {
        private double logitScale = 100.0;
        private String betaSchedule = "squaredcos_cap_v2";
        private int nTimesteps = 1000;
        private int imageSize = 64;
        private int patchSize = 4;
        private int nVocab = 65536;
        private int maxTextLen = 77;
        private int nEmbd = 512;
        private int nHeadStateText = 64;
        private int nHeadText = 8;
        private int nXfBlocksText = 12;
        private int nHeadStateImage = 64;
        private int nHeadImage = 12;
        private int nXfBlocksImage = 12;

        private Builder() {
        }

        public Builder logitScale(double v) {
            this.logitScale = v;
            return this;
        }

        public Builder betaSchedule(String v) {
            this.betaSchedule = v;
            return this;
        }

        public Builder nTimesteps(int v) {
            this.nTimesteps = v;
            return this;
        }

        public Builder imageSize(int v) {
            this.imageSize = v;
            return this;
        }

        public Builder patchSize(int v) {
            this.patchSize = v;
            return this;
        }

        public Builder nVocab(int v) {
            this.nVocab = v;
            return this;
        }

        public Builder maxTextLen(int v) {
            this.maxTextLen = v;
            return this;
        }

        public Builder nEmbd(int v) {
            this.nEmbd = v;
            return this;
        }

        public Builder nHeadStateText(int v) {
            this.nHeadStateText = v;
            return this;
        }

        public Builder nHeadText(int v) {
            this.nHeadText = v;
            return this;
        }

        public Builder nXfBlocksText(int v) {
            this.nXfBlocksText = v;
            return this;
        }

        public Builder nHeadStateImage(int v) {
            this.nHeadStateImage = v;
            return this;
        }

        public Builder nHeadImage(int v) {
            this.nHeadImage = v;
            return this;
        }

        public Builder nXfBlocksImage(int v) {
            this.nXfBlocksImage = v;
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid setting and what is expected */
        public ClipConfig build() {
            if (!(logitScale > 0) || Double.isInfinite(logitScale)) {
                throw new IllegalArgumentException("logit_scale must be a positive finite number, got " + logitScale);
            }
            if (betaSchedule == null || betaSchedule.isBlank()) {
                throw new IllegalArgumentException("beta_schedule must be a schedule name, got " + betaSchedule);
            }
            positive("n_timesteps", nTimesteps);
            positive("image_size", imageSize);
            positive("patch_size", patchSize);
            if (imageSize % patchSize != 0) {
                throw new IllegalArgumentException("image_size " + imageSize + " must be a multiple of patch_size " + patchSize);
            }
            positive("n_vocab", nVocab);
            if (maxTextLen < 2) {
                throw new IllegalArgumentException("max_text_len must be at least 2 (start and end token), got " + maxTextLen);
            }
            positive("n_embd", nEmbd);
            positive("n_head_state_text", nHeadStateText);
            positive("n_head_text", nHeadText);
            positive("n_xf_blocks_text", nXfBlocksText);
            positive("n_head_state_image", nHeadStateImage);
            positive("n_head_image", nHeadImage);
            positive("n_xf_blocks_image", nXfBlocksImage);
            return new ClipConfig(this);
        }

        private static void positive(String name, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + " must be positive, got " + v);
            }
        }
    }
}
