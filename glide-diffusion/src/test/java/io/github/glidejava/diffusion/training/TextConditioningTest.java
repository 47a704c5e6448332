package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;

/**
 * The trainer teaches a model its captions: a tiny model trained on red and blue shapes on white, sampled with
 * guidance, draws "a red disc" red and "a blue disc" blue. What is measured is the mean of red minus blue over each
 * prompt's images, in 8-bit levels.
 *
 * <p>With GLIDE's plain recipe such a model needs thousands of steps before the caption shows: the colour can be read
 * from x_t at all but the noisiest timesteps, so the caption lowers the loss by a few percent only. Offset noise
 * (here 0.3) hides each picture's colour balance in the noise, and the caption decides it within a few hundred
 * steps; a short text context (8) keeps the few caption tokens from being diluted among padding positions.
 */
class TextConditioningTest {
    private static final int SEEDS = 8;

    @Test
    void samplesOfTwoColourCaptionsDifferInTheirColoursDirection(@TempDir Path dir) throws IOException {
        Path data = ShapesDataset.write(dir.resolve("shapes"), 24, 16, 3, 0, 2);
        Path out = dir.resolve("run");
        GlideTrainer.builder().model(GlideTrainerTest.tiny().toBuilder().textCtx(8).build()).data(data).output(out)
                .recipe(TrainingRecipe.builder().batchSize(8).lr(2e-3).emaRates(List.of(0.98)).seed(5)
                        .snrGamma(5).noiseOffset(0.3).steps(STEPS).checkpointEvery(STEPS).logEvery(50).build())
                .build().train();
        GlidePipeline pipeline = GlidePipeline.builder().base(out).withoutUpsampler().steps(25).guidanceScale(3.0)
                .imagesPerPrompt(SEEDS).seed(1).build();
        List<GlideResult> r = pipeline.sample(List.of("a red disc", "a blue disc"));
        double red = redMinusBlue(r.get(0).images());
        double blue = redMinusBlue(r.get(1).images());
        String report = String.format(Locale.ROOT, "mean red - blue: 'a red disc' %.1f, 'a blue disc' %.1f", red, blue);
        System.out.println(report);
        assertTrue(red - blue > MARGIN, report + "; expected a difference above " + MARGIN);
    }

    private static final int STEPS = 500;
    private static final double MARGIN = 30;

    private static double redMinusBlue(List<BufferedImage> images) {
        double sum = 0;
        long n = 0;
        for (BufferedImage img : images) {
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    int p = img.getRGB(x, y);
                    sum += ((p >> 16) & 0xff) - (p & 0xff);
                    n++;
                }
            }
        }
        return sum / n;
    }
}
