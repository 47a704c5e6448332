package io.github.glidejava.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.github.glidejava.nn.unet.GlideModelKind;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The model shipped in glide-diffusion's jar: it loads from the class path with its card, and it follows colour
 * words: the mean colour of "blue heart" images lies further towards blue than that of the other hearts, and so on
 * for each colour (the check the model card promises, on the shipped weights).
 */
class EmbeddedModelTest {
    /** Hearts the data set names by colour, with the RGB direction of each colour. */
    private static final List<String> HEARTS = List.of("blue heart", "green heart", "yellow heart", "purple heart");
    private static final double[][] DIRECTIONS = {{-0.5, -0.5, 1}, {-0.5, 1, -0.5}, {0.5, 0.5, -1}, {0.5, -1, 0.5}};

    @Test
    void loadsFromTheClassPathWithItsCard() throws IOException {
        GlideModel m = GlideModel.embedded();
        assertEquals(GlideModel.EMBEDDED, m.name());
        assertEquals(GlideModelKind.BASE, m.kind());
        assertSame(m, GlideModel.embedded(), "loaded once, then shared");
        assertTrue(m.metadata().containsKey("options"), "the configuration travels in the file");
        try (InputStream card = GlideModel.class.getResourceAsStream(GlideModel.EMBEDDED_DIR + "MODEL_CARD.md")) {
            assertTrue(card != null, "the model card is in the jar");
            String text = new String(card.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains("Apache") && text.contains("Noto"), "the card carries the attribution");
        }
    }

    @Test
    void colourWordsMoveTheMeanColourTheirWay() throws IOException {
        GlidePipeline p = GlidePipeline.builder().embeddedModel().imagesPerPrompt(4).seed(0).build();
        List<GlideResult> rs = p.sample(HEARTS);
        double[][] mean = new double[HEARTS.size()][];
        for (int i = 0; i < HEARTS.size(); i++) {
            mean[i] = meanColour(rs.get(i).samples());
        }
        for (int c = 0; c < HEARTS.size(); c++) {
            double own = dot(mean[c], DIRECTIONS[c]);
            for (int o = 0; o < HEARTS.size(); o++) {
                if (o != c) {
                    double other = dot(mean[o], DIRECTIONS[c]);
                    assertTrue(own > other, HEARTS.get(c) + " images are not further towards its colour than "
                            + HEARTS.get(o) + " images: " + own + " <= " + other);
                }
            }
        }
    }

    /** The mean RGB (in [-1, 1]) of the pixels that are not near-white background, over all images. */
    private static double[] meanColour(INDArray images) {
        float[][][][] x = new float[(int) images.size(0)][][][];
        for (int n = 0; n < x.length; n++) {
            x[n] = new float[3][][];
            for (int c = 0; c < 3; c++) {
                x[n][c] = images.slice(n).slice(c).toFloatMatrix();
            }
        }
        double[] sum = new double[3];
        long count = 0;
        for (float[][][] im : x) {
            for (int y = 0; y < im[0].length; y++) {
                for (int xx = 0; xx < im[0][y].length; xx++) {
                    float r = im[0][y][xx];
                    float g = im[1][y][xx];
                    float b = im[2][y][xx];
                    if (Math.min(r, Math.min(g, b)) > 0.8f) {
                        continue;
                    }
                    sum[0] += r;
                    sum[1] += g;
                    sum[2] += b;
                    count++;
                }
            }
        }
        return new double[] {sum[0] / Math.max(1, count), sum[1] / Math.max(1, count), sum[2] / Math.max(1, count)};
    }

    private static double dot(double[] a, double[] b) {
        return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }
}
