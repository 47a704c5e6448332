package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.github.glidejava.diffusion.download.GlideAsset;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.nn.clip.ClipConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code glide sample PROMPT}: text to image. */
@Command(name = "sample", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Generate images from a text prompt with classifier-free guidance. By default with"
                + " glide-java's own model (emoji32: 32x32, trained on Noto emoji, shipped in the jar, no download);"
                + " with --model glide, OpenAI's GLIDE: the 64x64 base model, then the 256x256 upsampler"
                + " (glide-text2im's text2im notebook).",
                "Writes PNGs carrying the prompt, seed and settings; prints their paths."},
        footer = {"", "Examples:",
                "  glide sample \"a red apple\" -o apple.png",
                "  glide sample --prompts prompts.txt -n 2 -o out/emoji.png",
                "  glide sample \"an oil painting of a corgi\" --model glide --seed 42 -o corgi.png",
                "  glide sample \"a red cube\" --model glide -n 4 --steps 50 --no-upsample -o cubes.png",
                "  glide sample \"a corgi wearing a hat\" --model glide --clip-guidance-scale 3 -o corgi.png"})
final class SampleCommand implements Callable<Integer> {
    /** The value of --model that selects OpenAI's released checkpoints. */
    static final String RELEASED = "glide";
    /** Images sampled at once with --prompts unless --batch-size says otherwise. */
    static final int PROMPTS_BATCH = 16;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "PROMPT",
            description = "What to draw (\"\" for an unconditional sample); or give --prompts.")
    String prompt;

    @Option(names = "--prompts", paramLabel = "FILE", description = "A UTF-8 file of prompts, one per line (empty"
            + " lines skipped): one output per line, -o NAME.png becoming NAME-000.png, NAME-001.png, ...; the"
            + " prompts are sampled together in batches of --batch-size (default " + PROMPTS_BATCH + ").")
    Path promptsFile;

    @Option(names = "--model", paramLabel = "NAME", description = "The models: " + GlideModel.EMBEDDED
            + " (glide-java's own, embedded; the default) or " + RELEASED + " (OpenAI's released base.pt and"
            + " upsample.pt, downloaded on first use; the default when --base, --base-config, --upsampler,"
            + " --upsampler-config or --models is given).")
    String model;

    @Mixin
    PipelineOptions options;

    @Option(names = {"-g", "--guidance-scale"}, paramLabel = "S", defaultValue = "3.0",
            description = "Classifier-free guidance scale (default: ${DEFAULT-VALUE}).")
    double guidanceScale;

    @Option(names = "--no-upsample", description = "Stop at the base model's 64x64 images (GLIDE).")
    boolean noUpsample;

    @Option(names = "--clip-guidance-scale", paramLabel = "S", description = "Guide the base stage with the noised"
            + " CLIP instead of classifier-free guidance, as glide-text2im's clip_guided notebook (which uses 3.0);"
            + " needs OpenAI's GLIDE (--model glide: clip_image_enc.pt and clip_text_enc.pt are downloaded on first"
            + " use) or --clip-image-enc, --clip-text-enc and --clip-config. The upsampler is unchanged.")
    Double clipGuidanceScale;

    @Option(names = "--clip-image-enc", paramLabel = "FILE", description = "Noised CLIP image encoder (.pt or"
            + " .safetensors, keys of glide-text2im's clip/image-enc) instead of the released one.")
    Path clipImageEnc;

    @Option(names = "--clip-text-enc", paramLabel = "FILE", description = "Noised CLIP text encoder instead of the"
            + " released one.")
    Path clipTextEnc;

    @Option(names = "--clip-config", paramLabel = "FILE", description = "JSON with glide-text2im's clip/config.yaml"
            + " keys for --clip-image-enc / --clip-text-enc (default: config.yaml's values).")
    Path clipConfig;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        options.validate(cl);
        PipelineOptions.requireGuidanceScale(cl, guidanceScale);
        if ((prompt == null) == (promptsFile == null)) {
            throw new CommandLine.ParameterException(cl, prompt == null
                    ? "give a PROMPT or --prompts FILE" : "give a PROMPT or --prompts FILE, not both");
        }
        boolean embedded = embedded(cl);
        checkClip(cl, embedded);
        List<String> prompts = promptsFile == null ? List.of(prompt) : readPrompts(promptsFile);
        GlidePipeline.Builder b;
        if (embedded) {
            b = options.applySettings(GlidePipeline.builder().embeddedModel());
        } else {
            b = options.builder(false, true, !noUpsample);
            options.downloadMissing(false, true, !noUpsample, cl.getErr());
        }
        b.guidanceScale(guidanceScale);
        applyClip(cl, b);
        if (promptsFile != null && options.batchSize == null) {
            b.batchSize(PROMPTS_BATCH);
        }
        options.attachProgress(b, cl.getErr());
        GlidePipeline pipeline = b.build();
        cl.getErr().println(describeModels(pipeline, embedded));
        cl.getErr().flush();
        List<GlideResult> results = promptsFile == null ? List.of(pipeline.sample(prompt)) : pipeline.sample(prompts);
        options.write(results, cl.getOut(), cl.getErr());
        return GlideCli.EXIT_OK;
    }

    /** The CLIP guidance options, checked before any model is loaded. */
    private void checkClip(CommandLine cl, boolean embedded) {
        boolean files = clipImageEnc != null || clipTextEnc != null || clipConfig != null;
        if (clipGuidanceScale == null) {
            if (files) {
                throw new CommandLine.ParameterException(cl, "--clip-image-enc, --clip-text-enc and --clip-config"
                        + " are for --clip-guidance-scale S");
            }
            return;
        }
        if (!(clipGuidanceScale > 0) || Double.isInfinite(clipGuidanceScale)) {
            throw new CommandLine.ParameterException(cl, "--clip-guidance-scale must be a number > 0 (the notebook"
                    + " uses 3), got " + clipGuidanceScale);
        }
        if (cl.getParseResult().hasMatchedOption("--guidance-scale")) {
            throw new CommandLine.ParameterException(cl, "--clip-guidance-scale replaces classifier-free guidance"
                    + " in the base stage: give it or --guidance-scale, not both");
        }
        if (files && (clipImageEnc == null || clipTextEnc == null)) {
            throw new CommandLine.ParameterException(cl, "give both --clip-image-enc and --clip-text-enc");
        }
        if (embedded && !files) {
            throw new CommandLine.ParameterException(cl, "OpenAI's noised CLIP sees 64x64 images, and the built-in "
                    + GlideModel.EMBEDDED + " model samples smaller ones: use --clip-guidance-scale with --model "
                    + RELEASED + ", or give a CLIP of the model's size (--clip-image-enc, --clip-text-enc,"
                    + " --clip-config)");
        }
    }

    /** CLIP guidance: the scale and the CLIP files (given, else the released ones, downloaded when missing). */
    private void applyClip(CommandLine cl, GlidePipeline.Builder b) throws IOException {
        if (clipGuidanceScale == null) {
            return;
        }
        b.clipGuidanceScale(clipGuidanceScale);
        if (clipImageEnc != null) {
            b.clip(clipImageEnc, clipTextEnc, clipConfig == null ? ClipConfig.released() : ClipConfig.load(clipConfig));
        } else {
            options.downloadMissing(List.of(GlideAsset.CLIP_IMAGE_ENC, GlideAsset.CLIP_TEXT_ENC), cl.getErr());
        }
    }

    /** Whether this run uses the embedded model: --model says so, else no option names released checkpoints. */
    private boolean embedded(CommandLine cl) {
        if (model == null) {
            return !options.namesCheckpoints();
        }
        String m = model.trim().toLowerCase(Locale.ROOT);
        if (m.equals(RELEASED)) {
            return false;
        }
        if (!m.equals(GlideModel.EMBEDDED)) {
            throw new CommandLine.ParameterException(cl, "--model must be " + GlideModel.EMBEDDED + " or " + RELEASED
                    + ", got '" + model + "' (a checkpoint file goes to --base)");
        }
        if (options.namesCheckpoints()) {
            throw new CommandLine.ParameterException(cl, "--model " + GlideModel.EMBEDDED + " is built in; --base,"
                    + " --base-config, --upsampler, --upsampler-config and --models choose OpenAI's GLIDE"
                    + " (--model " + RELEASED + ")");
        }
        return true;
    }

    private static String describeModels(GlidePipeline p, boolean embedded) {
        if (embedded) {
            return "model: " + GlideModel.EMBEDDED + " (glide-java's own " + p.base().imageSize() + "x"
                    + p.base().imageSize() + " model trained on Noto emoji, built in: an early version that follows"
                    + " colour words but not yet the emoji asked for, see docs/models.md; --model " + RELEASED
                    + " for OpenAI's GLIDE)";
        }
        return "model: " + p.base().name() + (p.upsampler() != null ? " + " + p.upsampler().name() : "")
                + (p.settings().clipGuidanceScale() != null ? ", CLIP-guided (scale " + p.settings().clipGuidanceScale()
                + ")" : "");
    }

    /** The non-empty lines of {@code file}, trimmed. */
    static List<String> readPrompts(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "the --prompts file does not exist");
        } catch (MalformedInputException e) {
            throw new GlideCli.UserException("--prompts " + file + ": not UTF-8 text");
        }
        List<String> prompts = lines.stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (prompts.isEmpty()) {
            throw new GlideCli.UserException("--prompts " + file + " has no prompt: give one per line");
        }
        return prompts;
    }
}
