package io.github.glidejava.diffusion.training;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.data.CaptionedImageDataset;
import io.github.glidejava.core.data.DatasetLoader;
import io.github.glidejava.core.data.DatasetOptions;
import io.github.glidejava.core.data.TrainingBatches;
import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.core.text.TokenBatch;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.loss.TrainingLosses;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.resample.LossAwareSampler;
import io.github.glidejava.diffusion.resample.Sample;
import io.github.glidejava.diffusion.resample.ScheduleSampler;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;

/**
 * Trains a GLIDE U-Net from scratch, or fine-tunes one, on captioned images:
 *
 * <pre>{@code
 * GlideTrainer trainer = GlideTrainer.builder()
 *         .model(GlideModelConfig.builder().imageSize(32).numChannels(64)...build())   // or .finetune(checkpoint)
 *         .data(Path.of("my-pictures"))
 *         .recipe(TrainingRecipe.builder().batchSize(16).steps(5000).build())
 *         .output(Path.of("runs/emoji"))
 *         .build();
 * Text2ImUNet trained = trainer.train().model();
 * }</pre>
 *
 * <p>Every step draws its randomness (caption dropout, timesteps, noise, dropout masks) from a generator seeded by
 * the recipe's seed and the step number alone, and the data order from the seed and the epoch, so a run resumed
 * from a checkpoint (model, EMA, AdamW moments, step, timestep-sampler and data-order state) continues exactly as
 * an uninterrupted one. The output directory receives {@code checkpoints/step-N/} every
 * {@code checkpointEvery} steps, {@code metrics.jsonl}, and at the end {@code model.safetensors} (GLIDE's
 * state-dict names, the model options in its metadata), one {@code ema-RATE.safetensors} per EMA rate and
 * {@code config.json}: {@code glide sample --base OUTPUT} samples with the EMA weights.
 */
public final class GlideTrainer {
    static {
        GlideBackend.init();
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL_FILE = "model.safetensors";
    static final String CONFIG_FILE = "config.json";
    static final String METRICS_FILE = "metrics.jsonl";
    static final String STATE_FILE = "trainer.json";
    static final String LOSS_CURVE_FILE = "loss.png";

    private final GlideModelConfig config;
    private final Path finetune;
    private final CaptionedImageDataset dataset;
    private final TrainingRecipe recipe;
    private final Path output;
    private final boolean resume;
    private final List<TrainingListener> listeners;
    private final BpeTokenizer tokenizer;
    private final SampleGrid sampleGrid;
    private final int sampleEvery;
    private final AtomicBoolean cancelled = new AtomicBoolean();

    private GlideTrainer(Builder b, GlideModelConfig config, CaptionedImageDataset dataset) {
        this.config = config;
        this.finetune = b.finetune;
        this.dataset = dataset;
        this.recipe = b.recipe;
        this.output = b.output;
        this.resume = b.resume;
        this.listeners = List.copyOf(b.listeners);
        this.tokenizer = b.tokenizer != null ? b.tokenizer : BpeTokenizer.glide();
        this.sampleGrid = b.samplePrompts.isEmpty() ? null
                : new SampleGrid(b.samplePrompts, b.sampleSeeds, b.sampleGuidanceScale, b.sampleSteps);
        this.sampleEvery = b.sampleEvery > 0 ? b.sampleEvery : b.recipe.checkpointEvery();
    }

    public static Builder builder() {
        return new Builder();
    }

    public GlideModelConfig config() {
        return config;
    }

    public TrainingRecipe recipe() {
        return recipe;
    }

    /** Asks a running {@link #train()} to stop after the current step; it then writes a checkpoint and returns. */
    public void cancel() {
        cancelled.set(true);
    }

    /** What a finished run produced. */
    public record Result(Text2ImUNet model, long steps, boolean cancelled, Path output, TrainingMetrics last) {
    }

    /** Trains until the recipe's limit (or {@link #cancel()}); resumes from the newest checkpoint when asked to. */
    public Result train() throws IOException {
        Files.createDirectories(output);
        CheckpointDirectory checkpoints = new CheckpointDirectory(output);
        Text2ImUNet model = Text2ImUNet.create(config);
        GaussianDiffusion diffusion = GaussianDiffusion.builder().schedule(config.noiseSchedule())
                .steps(config.diffusionSteps()).build();
        // the timestep sampler draws from a stream of its own (no step uses seed index -2), saved in checkpoints
        ScheduleSampler timesteps = ScheduleSampler.named(recipe.timestepSampler().id(), diffusion,
                stepSeed(recipe.seed(), -2));

        long step = 0;
        double elapsedBefore = 0;
        TrainingBatches.State dataState = null;
        Path latest = resume ? newestIntact(checkpoints) : null;
        Optimisation optimisation;
        if (latest != null) {
            JsonNode state = JSON.readTree(Files.readString(latest.resolve(STATE_FILE)));
            step = state.get("step").asLong();
            elapsedBefore = state.path("elapsed_seconds").asDouble();
            dataState = TrainingBatches.State.fromJson(state.get("data").toString());
            SamplerState.restore(timesteps, state.get("timestep_sampler"));
            model.loadStateDict(StateDict.load(latest.resolve(MODEL_FILE)));
            optimisation = new Optimisation(model.parameters(), recipe);
            optimisation.restore(latest);
            truncateMetrics(step);
        } else {
            if (!resume && !checkpoints.list().isEmpty()) {
                throw new IllegalStateException(output + " already holds checkpoints of a run; pass resume(true) /"
                        + " --resume to continue it, or choose another output directory");
            }
            if (finetune != null) {
                model.setParameters(GlideModel.load(finetune, config).unet().parameters());
            } else {
                model.initParameters(recipe.seed());
            }
            optimisation = new Optimisation(model.parameters(), recipe);
            Files.deleteIfExists(output.resolve(METRICS_FILE));
        }
        writeJson(output.resolve(CONFIG_FILE), config.toJson());

        TrainingBatches.Builder batchesBuilder = TrainingBatches.builder(dataset).batchSize(recipe.batchSize())
                .seed(recipe.seed());
        if (dataState != null) {
            batchesBuilder.resumeFrom(dataState);
        }
        long totalSteps = totalSteps();
        TrainingStep trainingStep = new TrainingStep(model,
                new TrainingLosses(diffusion, recipe.lossType(), recipe.snrGamma()), optimisation, recipe.precision());
        for (TrainingListener l : listeners) {
            l.started(step, totalSteps, dataset.size());
        }
        long startNanos = System.nanoTime();
        TrainingMetrics last = null;
        TrainingBatches batches = batchesBuilder.build();
        try (batches; BufferedWriter metricsLog = Files.newBufferedWriter(output.resolve(METRICS_FILE),
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            while (!limitReached(step, batches, elapsedBefore + seconds(startNanos)) && !cancelled.get()) {
                long t0 = System.nanoTime();
                TrainingBatches.Batch batch = batches.next();
                TrainingStep.Inputs inputs = inputs(batch, step, diffusion, timesteps);
                TrainingStep.Result r = trainingStep.run(inputs, recipe.effectiveMicroBatch(),
                        recipe.learningRate(step, totalSteps));
                if (timesteps instanceof LossAwareSampler aware) {
                    aware.updateWithAllLosses(inputs.t(), r.loss());
                }
                step++;
                double secs = seconds(t0);
                last = metrics(step, batches.state().epoch(), r, inputs.t(), diffusion.numTimesteps(), secs);
                if (step % recipe.logEvery() == 0) {
                    metricsLog.write(last.toJson());
                    metricsLog.newLine();
                    metricsLog.flush();
                }
                for (TrainingListener l : listeners) {
                    l.stepDone(last);
                }
                if (sampleGrid != null && step % sampleEvery == 0) {
                    samples(optimisation, step);
                }
                if (step % recipe.checkpointEvery() == 0) {
                    checkpoint(checkpoints, model, optimisation, step, batches, timesteps,
                            elapsedBefore + seconds(startNanos));
                }
            }
            if (checkpoints.latest().map(CheckpointDirectory::step).orElse(-1L) != step) {
                checkpoint(checkpoints, model, optimisation, step, batches, timesteps,
                        elapsedBefore + seconds(startNanos));
            }
        }
        writeFinal(model, optimisation, step);
        if (sampleGrid != null && step % sampleEvery != 0) {
            samples(optimisation, step);
        }
        for (TrainingListener l : listeners) {
            l.finished(step, cancelled.get());
        }
        return new Result(model, step, cancelled.get(), output, last);
    }

    /**
     * The newest checkpoint that passes {@link CheckpointDirectory#verify}; each newer one that fails is named to the
     * listeners with its problem and set aside ({@code step-N.damaged-TIME}), and the run resumes from the one
     * before. Null when there are no checkpoints; an IOException when there are some but none is intact.
     */
    private Path newestIntact(CheckpointDirectory checkpoints) throws IOException {
        List<Path> all = checkpoints.list();
        List<String> problems = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            Path c = all.get(i);
            Optional<String> problem = CheckpointDirectory.verify(c);
            if (problem.isEmpty()) {
                return c;
            }
            problems.add(c.getFileName() + ": " + problem.get());
            Path aside = checkpoints.setAside(c);
            Path previous = i > 0 ? all.get(i - 1) : null;
            for (TrainingListener l : listeners) {
                l.checkpointRejected(c, problem.get(), aside, previous);
            }
        }
        if (!all.isEmpty()) {
            throw new IOException("no intact checkpoint to resume from in " + checkpoints.root() + ": "
                    + String.join("; ", problems) + " (each was set aside as *" + CheckpointDirectory.DAMAGED_SUFFIX
                    + "*); start the run afresh in another --output directory");
        }
        return null;
    }

    /** The step's inputs: captions (with dropout), timesteps, noise and dropout seed, all from the step's own RNG. */
    private TrainingStep.Inputs inputs(TrainingBatches.Batch batch, long step, GaussianDiffusion diffusion,
                                       ScheduleSampler timesteps) {
        SplittableRandom rng = new SplittableRandom(stepSeed(recipe.seed(), step));
        List<String> captions = new ArrayList<>(batch.captions().size());
        for (String caption : batch.captions()) {
            captions.add(rng.nextDouble() < recipe.uncondP() ? "" : caption);
        }
        TokenBatch tokens = tokenizer.encodeBatch(captions, config.textCtx());
        INDArray images = batch.images();
        int n = (int) images.size(0);
        Sample draw = timesteps.sample(n);
        INDArray noise = new SeededNoise(rng.nextLong()).next(images.shape());
        if (recipe.noiseOffset() > 0) {
            // offset noise: one extra N(0, offset^2) value per image and channel, so that the noise also moves each
            // picture's mean colour and the model must take that colour from the caption, not from x_t
            INDArray offset = new SeededNoise(rng.nextLong()).next(images.size(0), images.size(1))
                    .muli(recipe.noiseOffset());
            Broadcast.add(noise, offset, noise, 0, 1);
        }
        INDArray lowRes = config.superRes() ? LowResolution.of(images) : null;
        return new TrainingStep.Inputs(images, draw.timesteps(), noise, tokens.tokens(), tokens.mask(), lowRes,
                toDouble(draw.weights()), rng.nextLong());
    }

    /** A well-mixed seed for one step (SplitMix64's finaliser over seed and step). */
    static long stepSeed(long seed, long step) {
        long z = seed + 0x9E3779B97F4A7C15L * (step + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private long totalSteps() {
        if (recipe.steps() > 0) {
            return recipe.steps();
        }
        if (recipe.epochs() > 0) {
            return (long) recipe.epochs() * Math.max(1, dataset.size() / recipe.batchSize());
        }
        return 0;
    }

    private boolean limitReached(long step, TrainingBatches batches, double elapsedSeconds) {
        return recipe.steps() > 0 && step >= recipe.steps()
                || recipe.epochs() > 0 && batches.state().epoch() >= recipe.epochs()
                || recipe.time() != null && elapsedSeconds >= recipe.time().toMillis() / 1000.0;
    }

    private static TrainingMetrics metrics(long step, long epoch, TrainingStep.Result r, int[] t, int numTimesteps,
                                           double seconds) {
        double[] sum = new double[4];
        int[] count = new int[4];
        for (int i = 0; i < t.length; i++) {
            int q = Math.min(3, t[i] * 4 / numTimesteps);
            sum[q] += r.loss()[i];
            count[q]++;
        }
        double[] quartiles = new double[4];
        for (int q = 0; q < 4; q++) {
            quartiles[q] = count[q] == 0 ? Double.NaN : sum[q] / count[q];
        }
        return new TrainingMetrics(step, epoch, r.lossMean(), mean(r.mse()), mean(r.vb()), quartiles, r.gradNorm(),
                r.lr(), t.length / seconds, seconds, r.forwardSeconds(), r.backwardSeconds(), r.optimiserSeconds());
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

    private void checkpoint(CheckpointDirectory checkpoints, Text2ImUNet model, Optimisation optimisation, long step,
                            TrainingBatches batches, ScheduleSampler timesteps, double elapsed) throws IOException {
        Path dir = checkpoints.write(step, tmp -> {
            SafeTensors.write(tmp.resolve(MODEL_FILE), model.parameters().toTorch(), modelMetadata(step));
            optimisation.save(tmp, modelMetadata(step));
            ObjectNode state = JSON.createObjectNode();
            state.put("step", step);
            state.put("elapsed_seconds", elapsed);
            state.set("data", JSON.readTree(batches.state().toJson()));
            state.set("timestep_sampler", SamplerState.save(timesteps));
            state.set("recipe", JSON.readTree(recipe.toJson()));
            state.set("options", JSON.readTree(config.toJson()));
            Files.writeString(tmp.resolve(STATE_FILE), state.toPrettyString(), StandardCharsets.UTF_8);
        });
        checkpoints.prune(recipe.keepCheckpoints());
        LossCurve.write(output.resolve(METRICS_FILE), output.resolve(LOSS_CURVE_FILE));
        for (TrainingListener l : listeners) {
            l.checkpointWritten(step, dir);
        }
    }

    /** The validation grid of the EMA weights at {@code step}: {@code samples/step-N.png}. */
    private void samples(Optimisation optimisation, long step) throws IOException {
        Path dir = Files.createDirectories(output.resolve("samples"));
        Path png = dir.resolve(CheckpointDirectory.name(step) + ".png");
        sampleGrid.write(config, optimisation.firstEma(), recipe.seed(), png);
        for (TrainingListener l : listeners) {
            l.samplesWritten(step, png);
        }
    }

    private void writeFinal(Text2ImUNet model, Optimisation optimisation, long step) throws IOException {
        SafeTensors.write(output.resolve(MODEL_FILE), model.parameters().toTorch(), modelMetadata(step));
        optimisation.saveEma(output, modelMetadata(step));
    }

    /** The model options (what GlideModel.load builds the network from) and the steps trained. */
    private Map<String, String> modelMetadata(long step) {
        Map<String, String> md = new LinkedHashMap<>();
        md.put("options", config.toJson());
        md.put("trained_by", "glide-java GlideTrainer");
        md.put("step", Long.toString(step));
        return md;
    }

    private void truncateMetrics(long step) throws IOException {
        Path log = output.resolve(METRICS_FILE);
        if (!Files.exists(log)) {
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                if (JSON.readTree(line).path("step").asLong() <= step) {
                    kept.add(line);
                }
            } catch (IOException e) {
                break; // a line cut short by a kill: everything after it is newer than the checkpoint anyway
            }
        }
        PngFiles.writeAtomically(log, (kept.stream().map(l -> l + "\n").collect(java.util.stream.Collectors.joining()))
                .getBytes(StandardCharsets.UTF_8));
    }

    private static void writeJson(Path file, String json) throws IOException {
        PngFiles.writeAtomically(file, JSON.readTree(json).toPrettyString().getBytes(StandardCharsets.UTF_8));
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }

    /** Settings of a {@link GlideTrainer}; {@link #build()} checks them and opens the data set. */
    public static final class Builder {
        private GlideModelConfig config;
        private Path finetune;
        private Path data;
        private DatasetOptions datasetOptions;
        private CaptionedImageDataset dataset;
        private TrainingRecipe recipe;
        private Path output;
        private boolean resume;
        private final List<TrainingListener> listeners = new ArrayList<>();
        private BpeTokenizer tokenizer;
        private List<String> samplePrompts = List.of();
        private int sampleEvery;
        private int sampleSeeds = 4;
        private double sampleGuidanceScale = 3.0;
        private int sampleSteps = 50;

        private Builder() {
        }

        /**
         * Validation prompts: every {@link #sampleEvery} steps (default: with every checkpoint) and at the end, a
         * grid of samples for them from the EMA weights goes to {@code samples/step-N.png}.
         */
        public Builder samplePrompts(List<String> prompts) {
            this.samplePrompts = List.copyOf(prompts);
            return this;
        }

        public Builder sampleEvery(int steps) {
            this.sampleEvery = steps;
            return this;
        }

        /** Samples per prompt in the grid (default 4), with guidance scale (default 3) and DDPM steps (default 50). */
        public Builder sampling(int seeds, double guidanceScale, int steps) {
            this.sampleSeeds = seeds;
            this.sampleGuidanceScale = guidanceScale;
            this.sampleSteps = steps;
            return this;
        }

        /** The architecture to train from scratch (any GlideModelConfig, e.g. a preset or a small custom one). */
        public Builder model(GlideModelConfig config) {
            this.config = config;
            return this;
        }

        /** A checkpoint to fine-tune (its configuration comes from the file unless {@link #model} is given too). */
        public Builder finetune(Path checkpoint) {
            this.finetune = checkpoint;
            return this;
        }

        /** A data set on disk in any layout {@link DatasetLoader} reads. */
        public Builder data(Path path) {
            this.data = path;
            return this;
        }

        /** How images are read and augmented (the image size is always the model's). */
        public Builder datasetOptions(DatasetOptions options) {
            this.datasetOptions = options;
            return this;
        }

        /** A data set already opened (instead of {@link #data}). */
        public Builder dataset(CaptionedImageDataset dataset) {
            this.dataset = dataset;
            return this;
        }

        public Builder recipe(TrainingRecipe recipe) {
            this.recipe = recipe;
            return this;
        }

        public Builder output(Path directory) {
            this.output = directory;
            return this;
        }

        /** Continue the newest checkpoint in the output directory (a fresh start when there is none). */
        public Builder resume(boolean resume) {
            this.resume = resume;
            return this;
        }

        public Builder listener(TrainingListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        public Builder tokenizer(BpeTokenizer tokenizer) {
            this.tokenizer = tokenizer;
            return this;
        }

        public GlideTrainer build() throws IOException {
            if (recipe == null) {
                throw new IllegalArgumentException("no training recipe: call recipe(TrainingRecipe.builder()...build())");
            }
            if (output == null) {
                throw new IllegalArgumentException("no output directory: call output(Path) / pass --output DIR");
            }
            if ((data == null) == (dataset == null)) {
                throw new IllegalArgumentException("give the training data once: data(Path) / --data PATH, or"
                        + " dataset(CaptionedImageDataset)");
            }
            GlideModelConfig c = config;
            if (c == null && finetune != null) {
                c = GlideModel.load(finetune).config();
            }
            if (c == null) {
                throw new IllegalArgumentException("no model: call model(GlideModelConfig) / --model PRESET|CONFIG.json,"
                        + " or finetune(checkpoint) / --model CHECKPOINT");
            }
            if (sampleEvery < 0 || sampleSeeds < 1 || sampleSteps < 1 || !(sampleGuidanceScale >= 0)) {
                throw new IllegalArgumentException("validation sampling needs sampleEvery >= 0 (--sample-every),"
                        + " at least 1 seed (--sample-seeds) and 1 step (--sample-steps) and a guidance scale >= 0");
            }
            if (!samplePrompts.isEmpty() && c.superRes()) {
                throw new IllegalArgumentException("validation samples (--sample-prompts) are drawn for base models;"
                        + " a super-resolution model needs low-resolution inputs");
            }
            if (c.inpaint()) {
                throw new IllegalArgumentException("training inpainting models is not supported yet; train a base or"
                        + " super-resolution model (inpaint=false)");
            }
            CaptionedImageDataset ds = dataset;
            if (ds == null) {
                DatasetOptions.Builder ob = datasetOptions != null ? datasetOptions.toBuilder() : DatasetOptions.builder();
                ds = DatasetLoader.open(data, ob.imageSize(c.imageSize()).build());
            }
            if (ds.size() < recipe.batchSize()) {
                throw new IllegalArgumentException("the data set " + ds.source() + " has " + ds.size()
                        + " images, fewer than one batch of " + recipe.batchSize() + "; lower --batch-size");
            }
            return new GlideTrainer(this, c, ds);
        }
    }
}
