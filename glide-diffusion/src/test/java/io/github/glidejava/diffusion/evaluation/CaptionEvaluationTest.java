package io.github.glidejava.diffusion.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.github.glidejava.core.data.CaptionedImageDataset;
import io.github.glidejava.core.data.DatasetLoader;
import io.github.glidejava.core.data.DatasetOptions;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.TinyModels;
import io.github.glidejava.nn.unet.GlideModelKind;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** Retrieval ranks by hand-made distances, and a whole evaluation on the fixtures' tiny base model. */
class CaptionEvaluationTest {
    @Test
    void rankCountsThePicturesNearerThanTheCaptionsOwn() {
        // four 2-pixel "pictures" on a line: 0, 10, 20, 30
        var pictures = Nd4j.createFromArray(new float[][] {{0, 0}, {10, 10}, {20, 20}, {30, 30}});
        // target 1 with images at 11 (nearest is 1 -> rank 0) and at 24 (20 and 30 nearer than 10 -> rank 2);
        // target 3 with images at 29 (rank 0) and at 0 (all three others nearer -> rank 3)
        var gen = Nd4j.createFromArray(new float[][] {{11, 11}, {24, 24}, {29, 29}, {0, 0}});
        List<int[]> ranks = CaptionEvaluation.ranks(gen, new int[] {1, 3}, pictures, 2);
        assertArrayEquals(new int[] {0, 2}, ranks.get(0));
        assertArrayEquals(new int[] {0, 3}, ranks.get(1));
        CaptionEvaluation.Accuracy acc = CaptionEvaluation.Accuracy.of(ranks);
        assertEquals(4, acc.images());
        assertEquals(0.5, acc.top1());
        assertEquals(1.0, acc.top5());
    }

    @Test
    void evaluatesAModelAgainstItsDataSet() throws IOException {
        GlideModel model = TinyModels.model(GlideModelKind.BASE.modelClass());
        int s = model.imageSize();
        List<BufferedImage> pictures = new ArrayList<>();
        List<List<String>> captions = new ArrayList<>();
        Color[] colours = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW, Color.BLACK};
        for (int i = 0; i < colours.length; i++) {
            BufferedImage im = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = im.createGraphics();
            g.setColor(colours[i]);
            g.fillRect(0, 0, s, s);
            g.dispose();
            pictures.add(im);
            captions.add(List.of("colour " + i, "alternative " + i));
        }
        CaptionedImageDataset ds = DatasetLoader.fromImages("colours", pictures, captions,
                DatasetOptions.builder().imageSize(s).build());
        CaptionEvaluation.Report r = CaptionEvaluation.builder().dataset(ds).model(model).perGroup(3).seeds(2)
                .steps("2").batchSize(4).build().run();

        assertEquals(3, r.probes().size(), "perGroup captions of the one unlabelled group");
        r.probes().forEach(p -> assertEquals("colour " + p.example(), p.caption(), "the first caption"));
        assertEquals(CaptionEvaluation.HEADLINE, r.headline().group());
        assertEquals(6, r.headline().guided().images());
        assertEquals(6, r.headline().unguided().images());
        for (int[] ranks : r.guidedRanks()) {
            for (int rank : ranks) {
                assertTrue(rank >= 0 && rank < ds.size(), "rank " + rank);
            }
        }
        assertTrue(r.withinCaption() > 0 && r.betweenCaptions() > 0, "different seeds and captions differ");
        // each grid row: the data set's picture, then the samples
        assertTrue(r.grid().getWidth() > 3 * s && r.grid().getHeight() >= 3 * s);
        Map<String, Object> m = r.toMap();
        assertEquals(3, ((List<?>) m.get("probes")).size());
        // the same seed selects the same captions and gives the same ranks
        CaptionEvaluation.Report again = CaptionEvaluation.builder().dataset(ds).model(model).perGroup(3).seeds(2)
                .steps("2").batchSize(4).build().run();
        assertEquals(r.probes(), again.probes());
        for (int i = 0; i < r.probes().size(); i++) {
            assertArrayEquals(r.guidedRanks().get(i), again.guidedRanks().get(i));
        }
    }
}
