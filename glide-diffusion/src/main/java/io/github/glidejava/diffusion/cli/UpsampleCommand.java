package io.github.glidejava.diffusion.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code glide upsample --image IMG PROMPT}: 64 -> 256 super-resolution of an image. */
@Command(name = "upsample", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Upsample an image with GLIDE's text-conditional upsampler: the image is resized to 64x64"
                + " and upsampled to 256x256 guided by the prompt."},
        footer = {"", "Example:",
                "  glide download upsample tokenizer",
                "  glide upsample --image small.png \"an oil painting of a corgi\" -o big.png"})
final class UpsampleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PROMPT", description = "What the image shows.")
    String prompt;

    @Option(names = "--image", required = true, paramLabel = "FILE", description = "The image to upsample.")
    Path image;

    @Mixin
    PipelineOptions options;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        options.validate(cl);
        var img = InpaintCommand.readImage(image, "--image");
        GlidePipeline.Builder b = options.builder(false, false, true);
        options.downloadMissing(false, false, true, cl.getErr());
        options.attachProgress(b, cl.getErr());
        GlideResult r = b.build().upsample(img, prompt);
        options.write(r, cl.getOut(), cl.getErr());
        return GlideCli.EXIT_OK;
    }
}
