package io.github.glidejava.diffusion.download;

import java.util.List;

import io.github.glidejava.nn.unet.GlideModelKind;

/**
 * The files GLIDE needs, under the names glide-text2im publishes them with. Checkpoints come from OpenAI's
 * {@code diffusion/dec-2021/} folder (the URLs of glide-text2im's {@code download.py}); the tokenizer files are
 * GPT-2's BPE vocabulary, which glide-text2im ships (gzip'd) in {@code glide_text2im/tokenizer/}. The noised CLIP
 * of CLIP guidance is published beside the checkpoints.
 */
public enum GlideAsset {
    /** Text2ImUNet, 64x64 (glide-text2im {@code "base"}). */
    BASE(GlideModelKind.BASE),
    /** SuperResText2ImUNet, 64 -> 256 ({@code "upsample"}). */
    UPSAMPLE(GlideModelKind.UPSAMPLE),
    /** InpaintText2ImUNet, 64x64 ({@code "base-inpaint"}). */
    BASE_INPAINT(GlideModelKind.BASE_INPAINT),
    /** SuperResInpaintText2ImUnet, 64 -> 256 ({@code "upsample-inpaint"}). */
    UPSAMPLE_INPAINT(GlideModelKind.UPSAMPLE_INPAINT),
    /** The noised CLIP's image encoder, for CLIP guidance (glide-text2im {@code "clip/image-enc"}). */
    CLIP_IMAGE_ENC("clip_image_enc.pt", Source.CHECKPOINTS, null),
    /** The noised CLIP's text encoder (glide-text2im {@code "clip/text-enc"}). */
    CLIP_TEXT_ENC("clip_text_enc.pt", Source.CHECKPOINTS, null),
    /** GPT-2 BPE vocabulary: byte-unicode token -> id (identical to glide-text2im's encoder.json.gz, unzipped). */
    ENCODER_JSON("encoder.json", Source.TOKENIZER,
            "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"),
    /** GPT-2 BPE merges (identical to glide-text2im's vocab.bpe.gz, unzipped). */
    VOCAB_BPE("vocab.bpe", Source.TOKENIZER,
            "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5");

    /** Where an asset is published; each source has its own (overridable) base URL. */
    public enum Source {
        CHECKPOINTS, TOKENIZER
    }

    private final String fileName;
    private final Source source;
    private final String sha256;

    GlideAsset(GlideModelKind kind) {
        this(kind.publishedFileName(), Source.CHECKPOINTS, null);
    }

    GlideAsset(String fileName, Source source, String sha256) {
        this.fileName = fileName;
        this.source = source;
        this.sha256 = sha256;
    }

    /** The published file name, also the name in the cache directory. */
    public String fileName() {
        return fileName;
    }

    public Source source() {
        return source;
    }

    /** The SHA-256 of the published file, or null when none is pinned. */
    public String sha256() {
        return sha256;
    }

    /** The released checkpoint of a model kind. */
    public static GlideAsset checkpoint(GlideModelKind kind) {
        return switch (kind) {
            case BASE -> BASE;
            case UPSAMPLE -> UPSAMPLE;
            case BASE_INPAINT -> BASE_INPAINT;
            case UPSAMPLE_INPAINT -> UPSAMPLE_INPAINT;
        };
    }

    /** The checkpoints, in the order glide-text2im lists them. */
    public static List<GlideAsset> checkpoints() {
        return List.of(BASE, UPSAMPLE, BASE_INPAINT, UPSAMPLE_INPAINT);
    }
}
