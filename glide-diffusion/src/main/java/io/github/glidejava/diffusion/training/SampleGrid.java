package io.github.glidejava.diffusion.training;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;

/**
 * A captioned grid of samples for validation prompts, drawn while training: one row per prompt, {@code seeds}
 * images each, from the EMA weights with classifier-free guidance, through the same {@link GlidePipeline} users
 * sample with (base stage only). Written atomically as {@code samples/step-N.png}.
 */
final class SampleGrid {
    private static final int CAPTION_WIDTH = 220;
    private static final int MIN_CELL = 96;

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
    void write(GlideModelConfig config, java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> weights,
               long seed, Path png) throws IOException {
        Text2ImUNet unet = Text2ImUNet.create(config).loadStateDict(StateDict.of(weights));
        GlidePipeline pipeline = GlidePipeline.builder().base(GlideModel.of(unet, "ema")).withoutUpsampler()
                .guidanceScale(guidanceScale).steps(steps).imagesPerPrompt(seeds).seed(seed).build();
        int size = config.imageSize();
        int cell = Math.max(size, MIN_CELL);
        BufferedImage grid = new BufferedImage(CAPTION_WIDTH + seeds * cell, prompts.size() * cell,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (int row = 0; row < prompts.size(); row++) {
            GlideResult r = pipeline.sample(prompts.get(row));
            for (int i = 0; i < r.size(); i++) {
                g.drawImage(r.image(i), CAPTION_WIDTH + i * cell, row * cell, cell, cell, null);
            }
            g.setColor(Color.BLACK);
            drawWrapped(g, prompts.get(row).isEmpty() ? "(no caption)" : prompts.get(row), 6, row * cell + 16,
                    CAPTION_WIDTH - 12);
        }
        g.dispose();
        PngFiles.write(grid, png, Map.of());
    }

    private static void drawWrapped(Graphics2D g, String text, int x, int y, int width) {
        FontMetrics fm = g.getFontMetrics();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && fm.stringWidth(line + " " + word) > width) {
                g.drawString(line.toString(), x, y);
                y += fm.getHeight();
                line.setLength(0);
            }
            line.append(line.length() > 0 ? " " : "").append(word);
        }
        g.drawString(line.toString(), x, y);
    }
}
