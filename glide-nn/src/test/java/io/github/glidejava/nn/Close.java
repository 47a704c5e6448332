package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Element-wise {@code |a - b| <= atol + rtol * |b|} with a readable failure. */
final class Close {
    private Close() {
    }

    /** Max |actual - expected|. */
    static double maxAbsDiff(INDArray expected, INDArray actual) {
        double[] e = expected.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double m = 0;
        for (int i = 0; i < e.length; i++) {
            m = Math.max(m, Math.abs(a[i] - e[i]));
        }
        return m;
    }

    static void assertClose(String what, INDArray expected, INDArray actual, double atol, double rtol) {
        if (actual == null) {
            fail(what + ": no output produced");
        }
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        int bad = 0;
        int worst = -1;
        double worstExcess = 0;
        double maxAbs = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs(a[i] - e[i]);
            if (!(d <= atol + rtol * Math.abs(e[i]))) {
                bad++;
                double excess = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d - (atol + rtol * Math.abs(e[i]));
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
            if (!Double.isNaN(d)) {
                maxAbs = Math.max(maxAbs, d);
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements differ beyond atol %.1e + rtol %.1e; worst at flat index %d: "
                    + "expected %.9g, got %.9g; max |diff| %.3e", what, bad, e.length, atol, rtol, worst, e[worst],
                    a[worst], maxAbs));
        }
    }
}
