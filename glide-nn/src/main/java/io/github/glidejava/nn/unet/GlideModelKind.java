package io.github.glidejava.nn.unet;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * GLIDE's four U-Net kinds ({@code create_model}'s choice by {@code inpaint} / {@code super_res}): the one place that
 * knows their names, classes, presets, released file names and input channels. {@link GlideModelConfig#kind()},
 * {@link Text2ImUNet#create}, the pipeline's model slots, checkpoint inspection and downloads all read it.
 * What tells them apart in a checkpoint: the input channels of the first convolution, {@code input_blocks.0.0.weight}
 * [model_channels, in_channels, 3, 3]. With 3 image channels: the noisy image (3), plus the bilinearly upsampled
 * low-resolution image for super-resolution (+3), plus the masked image and the mask for inpainting (+3 +1).
 */
public enum GlideModelKind {
    BASE("base", "Text2ImUNet", "base.pt", false, false),
    UPSAMPLE("upsample", "SuperResText2ImUNet", "upsample.pt", true, false),
    BASE_INPAINT("base-inpaint", "InpaintText2ImUNet", "base_inpaint.pt", false, true),
    UPSAMPLE_INPAINT("upsample-inpaint", "SuperResInpaintText2ImUnet", "upsample_inpaint.pt", true, true);

    /** Image channels of every GLIDE model (RGB). */
    public static final int IMAGE_CHANNELS = 3;

    private final String id;
    private final String modelClass;
    private final String publishedFileName;
    private final boolean superRes;
    private final boolean inpaint;

    GlideModelKind(String id, String modelClass, String publishedFileName, boolean superRes, boolean inpaint) {
        this.id = id;
        this.modelClass = modelClass;
        this.publishedFileName = publishedFileName;
        this.superRes = superRes;
        this.inpaint = inpaint;
    }

    /** glide-text2im's checkpoint name, e.g. {@code base-inpaint}. */
    public String id() {
        return id;
    }

    /** The id with its indefinite article, for messages: "a base", "an upsample". */
    public String withArticle() {
        return (id.startsWith("u") ? "an " : "a ") + id;
    }

    /** The class glide-text2im builds for this kind. */
    public String modelClass() {
        return modelClass;
    }

    /** The file name OpenAI publishes the released checkpoint under. */
    public String publishedFileName() {
        return publishedFileName;
    }

    public boolean superRes() {
        return superRes;
    }

    public boolean inpaint() {
        return inpaint;
    }

    /**
     * The preset of this kind: GLIDE's released architecture ({@code model_and_diffusion_defaults()} or
     * {@code model_and_diffusion_defaults_upsampler()}, with {@code inpaint} set for the inpainting kinds).
     */
    public GlideModelConfig preset() {
        return (superRes ? GlideModelConfig.upsampleBuilder() : GlideModelConfig.builder()).inpaint(inpaint).build();
    }

    /** Channels the first convolution sees (glide's in_channels after the subclass adjusts it). */
    public int inChannels() {
        int c = IMAGE_CHANNELS;
        return c + (superRes ? c : 0) + (inpaint ? c + 1 : 0);
    }

    public static GlideModelKind of(boolean superRes, boolean inpaint) {
        for (GlideModelKind k : values()) {
            if (k.superRes == superRes && k.inpaint == inpaint) {
                return k;
            }
        }
        throw new AssertionError();
    }

    /** The kind whose first convolution takes {@code inChannels}; a clear error for any other count. */
    public static GlideModelKind fromInChannels(long inChannels) {
        for (GlideModelKind k : values()) {
            if (k.inChannels() == inChannels) {
                return k;
            }
        }
        throw new IllegalArgumentException("a U-Net whose first convolution takes " + inChannels
                + " channels is none of GLIDE's models (expected " + Arrays.stream(values())
                .map(k -> k.inChannels() + " for " + k.id).collect(Collectors.joining(", ")) + ")");
    }

    /** Parses {@code base}, {@code upsample}, {@code base-inpaint}, {@code upsample-inpaint} ('_' for '-' too). */
    public static GlideModelKind parse(String id) {
        String n = id.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (GlideModelKind k : values()) {
            if (k.id.equals(n)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown model kind '" + id + "'; expected one of "
                + Arrays.stream(values()).map(GlideModelKind::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
