package io.github.glidejava.diffusion.cli;

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

/** {@code glide sample PROMPT}: text to image. */
@Command(name = "sample", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Generate images from a text prompt: the 64x64 base model with classifier-free guidance,"
                + " then the 256x256 upsampler (GLIDE's text2im notebook).",
                "Writes PNGs carrying the prompt, seed and settings; prints their paths."},
        footer = {"", "Examples:",
                "  glide download base upsample tokenizer",
                "  glide sample \"an oil painting of a corgi\" --seed 42 -o corgi.png",
                "  glide sample \"a red cube\" -n 4 --steps 50 --no-upsample -o cubes.png"})
final class SampleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PROMPT", description = "What to draw (\"\" for an unconditional sample).")
    String prompt;

    @Mixin
    PipelineOptions options;

    @Option(names = {"-g", "--guidance-scale"}, paramLabel = "S", defaultValue = "3.0",
            description = "Classifier-free guidance scale (default: ${DEFAULT-VALUE}).")
    double guidanceScale;

    @Option(names = "--no-upsample", description = "Stop at the base model's 64x64 images.")
    boolean noUpsample;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        options.validate(cl);
        PipelineOptions.requireGuidanceScale(cl, guidanceScale);
        GlidePipeline.Builder b = options.builder(false, true, !noUpsample).guidanceScale(guidanceScale);
        options.downloadMissing(false, true, !noUpsample, cl.getErr());
        options.attachProgress(b, cl.getErr());
        GlideResult r = b.build().sample(prompt);
        options.write(r, cl.getOut(), cl.getErr());
        return GlideCli.EXIT_OK;
    }
}
