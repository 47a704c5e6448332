package io.github.glidejava.diffusion.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.nn.ops.Precision;

/**
 * Everything that determines a pipeline call's images: written into every PNG the pipeline saves (see
 * {@link #toPngText(int)}) so that an image says how it was made.
 *
 * @param task                "text-to-image", "inpaint" or "upsample"
 * @param baseModel           the base model's name (checkpoint file name), null for upsample calls
 * @param sampler             base-stage sampler ("ddpm", ...), null when there is no base stage
 * @param steps               base-stage timestep respacing ("100", "ddim50", "fast27", ...)
 * @param guidanceScale       classifier-free guidance scale of the base stage
 * @param upsampler           the upsampler's name, null when the call did not upsample
 * @param upsampleSampler     upsampling sampler, null without upsampler
 * @param upsampleSteps       upsampling respacing
 * @param upsampleTemperature factor on the upsampler's initial noise
 * @param imagesPerPrompt     images the call produced
 * @param batchSize           images sampled at once (the noise depends on it)
 * @param samplerOptions         the base sampler's options that differ from its defaults (e.g. {@code eta}), null
 *                               when there is no base stage
 * @param upsampleSamplerOptions the same for the upsampling sampler, null without upsampler
 * @param clipGuidanceScale      CLIP guidance scale of the base stage, null without CLIP guidance (then
 *                               {@code guidanceScale} is 1: no classifier-free guidance)
 * @param precision              how the convolutions computed when not exactly in float32 ("winograd", "bf16"),
 *                               null for float32
 */
public record GenerationParameters(
        String task,
        String prompt,
        long seed,
        String baseModel,
        String sampler,
        String steps,
        double guidanceScale,
        String upsampler,
        String upsampleSampler,
        String upsampleSteps,
        double upsampleTemperature,
        int imagesPerPrompt,
        int batchSize,
        int width,
        int height,
        Map<String, Object> samplerOptions,
        Map<String, Object> upsampleSamplerOptions,
        Double clipGuidanceScale,
        String precision) {

    /** PNG text key holding these parameters as JSON. */
    public static final String PNG_KEY = "glide";
    private static final ObjectMapper JSON = new ObjectMapper();

    public GenerationParameters {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(prompt, "prompt");
        samplerOptions = samplerOptions == null ? null
                : Collections.unmodifiableMap(new LinkedHashMap<>(samplerOptions));
        upsampleSamplerOptions = upsampleSamplerOptions == null ? null
                : Collections.unmodifiableMap(new LinkedHashMap<>(upsampleSamplerOptions));
    }

    /** Parameters without CLIP guidance. */
    public GenerationParameters(String task, String prompt, long seed, String baseModel, String sampler, String steps,
                                double guidanceScale, String upsampler, String upsampleSampler, String upsampleSteps,
                                double upsampleTemperature, int imagesPerPrompt, int batchSize, int width, int height,
                                Map<String, Object> samplerOptions, Map<String, Object> upsampleSamplerOptions) {
        this(task, prompt, seed, baseModel, sampler, steps, guidanceScale, upsampler, upsampleSampler, upsampleSteps,
                upsampleTemperature, imagesPerPrompt, batchSize, width, height, samplerOptions, upsampleSamplerOptions,
                null, null);
    }

    /**
     * The parameters of a pipeline call: {@code base} null for upsampling calls, {@code upsampler} null when the
     * call did not upsample; the settings of a stage that did not run are left out.
     */
    static GenerationParameters of(String task, String prompt, long seed, GlideModel base, GlideModel upsampler,
                                   PipelineSettings s, int batchSize, int width, int height) {
        boolean b = base != null;
        boolean u = upsampler != null;
        Double clip = b ? s.clipGuidanceScale() : null;
        return new GenerationParameters(task, prompt, seed, b ? base.name() : null,
                b ? s.sampler().configName() : null, b ? s.steps() : null, b ? (clip != null ? 1.0 : s.guidanceScale()) : 0,
                u ? upsampler.name() : null, u ? s.upsampleSampler(upsampler.kind()).configName() : null,
                u ? s.upsampleSteps() : null, u ? s.upsampleTemperature() : 0, s.imagesPerPrompt(), batchSize,
                width, height, b ? s.samplerOptions().describe() : null,
                u ? s.upsampleSamplerOptions().describe() : null, clip,
                s.precision() == Precision.FP32 ? null : s.precision().id());
    }

    /** The parameters as an ordered map (JSON field names = record component names). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", task);
        m.put("prompt", prompt);
        m.put("seed", seed);
        m.put("baseModel", baseModel);
        m.put("sampler", sampler);
        m.put("steps", steps);
        m.put("guidanceScale", guidanceScale);
        m.put("upsampler", upsampler);
        m.put("upsampleSampler", upsampleSampler);
        m.put("upsampleSteps", upsampleSteps);
        m.put("upsampleTemperature", upsampleTemperature);
        m.put("imagesPerPrompt", imagesPerPrompt);
        m.put("batchSize", batchSize);
        m.put("width", width);
        m.put("height", height);
        m.put("samplerOptions", samplerOptions);
        m.put("upsampleSamplerOptions", upsampleSamplerOptions);
        if (clipGuidanceScale != null) {
            m.put("clipGuidanceScale", clipGuidanceScale);
        }
        if (precision != null) {
            m.put("precision", precision);
        }
        return m;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(toMap());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * PNG text entries for image {@code index} of the call: {@code Software}, {@code Description} (the prompt), and
     * {@value #PNG_KEY} (these parameters as JSON, plus the image's index).
     */
    public Map<String, String> toPngText(int index) {
        Map<String, Object> m = toMap();
        m.put("imageIndex", index);
        Map<String, String> text = new LinkedHashMap<>();
        text.put("Software", "glide-java " + GlideVersion.version());
        text.put("Description", prompt);
        try {
            text.put(PNG_KEY, JSON.writeValueAsString(m));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text;
    }

    /** The parameters recorded in a PNG's text entries (as {@link #toPngText} writes them). */
    public static GenerationParameters fromPngText(Map<String, String> text) {
        String json = text.get(PNG_KEY);
        if (json == null) {
            throw new IllegalArgumentException("no '" + PNG_KEY + "' text entry: not an image saved by glide-java"
                    + " (entries: " + text.keySet() + ")");
        }
        try {
            JsonNode j = JSON.readTree(json);
            return new GenerationParameters(j.get("task").asText(), j.get("prompt").asText(), j.get("seed").asLong(),
                    text(j, "baseModel"), text(j, "sampler"), text(j, "steps"), j.get("guidanceScale").asDouble(),
                    text(j, "upsampler"), text(j, "upsampleSampler"), text(j, "upsampleSteps"),
                    j.get("upsampleTemperature").asDouble(), j.get("imagesPerPrompt").asInt(),
                    j.get("batchSize").asInt(), j.get("width").asInt(), j.get("height").asInt(),
                    options(j, "samplerOptions"), options(j, "upsampleSamplerOptions"),
                    j.hasNonNull("clipGuidanceScale") ? j.get("clipGuidanceScale").asDouble() : null,
                    text(j, "precision"));
        } catch (IOException | NullPointerException e) {
            throw new IllegalArgumentException("the '" + PNG_KEY + "' text entry is not glide-java's parameter JSON: "
                    + json, e);
        }
    }

    /** A sampler options object (absent in PNGs written before options were recorded: then none were set). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> options(JsonNode j, String key) {
        JsonNode v = j.get(key);
        if (v == null) {
            return j.get(key.equals("samplerOptions") ? "sampler" : "upsampleSampler").isNull() ? null : Map.of();
        }
        return v.isNull() ? null : JSON.convertValue(v, Map.class);
    }

    private static String text(JsonNode j, String key) {
        JsonNode v = j.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }
}
