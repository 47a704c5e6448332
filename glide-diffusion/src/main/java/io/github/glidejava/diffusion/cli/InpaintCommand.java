package io.github.glidejava.diffusion.cli;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.image.InpaintMasks;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code glide inpaint --image IMG --mask MASK PROMPT}: repaint part of an image. */
@Command(name = "inpaint", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Repaint the masked part of an image to match a prompt, with GLIDE's inpainting models"
                + " (base-inpaint at 64x64, then upsample-inpaint at 256x256; the inpaint notebook).",
                "The image is resized to the models' sizes; the kept region is re-imposed at every step."},
        footer = {"", "Example:",
                "  glide download base-inpaint upsample-inpaint tokenizer",
                "  glide inpaint --image grass.png --mask mask.png \"a corgi in a field\" -o corgi.png"})
final class InpaintCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PROMPT", description = "What the repainted region should show.")
    String prompt;

    @Option(names = "--image", required = true, paramLabel = "FILE", description = "The image (PNG, JPEG, ...).")
    Path image;

    @Option(names = "--mask", required = true, paramLabel = "FILE",
            description = "Mask picture of the image's size; see --mask-keeps.")
    Path mask;

    @Option(names = "--mask-keeps", paramLabel = "black|white|alpha", defaultValue = "black",
            description = "Which mask pixels keep the image: black (white is repainted, as diffusers), white"
                    + " (GLIDE's mask tensors), alpha (opaque keeps, as DALL-E edits) (default: ${DEFAULT-VALUE}).")
    String maskKeeps;

    @Mixin
    PipelineOptions options;

    @Option(names = {"-g", "--guidance-scale"}, paramLabel = "S", defaultValue = "5.0",
            description = "Classifier-free guidance scale (default: ${DEFAULT-VALUE}, as the inpaint notebook).")
    double guidanceScale;

    @Option(names = "--no-upsample", description = "Stop at the base model's 64x64 images.")
    boolean noUpsample;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        options.validate(cl);
        PipelineOptions.requireGuidanceScale(cl, guidanceScale);
        InpaintMasks.Source source = switch (maskKeeps.toLowerCase(java.util.Locale.ROOT)) {
            case "black" -> InpaintMasks.Source.LUMA_BLACK_KEEPS;
            case "white" -> InpaintMasks.Source.LUMA_WHITE_KEEPS;
            case "alpha" -> InpaintMasks.Source.ALPHA_OPAQUE_KEEPS;
            default -> throw new CommandLine.ParameterException(cl, "--mask-keeps must be black, white or alpha, got '"
                    + maskKeeps + "'");
        };
        BufferedImage img = readImage(image, "--image");
        BufferedImage msk = readImage(mask, "--mask");
        GlidePipeline.Builder b = options.builder(true, true, !noUpsample).guidanceScale(guidanceScale)
                .maskSource(source);
        options.downloadMissing(true, true, !noUpsample, cl.getErr());
        options.attachProgress(b, cl.getErr());
        GlideResult r = b.build().inpaint(img, msk, prompt);
        options.write(r, cl.getOut(), cl.getErr());
        return GlideCli.EXIT_OK;
    }

    static BufferedImage readImage(Path file, String option) throws java.io.IOException {
        if (!Files.isRegularFile(file)) {
            throw new GlideCli.UserException(option + ": no such file: " + file);
        }
        return ImageTensors.readImage(file);
    }
}
