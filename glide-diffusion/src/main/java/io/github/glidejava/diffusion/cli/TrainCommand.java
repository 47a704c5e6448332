package io.github.glidejava.diffusion.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import io.github.glidejava.core.data.DatasetOptions;
import io.github.glidejava.diffusion.loss.LossType;
import io.github.glidejava.diffusion.training.GlideTrainer;
import io.github.glidejava.diffusion.training.TrainingPresets;
import io.github.glidejava.diffusion.training.TrainingRecipe;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.GlideModelConfig;

/** {@code glide train}: train a GLIDE model from scratch, or fine-tune one, on captioned images. */
@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        sortOptions = false,
        description = {"Train a GLIDE text-to-image U-Net from scratch, or fine-tune one, on captioned images"
                + " (improved-diffusion's hybrid loss, AdamW, EMA, caption dropout for classifier-free guidance).",
                "Writes checkpoints, metrics.jsonl and the final model (model.safetensors, ema-RATE.safetensors,"
                        + " config.json) into --output; 'glide sample --base OUTPUT' uses it."},
        footer = {"", "Data: a folder with metadata.jsonl (Hugging Face imagefolder), a folder of images with"
                + " same-stem .txt captions, a CSV/TSV of path and caption, or the emoji-datasource-google .tgz.",
                "", "Examples:",
                "  glide train --data pictures/ --output runs/mine --model small32 --steps 5000",
                "  glide train --data pictures/ --output runs/mine --resume",
                "  glide train --data pictures/ --output runs/ft --model base.pt --freeze transformer --steps 500"})
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "PATH", description = "The training data.")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Where checkpoints, logs and the trained model go.")
    Path output;

    @Option(names = "--model", paramLabel = "NAME|CONFIG.json|CHECKPOINT", defaultValue = "small32",
            description = "What to train: a size preset (tiny16, small32, small64; default ${DEFAULT-VALUE}), GLIDE's"
                    + " base / upsample presets, a JSON file of glide's create_model options, or a checkpoint to"
                    + " fine-tune.")
    String model;

    @Option(names = "--image-size", paramLabel = "PX", description = "Overrides the model's image size (presets).")
    Integer imageSize;

    @Option(names = "--steps", paramLabel = "N", description = "Optimiser steps to train for.")
    long steps;

    @Option(names = "--epochs", paramLabel = "N", description = "Passes over the data to train for.")
    int epochs;

    @Option(names = "--time", paramLabel = "DURATION", description = "Wall time to train for, e.g. 90m, 2h, PT1H30M.")
    String time;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "16", description = "Images per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--microbatch", paramLabel = "N", defaultValue = "0",
            description = "Images per forward/backward; gradients accumulate (default: the whole batch).")
    int microBatch;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-4", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "0", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--lr-decay", paramLabel = "KIND", defaultValue = "constant",
            description = "After warm-up: constant or cosine (default: ${DEFAULT-VALUE}).")
    TrainingRecipe.LrDecay lrDecay;

    @Option(names = "--beta1", defaultValue = "0.9", description = "AdamW beta1 (default: ${DEFAULT-VALUE}).")
    double beta1;

    @Option(names = "--beta2", defaultValue = "0.999", description = "AdamW beta2 (default: ${DEFAULT-VALUE}).")
    double beta2;

    @Option(names = "--adam-eps", defaultValue = "1e-8", description = "AdamW epsilon (default: ${DEFAULT-VALUE}).")
    double adamEps;

    @Option(names = "--weight-decay", defaultValue = "0.0", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--max-grad-norm", defaultValue = "1.0",
            description = "Clip the gradients' global L2 norm; 0 = off (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--ema-rate", paramLabel = "RATE", split = ",", defaultValue = "0.9999",
            description = "EMA rate(s) of the weights, comma-separated (default: ${DEFAULT-VALUE}).")
    List<Double> emaRates;

    @Option(names = "--uncond-p", defaultValue = "0.2",
            description = "Probability of training a row with the empty caption (default: ${DEFAULT-VALUE}).")
    double uncondP;

    @Option(names = "--loss", paramLabel = "TYPE", defaultValue = "RESCALED_MSE",
            description = "mse, rescaled_mse (GLIDE's hybrid loss), kl, rescaled_kl (default: ${DEFAULT-VALUE}).")
    LossType lossType;

    @Option(names = "--snr-gamma", paramLabel = "GAMMA", defaultValue = "0",
            description = "Min-SNR-gamma weighting of the MSE term, as diffusers' --snr_gamma; 5 is the paper's "
                    + "value and makes small models learn their captions sooner; 0 = off, GLIDE's loss "
                    + "(default: ${DEFAULT-VALUE}).")
    double snrGamma;

    @Option(names = "--noise-offset", paramLabel = "S", defaultValue = "0",
            description = "Offset noise, as diffusers' --noise_offset: a constant per image and colour channel, "
                    + "N(0, S^2), added to the training noise so that the caption decides the overall colour; "
                    + "0 = off, GLIDE's (default: ${DEFAULT-VALUE}).")
    double noiseOffset;

    @Option(names = "--precision", paramLabel = "fp32|winograd|bf16",
            converter = PipelineOptions.PrecisionConverter.class, defaultValue = "fp32",
            description = "How the U-Net's convolutions compute, forward and backward: fp32 (default, exact), bf16"
                    + " (bfloat16 inputs, float32 sums: faster on CPUs with AVX-512 BF16) or winograd (Winograd's"
                    + " forward on large feature maps). Weights, gradients and the optimiser stay float32.")
    Precision precision;

    @Option(names = "--timestep-sampler", paramLabel = "KIND", defaultValue = "uniform",
            description = "uniform or loss_second_moment (default: ${DEFAULT-VALUE}).")
    TrainingRecipe.TimestepSampling timestepSampler;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the whole run (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "500",
            description = "Write a resumable checkpoint every N steps (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "K", defaultValue = "2",
            description = "Keep the newest K checkpoints (default: ${DEFAULT-VALUE}).")
    int keepCheckpoints;

    @Option(names = "--log-every", paramLabel = "N", defaultValue = "1",
            description = "Write a metrics.jsonl line every N steps (default: ${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--freeze", paramLabel = "PREFIX", split = ",",
            description = "Parameter-name prefixes to leave unchanged, e.g. transformer,token_embedding.")
    List<String> freeze = List.of();

    @Option(names = "--sample-prompts", paramLabel = "FILE",
            description = "Validation prompts, one per line: a captioned grid of EMA samples goes to samples/ with"
                    + " every checkpoint (or --sample-every) and at the end.")
    Path samplePrompts;

    @Option(names = "--sample-every", paramLabel = "N", defaultValue = "0",
            description = "Steps between validation grids (default: with every checkpoint).")
    int sampleEvery;

    @Option(names = "--sample-seeds", paramLabel = "N", defaultValue = "4",
            description = "Samples per validation prompt (default: ${DEFAULT-VALUE}).")
    int sampleSeeds;

    @Option(names = "--sample-guidance-scale", paramLabel = "S", defaultValue = "3.0",
            description = "Classifier-free guidance of the validation samples (default: ${DEFAULT-VALUE}).")
    double sampleGuidanceScale;

    @Option(names = "--sample-steps", paramLabel = "N", defaultValue = "50",
            description = "Diffusion steps of the validation samples (default: ${DEFAULT-VALUE}).")
    int sampleSteps;

    @Option(names = "--resume", description = "Continue the newest checkpoint in --output.")
    boolean resume;

    @Option(names = "--random-crop", description = "Crop a random square instead of the centre one.")
    boolean randomCrop;

    @Option(names = "--flip", paramLabel = "P", defaultValue = "0.0",
            description = "Probability of a horizontal flip (default: ${DEFAULT-VALUE}).")
    double flip;

    @Option(names = "--caption-column", paramLabel = "NAME", defaultValue = "text",
            description = "Caption column of metadata.jsonl / CSV files (default: ${DEFAULT-VALUE}).")
    String captionColumn;

    @Option(names = "--colour-captions", description = "Add each picture's dominant colour, read from its pixels, to"
            + " its captions as alternatives (\"yellow grinning face\"), unless they name a colour already: colour"
            + " words a small data set names too rarely for a model to learn.")
    boolean colourCaptions;

    @Option(names = "--strict", description = "Stop at the first unreadable image or missing caption instead of skipping it.")
    boolean strict;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        TrainingRecipe recipe = TrainingRecipe.builder()
                .batchSize(batchSize).microBatch(microBatch).steps(steps).epochs(epochs).time(parseTime(cl, time))
                .lr(lr).betas(beta1, beta2).adamEps(adamEps).weightDecay(weightDecay).warmupSteps(warmupSteps)
                .lrDecay(lrDecay).maxGradNorm(maxGradNorm).emaRates(emaRates).uncondP(uncondP).lossType(lossType)
                .snrGamma(snrGamma).noiseOffset(noiseOffset).precision(precision)
                .timestepSampler(timestepSampler).seed(seed).checkpointEvery(checkpointEvery)
                .keepCheckpoints(keepCheckpoints).logEvery(logEvery).freeze(freeze)
                .build();
        GlideTrainer.Builder b = GlideTrainer.builder().data(data).output(output).recipe(recipe).resume(resume)
                .datasetOptions(DatasetOptions.builder()
                        .crop(randomCrop ? DatasetOptions.Crop.RANDOM : DatasetOptions.Crop.CENTER).flipProbability(flip)
                        .captionColumn(captionColumn).strict(strict).colourCaptions(colourCaptions).build())
                .listener(new TrainingProgress(cl.getErr(), System.console() != null))
                .sampleEvery(sampleEvery).sampling(sampleSeeds, sampleGuidanceScale, sampleSteps);
        if (samplePrompts != null) {
            b.samplePrompts(Files.readAllLines(samplePrompts).stream().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList());
        }
        Path modelPath = Path.of(model);
        if (Files.isRegularFile(modelPath) && !model.toLowerCase(Locale.ROOT).endsWith(".json")) {
            b.finetune(modelPath);
        } else {
            b.model(TrainingPresets.resolve(model, imageSize));
        }
        GlideTrainer trainer = b.build();
        // Ctrl-C / SIGTERM: finish the current step and write a checkpoint before the JVM exits
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread hook = new Thread(() -> {
            trainer.cancel();
            try {
                done.await(120, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        GlideTrainer.Result r;
        try {
            r = trainer.train();
        } finally {
            done.countDown();
        }
        cl.getOut().println(r.output().toAbsolutePath());
        return GlideCli.EXIT_OK;
    }

    /** "90m", "2h", "45s", "1h30m" or ISO-8601 ("PT1H30M"). */
    static Duration parseTime(CommandLine cl, String text) {
        if (text == null) {
            return null;
        }
        String t = text.trim().toUpperCase(Locale.ROOT);
        try {
            return Duration.parse(t.startsWith("PT") ? t : "PT" + t);
        } catch (RuntimeException e) {
            throw new CommandLine.ParameterException(cl, "--time: '" + text
                    + "' is not a duration; write e.g. 90m, 2h, 1h30m or 45s");
        }
    }
}
