package io.github.glidejava.diffusion.training;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.glidejava.core.image.CaptionedGrid;
import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A captioned grid of samples for validation prompts, drawn while training: one row per prompt, {@code seeds}
 * images each, from the EMA weights with classifier-free guidance, through the same {@link GlidePipeline} users
 * sample with (base stage only, all prompts in one batch). Written atomically as {@code samples/step-N.png}.
 */
final class SampleGrid {
    private final List<String> prompts;
    private final int seeds;
    private final double guidanceScale;
    private final int steps;

    SampleGrid(List<String> prompts, int seeds, double guidanceScale, int steps) {
        this.prompts = List.copyOf(prompts);
        this.seeds = seeds;
        this.guidanceScale = guidanceScale;
        this.steps = steps;
    }

    /** Samples with {@code weights} (PyTorch layout) of a model of {@code config} and writes the grid to {@code png}. */
    void write(GlideModelConfig config, Map<String, INDArray> weights, long seed, Path png) throws IOException {
        Text2ImUNet unet = Text2ImUNet.create(config).loadStateDict(StateDict.of(weights));
        GlidePipeline pipeline = GlidePipeline.builder().base(GlideModel.of(unet, "ema")).withoutUpsampler()
                .guidanceScale(guidanceScale).steps(steps).imagesPerPrompt(seeds).seed(seed).build();
        List<List<BufferedImage>> rows = new ArrayList<>();
        for (GlideResult r : pipeline.sample(prompts)) {
            rows.add(r.images());
        }
        PngFiles.write(CaptionedGrid.draw(prompts, rows), png, Map.of());
    }
}
