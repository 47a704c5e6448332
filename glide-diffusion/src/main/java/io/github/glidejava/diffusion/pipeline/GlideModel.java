package io.github.glidejava.diffusion.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.diffusion.GaussianDiffusion;

import io.github.glidejava.core.io.StateDictMismatchException;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.GlideModelKind;

/**
 * A GLIDE U-Net with its weights, its configuration and its (un-respaced) diffusion process: one slot of a
 * {@link GlidePipeline}. Immutable; a loaded model may be shared by several pipelines and threads.
 */
public final class GlideModel {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Text2ImUNet unet;
    private final GlideModelKind kind;
    private final String name;
    private final GaussianDiffusion diffusion;
    private final Map<String, String> metadata;

    private GlideModel(Text2ImUNet unet, String name, Map<String, String> metadata) {
        this.unet = unet;
        this.metadata = Map.copyOf(metadata);
        GlideModelConfig c = unet.config();
        this.kind = c.kind();
        this.name = name;
        this.diffusion = GaussianDiffusion.builder().schedule(c.noiseSchedule()).steps(c.diffusionSteps()).build();
    }

    /** A model that already has its weights (e.g. initialised for training, or loaded by other means). */
    public static GlideModel of(Text2ImUNet unet, String name) {
        Objects.requireNonNull(unet, "unet");
        Objects.requireNonNull(name, "name");
        if (!unet.hasParameters()) {
            throw new IllegalArgumentException("model '" + name + "' has no weights; load or initialise them first");
        }
        return new GlideModel(unet, name, Map.of());
    }

    /**
     * The name of the model glide-java ships in glide-diffusion's jar and samples with by default: a 32x32
     * {@code Text2ImUNet} that glide-java trained from scratch on Noto emoji and their names ({@code docs/models.md};
     * its model card is the resource {@value #EMBEDDED_DIR}{@code MODEL_CARD.md}).
     */
    public static final String EMBEDDED = "emoji32";
    /** The class-path folder of the embedded model: {@code model.safetensors}, {@code config.json}, the card. */
    public static final String EMBEDDED_DIR = "/io/github/glidejava/diffusion/models/emoji32/";

    private static GlideModel embedded;

    /**
     * The embedded model ({@value #EMBEDDED}), loaded from the class path once and then shared: no file or network
     * access beyond the jar. Its weights are stored in float16 and computed in float32.
     *
     * @throws NoSuchFileException when the class path lacks the model (a glide-diffusion build without its resources)
     */
    public static synchronized GlideModel embedded() throws IOException {
        if (embedded == null) {
            String resource = EMBEDDED_DIR + "model.safetensors";
            try (InputStream in = GlideModel.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new NoSuchFileException(resource, null, "the embedded model " + EMBEDDED + " is not on the"
                            + " class path; it comes in glide-diffusion's jar (a build that skipped its resources"
                            + " lacks it); give a checkpoint instead");
                }
                // the loaders read files: copy the resource out of the jar for the duration of the load
                Path tmp = Files.createTempFile("glide-" + EMBEDDED + "-", ".safetensors");
                try {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    GlideModel m = load(tmp);
                    embedded = new GlideModel(m.unet, EMBEDDED, m.metadata);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        }
        return embedded;
    }

    /**
     * Loads a checkpoint (PyTorch {@code .pt} or safetensors, recognised by content). The configuration comes from
     * the file when it records one (safetensors metadata {@code options}, or {@code config.options} of the
     * reference fixtures), else from the preset of the model kind the file's shapes show (base, upsample,
     * base-inpaint, upsample-inpaint: GLIDE's released architectures). A directory written by {@code glide train}
     * loads its EMA weights (the first {@code ema-RATE.safetensors}), or {@code model.safetensors} without one.
     */
    public static GlideModel load(Path checkpoint) throws IOException {
        return load(checkpoint, null);
    }

    /**
     * Loads a checkpoint with an explicit configuration (glide's create_model options). Fails with a message naming
     * every difference when the file's architecture is not the configuration's.
     */
    public static GlideModel load(Path checkpoint, GlideModelConfig config) throws IOException {
        Objects.requireNonNull(checkpoint, "checkpoint");
        checkpoint = trainedModelFile(checkpoint);
        String origin = null;
        Map<String, String> metadata;
        Text2ImUNet unet;
        try (CheckpointSource src = CheckpointSource.open(checkpoint)) {
            CheckpointLayout layout;
            try {
                layout = CheckpointLayout.infer(src.shapes());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(checkpoint + ": " + e.getMessage(), e);
            }
            if (config != null) {
                origin = "the given configuration";
            } else {
                Optional<GlideModelConfig> embedded = embeddedConfig(src);
                config = embedded.orElseGet(() -> GlideModelConfig.preset(layout.kind().id()));
                origin = embedded.isPresent() ? "the configuration recorded in the file"
                        : "the '" + layout.kind().id() + "' preset (GLIDE's released " + layout.kind().id() + " model)";
            }
            checkArchitecture(checkpoint, layout, config, origin);
            String prefix = src.prefix();
            metadata = src.metadata();
            unet = Text2ImUNet.create(config);
            // tensor by tensor, so the file's data is never held as a second copy next to the model's
            unet.readParameters(prefix.isEmpty() ? checkpoint.toString() : checkpoint + " [" + prefix + "*]",
                    src.shapes(), src::readFloat);
        } catch (StateDictMismatchException e) {
            throw new IllegalArgumentException(e.getMessage() + " (configuration: " + origin + ")", e);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return new GlideModel(unet, checkpoint.getFileName().toString(), metadata);
    }

    /**
     * The weights file of a {@code glide train} output directory: the slowest EMA that has moved away from the
     * initial weights (they weigh {@code rate^steps}, at most {@value #EMA_INIT_SHARE} of it), else
     * {@code model.safetensors}: after a short run a slow EMA is still mostly the random start. Any other path is
     * returned unchanged.
     */
    static Path trainedModelFile(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            return path;
        }
        List<Path> emas = new ArrayList<>();
        try (var files = Files.list(path)) {
            files.filter(f -> f.getFileName().toString().matches("ema-[0-9.]+\\.safetensors")).forEach(emas::add);
        }
        emas.sort(java.util.Comparator.comparingDouble((Path p) -> emaRate(p)).reversed());
        Path model = path.resolve("model.safetensors");
        for (Path ema : emas) {
            String steps;
            try (io.github.glidejava.core.io.SafeTensors st = io.github.glidejava.core.io.SafeTensors.open(ema)) {
                steps = st.metadata().get("step");
            }
            if (steps == null || !Files.isRegularFile(model)
                    || Math.pow(emaRate(ema), Long.parseLong(steps)) <= EMA_INIT_SHARE) {
                return ema;
            }
        }
        if (Files.isRegularFile(model)) {
            return model;
        }
        throw new java.nio.file.NoSuchFileException(path.toString(), null,
                "a model directory needs ema-RATE.safetensors or model.safetensors (as glide train writes)");
    }

    /** The largest share the initial weights may still have in an EMA that {@link #trainedModelFile} picks. */
    static final double EMA_INIT_SHARE = 0.05;

    private static double emaRate(Path emaFile) {
        String n = emaFile.getFileName().toString();
        return Double.parseDouble(n.substring("ema-".length(), n.length() - ".safetensors".length()));
    }

    private static Optional<GlideModelConfig> embeddedConfig(CheckpointSource src) {
        Map<String, String> md = src.metadata();
        try {
            if (md.containsKey("options")) {
                return Optional.of(GlideModelConfig.fromJson(md.get("options")));
            }
            if (md.containsKey("config")) {
                JsonNode options = JSON.readTree(md.get("config")).get("options");
                if (options != null && options.isObject()) {
                    return Optional.of(GlideModelConfig.fromOptions(options));
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(src.file() + ": the model options in its metadata are unusable: "
                    + e.getMessage(), e);
        }
        return Optional.empty();
    }

    /** Compares what the shapes show with the configuration, naming every difference. */
    static void checkArchitecture(Path file, CheckpointLayout layout, GlideModelConfig c, String origin) {
        List<String> diffs = new ArrayList<>();
        GlideModelKind configKind = c.kind();
        if (configKind != layout.kind()) {
            diffs.add("it is " + layout.kind().withArticle() + " model (" + layout.kind().modelClass()
                    + ", first convolution takes " + layout.inChannels() + " channels) but the configuration describes "
                    + configKind.withArticle() + " model (" + configKind.inChannels() + " channels)");
        }
        compare(diffs, "image_size", layout.imageSize(), c.imageSize());
        compare(diffs, "num_channels", layout.modelChannels(), c.numChannels());
        compare(diffs, "num_res_blocks", layout.numResBlocks(), c.numResBlocks());
        compare(diffs, "channel_mult", join(layout.channelMult()),
                Arrays.stream(c.channelMultiplier()).mapToObj(String::valueOf).collect(Collectors.joining(",")));
        compare(diffs, "attention_resolutions", join(layout.attentionResolutions()),
                join(Arrays.stream(c.attentionResolutions().split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .map(Integer::valueOf).sorted((a, b) -> b - a).collect(Collectors.toList())));
        compare(diffs, "xf_width", layout.xfWidth(), c.xfWidth());
        if (c.xfWidth() > 0) {
            compare(diffs, "xf_layers", layout.xfLayers(), c.xfLayers());
            compare(diffs, "text_ctx", layout.textCtx(), c.textCtx());
        }
        compare(diffs, "use_scale_shift_norm", layout.useScaleShiftNorm(), c.useScaleShiftNorm());
        compare(diffs, "resblock_updown", layout.resblockUpdown(), c.resblockUpdown());
        if (!diffs.isEmpty()) {
            throw new IllegalArgumentException(file + " does not match " + origin + ": " + String.join("; ", diffs)
                    + ". Pass the model's create_model options with the checkpoint (a GlideModelConfig in Java,"
                    + " --base-config / --upsampler-config on the command line).");
        }
    }

    private static void compare(List<String> diffs, String option, Object inFile, Object inConfig) {
        if (!inFile.equals(inConfig)) {
            diffs.add(option + " is " + inFile + " in the file but " + inConfig + " in the configuration");
        }
    }

    private static String join(List<Integer> xs) {
        return xs.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    public Text2ImUNet unet() {
        return unet;
    }

    public GlideModelConfig config() {
        return unet.config();
    }

    public GlideModelKind kind() {
        return kind;
    }

    /** A name for logs and image metadata: the checkpoint's file name, or the name given to {@link #of}. */
    public String name() {
        return name;
    }

    /**
     * The text metadata of the file the model came from (safetensors {@code __metadata__}: its options, and for
     * trained models {@code step} and {@code trained_by}); empty for PyTorch files and models made in memory.
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The model's full (un-respaced) diffusion process: its noise schedule over {@code diffusion_steps}. */
    public GaussianDiffusion diffusion() {
        return diffusion;
    }

    /**
     * The diffusion process respaced to {@code respacing} ("100", "ddim50", "fast27", ...); an unusable respacing
     * is an error naming {@code setting}.
     */
    GaussianDiffusion respaced(String respacing, String setting) {
        try {
            GaussianDiffusion d = diffusion.respaced(respacing);
            if (d.numTimesteps() < 1) {
                throw new IllegalArgumentException("it keeps no timestep");
            }
            return d;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + " '" + respacing + "' is not a valid timestep respacing for "
                    + name + "'s " + diffusion.numTimesteps() + "-step process: " + e.getMessage()
                    + ". Use a step count such as \"100\", \"ddim50\" or \"fast27\".", e);
        }
    }

    public int imageSize() {
        return unet.config().imageSize();
    }

    @Override
    public String toString() {
        return "GlideModel[" + name + ", " + kind.id() + ", " + imageSize() + "x" + imageSize() + "]";
    }
}
