package io.github.glidejava.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class BatchOpsTest {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    @Test
    void concatMatchesNd4j() {
        INDArray a = new SeededNoise(1).next(2, 3, 4, 5);
        INDArray b = new SeededNoise(2).next(2, 2, 4, 5);
        INDArray c = new SeededNoise(3).next(1, 3, 4, 5);
        assertEquals(Nd4j.concat(1, a, b), BatchOps.concat(1, a, b));
        assertEquals(Nd4j.concat(0, a, c), BatchOps.concat(0, a, c));
        assertThrows(IllegalArgumentException.class, () -> BatchOps.concat(0, a, b));
    }

    @Test
    void slicesOfViewsKeepTheirShape() {
        // ND4J 1.0.0-M2.1 returns a rank-0 array for an interval of a channel view; BatchOps must not
        INDArray out = new SeededNoise(1).next(2, 6, 4, 4);
        INDArray eps = BatchOps.channels(out, 0, 3);
        INDArray row1 = BatchOps.rows(eps, 1, 2);
        assertArrayEquals(new long[] {1, 3, 4, 4}, row1.shape());
        assertEquals(out.getDouble(1, 2, 3, 3), row1.getDouble(0, 2, 3, 3), 0);
        INDArray v = BatchOps.channels(out, 3, 6);
        assertEquals(Nd4j.concat(0, v, v), BatchOps.concat(0, v, v));
        assertThrows(IllegalArgumentException.class, () -> BatchOps.rows(out, 1, 3));
    }

    @Test
    void perRowColumns() {
        INDArray col = BatchOps.column(new double[] {0.1, 0.2, 0.3}, new int[] {2, 0}, 4);
        assertArrayEquals(new long[] {2, 1, 1, 1}, col.shape());
        assertEquals((float) 0.3, col.getFloat(0, 0, 0, 0), 0f);
        assertEquals((float) 0.1, col.getFloat(1, 0, 0, 0), 0f);
        INDArray c = BatchOps.clamp(Nd4j.createFromArray(-2f, 0.5f, 3f), -1, 1);
        assertArrayEquals(new float[] {-1f, 0.5f, 1f}, c.toFloatVector());
    }
}
