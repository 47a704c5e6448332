package io.github.glidejava.nn.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

/** Dropout on the tape: inverted dropout with the requested share, and masks that follow the seed alone. */
class TapeDropoutTest {
    private static INDArray dropout(long seed, double p) {
        GlideBackend.init();
        TapeOps ops = new TapeOps(k -> {
            throw new IllegalArgumentException(k);
        }, Gradients.zerosLike(Map.<String, INDArray>of(), k -> true), true).training(true).dropoutSeed(seed);
        INDArray y = ops.dropout(ops.input(Nd4j.ones(DataType.FLOAT, 100, 200), false), p).value().dup();
        ops.clear();
        return y;
    }

    @Test
    void dropsTheRequestedShareAndRescalesTheRest() {
        INDArray y = dropout(5, 0.3);
        long zeros = y.length() - y.neq(0.0).castTo(DataType.INT64).sumNumber().longValue();
        assertEquals(0.3, zeros / (double) y.length(), 0.015);
        assertEquals(1 / 0.7, y.maxNumber().doubleValue(), 1e-6);
    }

    @Test
    void theMaskDependsOnTheSeedOnly() {
        Nd4j.getRandom().setSeed(1);
        INDArray a = dropout(9, 0.5);
        Nd4j.getRandom().setSeed(2);
        Nd4j.rand(DataType.FLOAT, 10);
        assertEquals(a, dropout(9, 0.5), "ND4J's generator plays no part");
        assertNotEquals(a, dropout(10, 0.5));
    }
}
