package io.github.glidejava.diffusion.download;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import io.github.glidejava.nn.unet.GlideModelKind;

/** What {@code glide download NAME} fetches; the names are glide-text2im's checkpoint names. */
public enum DownloadSet {
    BASE(GlideModelKind.BASE),
    UPSAMPLE(GlideModelKind.UPSAMPLE),
    BASE_INPAINT(GlideModelKind.BASE_INPAINT),
    UPSAMPLE_INPAINT(GlideModelKind.UPSAMPLE_INPAINT),
    CLIP_IMAGE_ENC("clip/image-enc", List.of(GlideAsset.CLIP_IMAGE_ENC)),
    CLIP_TEXT_ENC("clip/text-enc", List.of(GlideAsset.CLIP_TEXT_ENC)),
    /** Both CLIP encoders, what {@code --clip-guidance-scale} needs. */
    CLIP("clip", List.of(GlideAsset.CLIP_IMAGE_ENC, GlideAsset.CLIP_TEXT_ENC)),
    TOKENIZER("tokenizer", List.of(GlideAsset.ENCODER_JSON, GlideAsset.VOCAB_BPE)),
    ALL("all", List.of(GlideAsset.values()));

    private final String id;
    private final List<GlideAsset> assets;

    DownloadSet(GlideModelKind kind) {
        this(kind.id(), List.of(GlideAsset.checkpoint(kind)));
    }

    DownloadSet(String id, List<GlideAsset> assets) {
        this.id = id;
        this.assets = assets;
    }

    /** The command-line name, e.g. {@code base-inpaint}. */
    public String id() {
        return id;
    }

    public List<GlideAsset> assets() {
        return assets;
    }

    @Override
    public String toString() {
        return id;
    }

    /** Parses a command-line name (case-insensitive; '_' accepted for '-', e.g. {@code clip/image_enc}). */
    public static DownloadSet parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (DownloadSet s : values()) {
            if (s.id.equals(n)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown download '" + name + "'; expected one of " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(DownloadSet::id).collect(Collectors.joining(", "));
    }
}
