package io.github.glidejava.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ClassifierFreeGuidanceTest {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    @Test
    void matchesGlideNotebookModelFn() {
        INDArray x = new SeededNoise(1).next(4, 3, 2, 2);
        INDArray out = new SeededNoise(2).next(4, 6, 2, 2);
        AtomicReference<INDArray> seenX = new AtomicReference<>();
        AtomicReference<INDArray> seenT = new AtomicReference<>();
        DiffusionModel model = (xx, t) -> {
            seenX.set(xx.dup());
            seenT.set(t.dup());
            return out;
        };
        INDArray t = BatchOps.longs(77, 4);
        double scale = 3.0;
        INDArray guided = ClassifierFreeGuidance.wrap(model, scale).predict(x, t);
        // the model sees the first half twice
        INDArray firstHalf = BatchOps.rows(x, 0, 2);
        assertEquals(0, Fixture.maxAbsDiff(Nd4j.concat(0, firstHalf, firstHalf), seenX.get()));
        assertArrayEquals(t.toLongVector(), seenT.get().toLongVector());
        // guided eps for both halves, float32 arithmetic
        float[] o = out.dup().data().asFloat();
        float[] gv = guided.dup().data().asFloat();
        int rowLen = 6 * 4;
        for (int row = 0; row < 4; row++) {
            int half = row % 2;
            for (int j = 0; j < 3 * 4; j++) {
                float cond = o[half * rowLen + j];
                float uncond = o[(half + 2) * rowLen + j];
                float expected = uncond + (float) scale * (cond - uncond);
                assertEquals(expected, gv[row * rowLen + j], 0f, "eps row " + row);
            }
            // variance channels pass through row by row
            for (int j = 3 * 4; j < rowLen; j++) {
                assertEquals(o[row * rowLen + j], gv[row * rowLen + j], 0f, "variance row " + row);
            }
        }
    }

    @Test
    void epsOnlyModelsAndOddBatches() {
        INDArray x = new SeededNoise(1).next(2, 3, 2, 2);
        DiffusionModel epsOnly = (xx, t) -> xx.mul(2);
        INDArray g = ClassifierFreeGuidance.wrap(epsOnly, 5).predict(x, BatchOps.longs(1, 2));
        assertArrayEquals(x.shape(), g.shape());
        // cond == uncond (same input rows, same model) -> guided eps = model eps of row 0 for both rows
        assertEquals(0, Fixture.maxAbsDiff(BatchOps.rows(x, 0, 1).mul(2), BatchOps.rows(g, 1, 2)), 1e-6);
        INDArray odd = new SeededNoise(1).next(3, 3, 2, 2);
        assertThrows(IllegalArgumentException.class,
                () -> ClassifierFreeGuidance.wrap(epsOnly, 5).predict(odd, BatchOps.longs(1, 3)));
    }
}
