package io.github.glidejava.diffusion;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Assertions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.SafeTensors;

/** A reference fixture file: its tensors and its parsed {@code __metadata__.config}. */
public final class Fixture implements AutoCloseable {
    static {
        GlideBackend.init();
    }

    public final Path file;
    public final SafeTensors tensors;
    public final JsonNode config;

    private Fixture(Path file, SafeTensors tensors, JsonNode config) {
        this.file = file;
        this.tensors = tensors;
        this.config = config;
    }

    public static Fixture open(Path file) throws IOException {
        SafeTensors st = SafeTensors.open(file);
        String cfg = st.metadata().get("config");
        if (cfg == null) {
            st.close();
            throw new IllegalStateException(file + ": no __metadata__.config");
        }
        return new Fixture(file, st, new ObjectMapper().readTree(cfg));
    }

    public String name() {
        return file.getFileName().toString();
    }

    public boolean has(String tensor) {
        return tensors.contains(tensor);
    }

    public INDArray get(String tensor) {
        if (!tensors.contains(tensor)) {
            Assertions.fail(file + " has no tensor '" + tensor + "'");
        }
        return tensors.get(tensor);
    }

    /** A config value, failing clearly when absent. */
    public JsonNode cfg(String key) {
        JsonNode n = config.get(key);
        if (n == null) {
            Assertions.fail(file + ": config has no '" + key + "'");
        }
        return n;
    }

    /** Slice i of a stacked tensor [S, ...] as a dense [...] array. */
    public static INDArray slice(INDArray stacked, long i) {
        return BatchOps.rows(stacked, i, i + 1).reshape(Arrays.copyOfRange(stacked.shape(), 1, stacked.rank())).dup();
    }

    public static int[] ints(INDArray a) {
        return a.castTo(DataType.INT).toIntVector();
    }

    @Override
    public void close() {
        tensors.close();
    }

    /** Element-wise |actual - expected| <= atol + rtol |expected|, reporting the worst element. */
    public static void assertClose(INDArray expected, INDArray actual, double atol, double rtol, String what) {
        Assertions.assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] a = actual.castTo(DataType.DOUBLE).dup().data().asDouble();
        double worst = -1;
        int worstAt = -1;
        double maxAbs = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs(a[i] - e[i]);
            maxAbs = Math.max(maxAbs, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
            double excess = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d - (atol + rtol * Math.abs(e[i]));
            if (excess > worst) {
                worst = excess;
                worstAt = i;
            }
        }
        if (worst > 0) {
            Assertions.fail(what + ": element " + worstAt + " expected " + e[worstAt] + ", got " + a[worstAt]
                    + " (max |diff| " + maxAbs + ", atol " + atol + ", rtol " + rtol + ")");
        }
    }

    /** max |a - b|. */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }
}
