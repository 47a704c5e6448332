package io.github.glidejava.diffusion.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.glidejava.core.data.CaptionedImageDataset;
import io.github.glidejava.core.data.DatasetLoader;
import io.github.glidejava.core.data.DatasetOptions;
import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.diffusion.evaluation.CaptionEvaluation;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.sampling.SamplerType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code glide eval}: how well a model follows its data set's captions (retrieval accuracy, diversity). */
@Command(name = "eval", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Measure caption fidelity by retrieval: for a fixed, seeded list of the data set's captions"
                + " (up to --per-group per category; skin-tone variants and flags as groups of their own), generate"
                + " --seeds images each, with classifier-free guidance and without (scale 1), and count how often the"
                + " caption's own picture is the nearest (top-1) or among the 5 nearest (top-5) of ALL the data set's"
                + " pictures. Also diversity: the distance between seeds of one caption against that between"
                + " captions.",
                "Writes eval.json and grid.png (guided samples, the data set's picture first in each row) into"
                        + " --output and prints a summary."},
        footer = {"", "Example:",
                "  glide eval --data emoji-datasource-google-16.0.0.tgz -o eval/emoji32"})
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "PATH",
            description = "The data set (any layout glide train reads), e.g. the emoji package .tgz.")
    Path data;

    @Option(names = "--model", paramLabel = "NAME|DIR|FILE", defaultValue = GlideModel.EMBEDDED,
            description = "The model: " + GlideModel.EMBEDDED + " (the embedded one; default), a glide train output"
                    + " directory or a checkpoint.")
    String model;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", defaultValue = "eval",
            description = "Where eval.json and grid.png go (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--per-group", paramLabel = "N", defaultValue = "12",
            description = "Captions per category (default: ${DEFAULT-VALUE}).")
    int perGroup;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "2",
            description = "Images per caption (default: ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of the caption draw and the sampling noise (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-g", "--guidance-scale"}, paramLabel = "S", defaultValue = "3.0",
            description = "Guidance scale of the guided run (default: ${DEFAULT-VALUE}).")
    double guidanceScale;

    @Option(names = "--sampler", paramLabel = "NAME", defaultValue = "ddim",
            converter = PipelineOptions.SamplerConverter.class,
            description = "ddpm, ddim, dpm++2m, euler_a (default: ${DEFAULT-VALUE}).")
    SamplerType sampler;

    @Option(names = "--steps", paramLabel = "STEPS", defaultValue = "50",
            description = "Timestep respacing (default: ${DEFAULT-VALUE}).")
    String steps;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32",
            description = "Images sampled at once (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        for (Object[] o : new Object[][] {{"--per-group", perGroup}, {"--seeds", seeds}, {"--batch-size", batchSize}}) {
            if ((int) o[1] < 1) {
                throw new CommandLine.ParameterException(cl, o[0] + " must be >= 1, got " + o[1]);
            }
        }
        PipelineOptions.requireGuidanceScale(cl, guidanceScale);
        GlideModel m = model.trim().toLowerCase(Locale.ROOT).equals(GlideModel.EMBEDDED) ? GlideModel.embedded()
                : GlideModel.load(Path.of(model));
        CaptionedImageDataset ds = DatasetLoader.open(data, DatasetOptions.builder().imageSize(m.imageSize())
                .build());
        CaptionEvaluation.Builder b = CaptionEvaluation.builder().dataset(ds).model(m).perGroup(perGroup)
                .seeds(seeds).seed(seed).guidanceScale(guidanceScale).sampler(sampler).steps(steps)
                .batchSize(batchSize);
        if (!quiet) {
            b.progressListener(new SamplingProgress(cl.getErr(), System.console() != null));
        }
        CaptionEvaluation.Report r = b.build().run();
        Files.createDirectories(output);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        PngFiles.writeAtomically(output.resolve("eval.json"), json.writeValueAsString(r.toMap())
                .getBytes(StandardCharsets.UTF_8));
        PngFiles.write(r.grid(), output.resolve("grid.png"), Map.of());
        print(r, cl.getOut());
        return GlideCli.EXIT_OK;
    }

    private void print(CaptionEvaluation.Report r, PrintWriter out) {
        out.printf(Locale.ROOT, "model %s, %d images per caption, guidance %.1f, %s %s%n", r.settings().get("model"),
                seeds, guidanceScale, sampler.configName(), steps);
        out.printf(Locale.ROOT, "%-24s %8s %10s %10s %12s %12s%n", "group", "captions", "top-1", "top-5",
                "top-1 (g=1)", "top-5 (g=1)");
        for (CaptionEvaluation.GroupResult g : r.groups()) {
            out.printf(Locale.ROOT, "%-24s %8d %9.1f%% %9.1f%% %11.1f%% %11.1f%%%n", g.group(), g.captions(),
                    100 * g.guided().top1(), 100 * g.guided().top5(), 100 * g.unguided().top1(),
                    100 * g.unguided().top5());
        }
        out.printf(Locale.ROOT, "diversity: %.1f between seeds of a caption, %.1f between captions (RMS, 8-bit)%n",
                r.withinCaption(), r.betweenCaptions());
        out.println(output.resolve("eval.json"));
        out.println(output.resolve("grid.png"));
        out.flush();
    }
}
