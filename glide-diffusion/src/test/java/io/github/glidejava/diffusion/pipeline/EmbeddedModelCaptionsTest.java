package io.github.glidejava.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The shipped model follows colour words: with the command line's default settings, the mean colour of the hearts of
 * the data set's colour names moves the caption's way. For each caption the mean RGB of its images, minus the mean
 * over all the captions, points the caption's way (blue: more blue than red and green, and so on) by more than
 * {@link #MIN_LEAN} 8-bit levels.
 */
class EmbeddedModelCaptionsTest {
    /** Emoji names and the RGB direction of their colour, zero-sum so that brightness does not count. */
    private static final Map<String, double[]> HEARTS = new LinkedHashMap<>();

    static {
        HEARTS.put("blue heart", new double[] {-1, -1, 2});
        HEARTS.put("green heart", new double[] {-1, 2, -1});
        HEARTS.put("yellow heart", new double[] {1, 1, -2});
        HEARTS.put("purple heart", new double[] {1, -2, 1});
    }

    private static final int SEEDS = 4;
    /** Smallest lean (RGB levels along the colour's unit direction) that counts, above sampling noise. */
    private static final double MIN_LEAN = 2.0;

    @Test
    void colourWordsMoveTheMeanColourTheirWay() throws IOException {
        GlidePipeline pipeline = GlidePipeline.builder().embeddedModel().withoutUpsampler().imagesPerPrompt(SEEDS)
                .seed(0).build();
        List<String> prompts = new ArrayList<>(HEARTS.keySet());
        List<GlideResult> results = pipeline.sample(prompts);
        double[][] mean = new double[prompts.size()][];
        double[] overall = new double[3];
        for (int i = 0; i < prompts.size(); i++) {
            mean[i] = meanRgb(results.get(i).images());
            for (int c = 0; c < 3; c++) {
                overall[c] += mean[i][c] / prompts.size();
            }
        }
        StringBuilder report = new StringBuilder("mean RGB per caption (default settings, " + SEEDS + " seeds):");
        double[] lean = new double[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            lean[i] = lean(mean[i], overall, HEARTS.get(prompts.get(i)));
            report.append(String.format(Locale.ROOT, "%n  %-13s (%.0f, %.0f, %.0f), leaning %.1f its way",
                    prompts.get(i), mean[i][0], mean[i][1], mean[i][2], lean[i]));
        }
        for (int i = 0; i < prompts.size(); i++) {
            assertTrue(lean[i] > MIN_LEAN, "'" + prompts.get(i) + "' does not lean its colour's way by more than "
                    + MIN_LEAN + " levels (" + lean[i] + "); " + report);
        }
    }

    /** How far a caption's mean colour lies from the overall mean along a colour direction, in RGB levels. */
    private static double lean(double[] rgb, double[] overall, double[] direction) {
        double dot = 0;
        double norm = 0;
        for (int c = 0; c < 3; c++) {
            dot += (rgb[c] - overall[c]) * direction[c];
            norm += direction[c] * direction[c];
        }
        return dot / Math.sqrt(norm);
    }

    private static double[] meanRgb(List<BufferedImage> images) {
        double[] sum = new double[3];
        long n = 0;
        for (BufferedImage img : images) {
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    int p = img.getRGB(x, y);
                    sum[0] += (p >> 16) & 0xff;
                    sum[1] += (p >> 8) & 0xff;
                    sum[2] += p & 0xff;
                    n++;
                }
            }
        }
        return new double[] {sum[0] / n, sum[1] / n, sum[2] / n};
    }
}
