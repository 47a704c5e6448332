package io.github.glidejava.diffusion;

import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Assertions;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.testing.RefFixture;

/**
 * A reference fixture file ({@link RefFixture} reads it) that must record a {@code config}, with the slicing and
 * comparison helpers of the diffusion tests.
 */
public final class Fixture extends RefFixture {
    private Fixture(Path file) {
        super(file);
    }

    public static Fixture open(Path file) {
        Fixture f = new Fixture(file);
        if (!f.hasConfig()) {
            f.close();
            throw new IllegalStateException(file + ": no __metadata__.config");
        }
        return f;
    }

    /** Slice i of a stacked tensor [S, ...] as a dense [...] array. */
    public static INDArray slice(INDArray stacked, long i) {
        return BatchOps.rows(stacked, i, i + 1).reshape(Arrays.copyOfRange(stacked.shape(), 1, stacked.rank())).dup();
    }

    public static int[] ints(INDArray a) {
        return a.castTo(DataType.INT).toIntVector();
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

    /**
     * The model of a recorded training step or loss file: built from {@code config.options}, weights from
     * {@code config.params_file} (tensor names {@code param.<key>}).
     */
    public io.github.glidejava.nn.unet.Text2ImUNet recordedModel() throws java.io.IOException {
        io.github.glidejava.nn.unet.Text2ImUNet model = io.github.glidejava.nn.unet.Text2ImUNet.create(
                io.github.glidejava.nn.unet.GlideModelConfig.fromOptions(cfg("options")));
        return model.loadStateDict(io.github.glidejava.core.io.StateDict.load(
                io.github.glidejava.core.testing.RefFixtures.require(cfg("params_file").asText())).subDict("param."));
    }

    /** The diffusion of a recorded training step: {@code noise_schedule}, {@code diffusion_steps}, {@code model_var_type}. */
    public GaussianDiffusion recordedDiffusion() {
        return GaussianDiffusion.builder().schedule(cfg("noise_schedule").asText())
                .steps(cfg("diffusion_steps").asInt())
                .varianceType(VarianceType.valueOf(cfg("model_var_type").asText())).build();
    }

    /** max |a - b|. */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }
}
