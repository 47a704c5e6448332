package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.diffusion.download.ConsoleProgress;
import io.github.glidejava.diffusion.download.DownloadListener;
import io.github.glidejava.diffusion.download.Downloader;
import io.github.glidejava.diffusion.download.GlideAsset;
import io.github.glidejava.diffusion.download.GlideCache;
import io.github.glidejava.diffusion.download.GlideDownloads;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.PipelineSettings;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.diffusion.sampling.SamplerOptions;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.GlideModelKind;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Options shared by sample, inpaint and upsample: where the models are and how to sample. */
final class PipelineOptions {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--models", paramLabel = "DIR",
            description = "Directory with GLIDE's checkpoints under their published names (default: $GLIDE_CACHE,"
                    + " else ~/.cache/glide-java; fill it with 'glide download').")
    Path models;

    @Option(names = "--base", paramLabel = "FILE", description = "Base model checkpoint (.pt or .safetensors)"
            + " instead of the one in --models.")
    Path base;

    @Option(names = "--base-config", paramLabel = "CONFIG", description = "The base model's create_model options:"
            + " a preset (base, base-inpaint), a JSON file or inline JSON (default: from the file, else the preset).")
    String baseConfig;

    @Option(names = "--upsampler", paramLabel = "FILE", description = "Upsampler checkpoint instead of the one in"
            + " --models.")
    Path upsampler;

    @Option(names = "--upsampler-config", paramLabel = "CONFIG", description = "The upsampler's create_model"
            + " options, as --base-config.")
    String upsamplerConfig;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "Directory with encoder.json and vocab.bpe"
            + " (or .gz) (default: those in --models, else GLIDE's tokenizer bundled with glide-java).")
    Path tokenizer;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed (default: a random one, printed and"
            + " stored in the PNG). The same seed and options give the same image.")
    Long seed;

    @Option(names = {"-n", "--num-images"}, paramLabel = "N", defaultValue = "1",
            description = "Images to generate (default: ${DEFAULT-VALUE}).")
    int numImages;

    @Option(names = "--batch-size", paramLabel = "N", description = "Images sampled at once (default: all).")
    Integer batchSize;

    @Option(names = "--sampler", paramLabel = "NAME", converter = SamplerConverter.class,
            description = "Base sampler: ddpm, ddim, dpm++2m, euler_a (default: ddpm).")
    SamplerType sampler;

    @Option(names = "--steps", paramLabel = "STEPS", defaultValue = PipelineSettings.DEFAULT_STEPS,
            description = "Base timestep respacing: a step count, ddimN, fast27 or section counts like 10,10,5"
                    + " (default: ${DEFAULT-VALUE}).")
    String steps;

    @Option(names = "--upsample-sampler", paramLabel = "NAME", converter = SamplerConverter.class,
            description = "Upsampling sampler (default: ddim; ddpm when inpainting, as GLIDE's notebooks).")
    SamplerType upsampleSampler;

    @Option(names = "--upsample-steps", paramLabel = "STEPS", defaultValue = PipelineSettings.DEFAULT_UPSAMPLE_STEPS,
            description = "Upsampling timestep respacing (default: ${DEFAULT-VALUE}).")
    String upsampleSteps;

    @Option(names = "--upsample-temp", paramLabel = "T", defaultValue = "0.997",
            description = "Factor on the upsampler's initial noise; 1.0 is sharper but grainier"
                    + " (default: ${DEFAULT-VALUE}).")
    double upsampleTemperature;

    @Option(names = "--precision", paramLabel = "fp32|winograd|bf16", converter = PrecisionConverter.class,
            defaultValue = "fp32", description = "How the convolutions compute: fp32 (default, exact), winograd"
            + " (float32 with Winograd's algorithm on large feature maps) or bf16 (bfloat16 inputs and weights,"
            + " fast on CPUs with AVX-512 BF16); the last two are faster and less exact.")
    Precision precision;

    @Option(names = "--eta", paramLabel = "ETA", description = "eta of the base sampler: ddim (default 0,"
            + " deterministic) and euler_a (default 1); 1 makes DDIM as random as DDPM.")
    Double eta;

    @Option(names = "--upsample-eta", paramLabel = "ETA",
            description = "eta of the upsampling sampler (ddim, euler_a).")
    Double upsampleEta;

    @Option(names = "--solver-order", paramLabel = "1|2", description = "Order of the dpm++2m base sampler"
            + " (default 2; 1 is DDIM with eta 0).")
    Integer solverOrder;

    @Option(names = "--upsample-solver-order", paramLabel = "1|2",
            description = "Order of a dpm++2m upsampling sampler (default 2).")
    Integer upsampleSolverOrder;

    @Option(names = "--no-clip", description = "Do not clamp the base stage's x_0 predictions to [-1, 1] (GLIDE"
            + " clamps; diffusers' clip_sample=False).")
    boolean noClip;

    @Option(names = "--upsample-no-clip", description = "Do not clamp the upsampler's x_0 predictions to [-1, 1].")
    boolean upsampleNoClip;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "glide.png",
            description = "PNG to write (default: ${DEFAULT-VALUE}); several images become NAME-0.png, NAME-1.png...")
    Path output;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @Option(names = "--no-download", description = "Fail instead of downloading missing released checkpoints into"
            + " the cache directory (by default they are fetched on first use, as glide-text2im does).")
    boolean noDownload;

    /** Checks the plain option values (exit code 2 on error), before anything is loaded. */
    void validate(CommandLine cl) {
        if (numImages < 1) {
            throw new CommandLine.ParameterException(cl, "--num-images must be >= 1, got " + numImages);
        }
        if (batchSize != null && batchSize < 1) {
            throw new CommandLine.ParameterException(cl, "--batch-size must be >= 1, got " + batchSize);
        }
        if (!(upsampleTemperature > 0) || Double.isInfinite(upsampleTemperature)) {
            throw new CommandLine.ParameterException(cl, "--upsample-temp must be a number > 0, got "
                    + upsampleTemperature);
        }
        for (Object[] o : new Object[][]{{"--eta", eta}, {"--upsample-eta", upsampleEta}}) {
            Double v = (Double) o[1];
            if (v != null && !(v >= 0 && Double.isFinite(v))) {
                throw new CommandLine.ParameterException(cl, o[0] + " must be a number >= 0, got " + v);
            }
        }
        for (Object[] o : new Object[][]{{"--solver-order", solverOrder},
                {"--upsample-solver-order", upsampleSolverOrder}}) {
            Integer v = (Integer) o[1];
            if (v != null && v != 1 && v != 2) {
                throw new CommandLine.ParameterException(cl, o[0] + " must be 1 or 2, got " + v);
            }
        }
        for (String[] s : new String[][]{{"--steps", steps}, {"--upsample-steps", upsampleSteps}}) {
            if (s[1].isBlank() || s[1].trim().equals("0")) {
                throw new CommandLine.ParameterException(cl, s[0] + " must be at least 1 step, got '" + s[1] + "'");
            }
        }
    }

    /** The --guidance-scale check of sample and inpaint (their defaults differ, so the option is theirs). */
    static void requireGuidanceScale(CommandLine cl, double guidanceScale) {
        if (!(guidanceScale >= 0) || Double.isInfinite(guidanceScale)) {
            throw new CommandLine.ParameterException(cl, "--guidance-scale must be a number >= 0, got "
                    + guidanceScale);
        }
    }

    /**
     * Fetches the released checkpoints this run reads from the cache directory and does not find there, as
     * glide-text2im's {@code load_checkpoint} does on first use. Nothing is fetched for an explicit {@code --models}
     * directory or checkpoint file, or with {@code --no-download}.
     */
    void downloadMissing(boolean inpainting, boolean withBase, boolean withUpsampler, PrintWriter err)
            throws IOException {
        if (noDownload || models != null) {
            return;
        }
        List<GlideAsset> needed = new ArrayList<>();
        if (withBase && base == null) {
            needed.add(GlideAsset.checkpoint(inpainting ? GlideModelKind.BASE_INPAINT : GlideModelKind.BASE));
        }
        if (withUpsampler && upsampler == null) {
            needed.add(GlideAsset.checkpoint(inpainting ? GlideModelKind.UPSAMPLE_INPAINT
                    : GlideModelKind.UPSAMPLE));
        }
        downloadMissing(needed, err);
    }

    /** Fetches those of {@code needed} that the cache directory lacks (unless --no-download or --models). */
    void downloadMissing(List<GlideAsset> needed, PrintWriter err) throws IOException {
        if (noDownload || models != null) {
            return;
        }
        DownloadListener progress = quiet ? DownloadListener.NONE : new ConsoleProgress(err, System.console() != null);
        GlideDownloads downloads = GlideDownloads.builder().cacheDir(GlideCache.defaultDir())
                .downloader(Downloader.builder().listener(progress).build()).build();
        for (GlideAsset asset : needed) {
            if (!downloads.isCached(asset)) {
                err.println(asset.fileName() + " is not in " + downloads.cacheDir() + "; downloading "
                        + downloads.uri(asset) + " (--no-download to fail instead)");
                err.flush();
                downloads.ensure(asset);
            }
        }
    }

    /** Whether any option names a released-model file or directory (these select OpenAI's GLIDE models). */
    boolean namesCheckpoints() {
        return models != null || base != null || baseConfig != null || upsampler != null || upsamplerConfig != null;
    }

    /** A builder with every option applied (models are loaded by build()). */
    GlidePipeline.Builder builder(boolean inpainting, boolean withBase, boolean withUpsampler) throws IOException {
        GlidePipeline.Builder b = GlidePipeline.builder().inpainting(inpainting);
        Path dir = models != null ? models : GlideCache.defaultDir();
        b.checkpointDir(dir);
        if (!withBase) {
            b.withoutBase();
        } else if (base != null) {
            b.base(base, config(baseConfig, "--base-config"));
        } else if (baseConfig != null) {
            b.base(dir.resolve((inpainting ? GlideModelKind.BASE_INPAINT : GlideModelKind.BASE).publishedFileName()),
                    config(baseConfig, "--base-config"));
        }
        if (!withUpsampler) {
            b.withoutUpsampler();
        } else if (upsampler != null) {
            b.upsampler(upsampler, config(upsamplerConfig, "--upsampler-config"));
        } else if (upsamplerConfig != null) {
            b.upsampler(dir.resolve((inpainting ? GlideModelKind.UPSAMPLE_INPAINT : GlideModelKind.UPSAMPLE)
                    .publishedFileName()), config(upsamplerConfig, "--upsampler-config"));
        }
        return applySettings(b);
    }

    /** Applies the tokenizer and sampling options (not the models) to {@code b}. */
    GlidePipeline.Builder applySettings(GlidePipeline.Builder b) {
        if (tokenizer != null) {
            b.tokenizerDir(tokenizer);
        }
        b.steps(steps).upsampleSteps(upsampleSteps).upsampleTemperature(upsampleTemperature)
                .imagesPerPrompt(numImages).precision(precision);
        if (seed != null) {
            b.seed(seed);
        }
        if (batchSize != null) {
            b.batchSize(batchSize);
        }
        if (sampler != null) {
            b.sampler(sampler);
        }
        if (upsampleSampler != null) {
            b.upsampleSampler(upsampleSampler);
        }
        b.samplerOptions(samplerOptions(eta, solverOrder, noClip));
        b.upsampleSamplerOptions(samplerOptions(upsampleEta, upsampleSolverOrder, upsampleNoClip));
        return b;
    }

    private static SamplerOptions samplerOptions(Double eta, Integer solverOrder, boolean noClip) {
        SamplerOptions.Builder o = SamplerOptions.builder().clipDenoised(!noClip);
        if (eta != null) {
            o.eta(eta);
        }
        if (solverOrder != null) {
            o.solverOrder(solverOrder);
        }
        return o.build();
    }

    void attachProgress(GlidePipeline.Builder b, PrintWriter err) {
        if (!quiet) {
            b.progressListener(new SamplingProgress(err, System.console() != null));
        }
    }

    /** Writes the images and prints their paths on standard output. */
    void write(GlideResult r, PrintWriter out, PrintWriter err) throws IOException {
        write(List.of(r), out, err);
    }

    /**
     * Writes the images of one or more prompts and prints their paths: one prompt as {@link GlideResult#writePngs},
     * several as {@code NAME-000.png}, {@code NAME-001.png}, ... (one per prompt, in order) or, with several images
     * per prompt, {@code NAME-000-0.png}, ...
     */
    void write(List<GlideResult> results, PrintWriter out, PrintWriter err) throws IOException {
        Path dir = output.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        List<Path> files = new ArrayList<>();
        int digits = Math.max(3, Integer.toString(results.size() - 1).length());
        for (int i = 0; i < results.size(); i++) {
            Path file = results.size() == 1 ? output
                    : GlideResult.numbered(output, String.format("%0" + digits + "d", i));
            files.addAll(results.get(i).writePngs(file));
        }
        if (!quiet) {
            GlideResult r = results.get(0);
            err.println("seed " + r.parameters().seed() + ", " + files.size() + " image(s) of "
                    + r.parameters().width() + "x" + r.parameters().height());
            err.flush();
        }
        for (Path f : files) {
            out.println(f);
        }
        out.flush();
    }

    /** A preset name, inline JSON or a JSON file of create_model options (or a fixture config holding "options"). */
    static GlideModelConfig config(String spec, String option) throws IOException {
        if (spec == null) {
            return null;
        }
        String s = spec.trim();
        List<String> presets = Arrays.stream(GlideModelKind.values()).map(GlideModelKind::id).toList();
        if (presets.contains(s)) {
            return GlideModelConfig.preset(s);
        }
        String json;
        if (s.startsWith("{")) {
            json = s;
        } else {
            Path p = Path.of(s);
            if (!Files.isRegularFile(p)) {
                throw new GlideCli.UserException(option + " '" + spec + "' is neither a preset (" + String.join(", ",
                        presets) + "), inline JSON, nor an existing JSON file");
            }
            json = Files.readString(p);
        }
        try {
            JsonNode node = JSON.readTree(json);
            if (node.has("options") && node.get("options").isObject()) {
                node = node.get("options");
            }
            return GlideModelConfig.fromOptions(node);
        } catch (IOException | IllegalArgumentException e) {
            throw new GlideCli.UserException(option + ": not usable create_model options: " + e.getMessage(), e);
        }
    }

    static final class SamplerConverter implements CommandLine.ITypeConverter<SamplerType> {
        @Override
        public SamplerType convert(String value) {
            try {
                return SamplerType.named(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class PrecisionConverter implements CommandLine.ITypeConverter<Precision> {
        @Override
        public Precision convert(String value) {
            try {
                return Precision.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
