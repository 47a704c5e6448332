package io.github.glidejava.diffusion.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import io.github.glidejava.nn.unet.GlideModelConfig;

/**
 * Model sizes for training on one machine, by name, beside GLIDE's released architectures. Each is
 * {@code model_and_diffusion_defaults()} with smaller widths: {@code small32} is the size the project benchmarks
 * training with against PyTorch (15.65M parameters, 6.4M of them the token table).
 */
public final class TrainingPresets {
    /** The names {@link #resolve} knows besides a JSON file. */
    public static final List<String> NAMES = List.of("tiny16", "small32", "small64", "base", "upsample");

    private TrainingPresets() {
    }

    /**
     * A preset name, GLIDE's {@code base} / {@code upsample}, or a JSON file of glide's create_model options (on top
     * of the defaults); {@code imageSize} (may be null) overrides the image size.
     */
    public static GlideModelConfig resolve(String nameOrJson, Integer imageSize) throws IOException {
        GlideModelConfig.Builder b;
        switch (nameOrJson.toLowerCase(Locale.ROOT)) {
            case "tiny16" -> b = GlideModelConfig.builder().imageSize(16).numChannels(32).numResBlocks(1)
                    .channelMult("1,2").attentionResolutions("8").numHeadChannels(32)
                    .xfWidth(64).xfLayers(2).xfHeads(2).dropout(0.0);
            case "small32" -> b = GlideModelConfig.builder().imageSize(32).numChannels(64).channelMult("1,2,2")
                    .numResBlocks(2).attentionResolutions("16,8").numHeadChannels(32)
                    .xfWidth(128).xfLayers(4).xfHeads(4).dropout(0.1);
            case "small64" -> b = GlideModelConfig.builder().imageSize(64).numChannels(64).channelMult("1,2,3,4")
                    .numResBlocks(2).attentionResolutions("16,8").numHeadChannels(32)
                    .xfWidth(256).xfLayers(4).xfHeads(4).dropout(0.1);
            case "base" -> b = GlideModelConfig.builder();
            case "upsample" -> b = GlideModelConfig.upsample().toBuilder();
            default -> {
                Path file = Path.of(nameOrJson);
                if (!Files.isRegularFile(file)) {
                    throw new IllegalArgumentException("unknown model '" + nameOrJson + "': expected one of "
                            + String.join(", ", NAMES) + ", a JSON file of create_model options, or a checkpoint");
                }
                b = GlideModelConfig.fromJson(Files.readString(file)).toBuilder();
            }
        }
        if (imageSize != null) {
            b.imageSize(imageSize);
        }
        return b.build();
    }
}
