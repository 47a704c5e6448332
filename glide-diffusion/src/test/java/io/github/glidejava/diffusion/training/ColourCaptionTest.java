package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.nn.unet.GlideModelConfig;

/**
 * End to end: a tiny model trained from scratch on red, green and blue shapes learns what the colour word means.
 * Samples for "a red ..." lie further towards red than those for the other colours, and so on for each colour,
 * measured on the shapes' pixels (the saturated ones), not the white background.
 */
class ColourCaptionTest {
    private static final double[][] DIRECTIONS = {{1, -0.5, -0.5}, {-0.5, 1, -0.5}, {-0.5, -0.5, 1}};

    @Test
    void samplesFollowTheColourInTheirCaption(@TempDir Path dir) throws IOException {
        Path data = ShapesDataset.write(dir.resolve("shapes"), 48, 16, 3);
        // Every caption is three tokens ("a red disc"), so a context of 3 holds it whole: the transformer's last
        // position, which feeds the time embedding, is then the shape word that has seen the colour word, instead
        // of padding that sees three real tokens among many.
        GlideModelConfig config = TrainingPresets.resolve("tiny16", null).toBuilder().textCtx(3).build();
        TrainingRecipe recipe = TrainingRecipe.builder().batchSize(12).lr(1e-3).warmupSteps(20).steps(600)
                .emaRates(List.of(0.99)).seed(5).checkpointEvery(10_000).logEvery(50).build();
        Path out = dir.resolve("run");
        GlideTrainer.builder().model(config).data(data).output(out).recipe(recipe).build().train();

        GlidePipeline p = GlidePipeline.builder().base(out).withoutUpsampler().steps("50").imagesPerPrompt(8)
                .seed(1).build();
        List<String> prompts = List.of("a red disc", "a green disc", "a blue disc");
        List<GlideResult> rs = p.sample(prompts);
        double[][] mean = new double[3][];
        for (int i = 0; i < 3; i++) {
            mean[i] = shapeColour(rs.get(i).samples());
        }
        for (int c = 0; c < 3; c++) {
            for (int o = 0; o < 3; o++) {
                if (o != c) {
                    double own = dot(mean[c], DIRECTIONS[c]);
                    double other = dot(mean[o], DIRECTIONS[c]);
                    assertTrue(own > other, "\"" + prompts.get(c) + "\" samples are not more "
                            + ShapesDataset.COLOUR_NAMES[c] + " than \"" + prompts.get(o) + "\" samples: " + own
                            + " <= " + other);
                }
            }
        }
    }

    /** Mean RGB in [-1, 1] of the saturated pixels (max - min channel above 0.5) of all images. */
    static double[] shapeColour(INDArray images) {
        double[] sum = new double[3];
        long count = 0;
        for (int n = 0; n < images.size(0); n++) {
            float[][] r = images.slice(n).slice(0).toFloatMatrix();
            float[][] g = images.slice(n).slice(1).toFloatMatrix();
            float[][] b = images.slice(n).slice(2).toFloatMatrix();
            for (int y = 0; y < r.length; y++) {
                for (int x = 0; x < r[y].length; x++) {
                    float hi = Math.max(r[y][x], Math.max(g[y][x], b[y][x]));
                    float lo = Math.min(r[y][x], Math.min(g[y][x], b[y][x]));
                    if (hi - lo > 0.5f) {
                        sum[0] += r[y][x];
                        sum[1] += g[y][x];
                        sum[2] += b[y][x];
                        count++;
                    }
                }
            }
        }
        long c = Math.max(1, count);
        return new double[] {sum[0] / c, sum[1] / c, sum[2] / c};
    }

    static double dot(double[] a, double[] b) {
        return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }
}
