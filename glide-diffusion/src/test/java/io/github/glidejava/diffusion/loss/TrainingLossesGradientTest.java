package io.github.glidejava.diffusion.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.SameDiffOps;

/**
 * The gradient of the training objective {@code (loss * weights).mean()} with respect to the model output: SameDiff's
 * autodiff through {@link SameDiffOps} against central differences of the same code on {@link EagerOps}, all in
 * float64. For the hybrid losses (MSE, RESCALED_MSE) the eps channels must get exactly the MSE's gradient (the vb
 * term sees them detached) and the variance channels the vb term's; the KL losses differentiate through both.
 */
class TrainingLossesGradientTest {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    private static final int N = 3;
    private static final int C = 3;
    private static final int H = 3;
    private static final double STEP = 1e-6;

    @ParameterizedTest
    @EnumSource(LossType.class)
    void gradientWithRespectToTheModelOutput(LossType type) {
        GaussianDiffusion diffusion = GaussianDiffusion.builder().schedule("squaredcos_cap_v2").steps(50).build();
        TrainingLosses losses = new TrainingLosses(diffusion, type);
        Random rnd = new Random(7 + type.ordinal());
        // t = 0 (decoder NLL), t = 1 and a middle step; x_0 on the 8-bit grid with both edge bins present
        int[] t = {0, 1, 23};
        INDArray xStart = Nd4j.create(DataType.DOUBLE, N, C, H, H);
        INDArray noise = Nd4j.create(DataType.DOUBLE, N, C, H, H);
        for (long i = 0; i < xStart.length(); i++) {
            int pixel = i % 7 == 0 ? 0 : i % 7 == 1 ? 255 : rnd.nextInt(256);
            xStart.putScalar(i, pixel / 127.5 - 1.0);
            noise.putScalar(i, rnd.nextGaussian());
        }
        // eps near the true noise keeps the t = 0 likelihood away from its clamp, so its gradient is not trivially 0
        INDArray out = Nd4j.create(DataType.DOUBLE, N, 2 * C, H, H);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < 2 * C; c++) {
                for (int y = 0; y < H; y++) {
                    for (int x = 0; x < H; x++) {
                        double v = c < C ? noise.getDouble(n, c, y, x) + 0.3 * rnd.nextGaussian()
                                : 0.8 * (2 * rnd.nextDouble() - 1);
                        out.putScalar(new long[] {n, c, y, x}, v);
                    }
                }
            }
        }
        INDArray weights = Nd4j.createFromArray(0.5, 1.7, 1.2);

        // analytic: SameDiff
        SameDiff sd = SameDiff.create();
        SameDiffOps sdOps = new SameDiffOps(sd, null, true, true);
        SDVariable outVar = sd.var("model_output", out.dup());
        LossTerms<SDVariable> sdTerms = losses.compute(sdOps, (x, ts) -> outVar, xStart, t, noise);
        SDVariable objective = TrainingLosses.weightedMean(sdOps, sdTerms.loss(), weights);
        sd.setLossVariables(objective.name());
        INDArray analytic = sd.calculateGradients(Map.of(), "model_output").get("model_output");
        double sdValue = sd.output(Map.of(), objective.name()).get(objective.name()).getDouble(0);

        // numeric: the same code, eagerly
        EagerOps eager = GaussianLosses.eager();
        Function<INDArray, LossTerms<INDArray>> eval = o -> losses.compute(eager, (x, ts) -> o, xStart, t, noise);
        Function<LossTerms<INDArray>, INDArray> loss = LossTerms::loss;
        assertEquals(objective(eval.apply(out), loss, weights), sdValue, 1e-9 * Math.abs(sdValue),
                type + ": SameDiff and eager values");

        if (type.isKl()) {
            INDArray numeric = numericGradient(out, eval, loss, weights, 0, 2 * C);
            assertClose(numeric, analytic, 0, 2 * C, type + " d loss / d output");
        } else {
            // eps channels: the MSE's gradient only; variance channels: the vb term's
            INDArray mseGrad = numericGradient(out, eval, LossTerms::mse, weights, 0, C);
            assertClose(mseGrad, analytic, 0, C, type + " eps channels = d mse / d eps");
            INDArray fullGrad = numericGradient(out, eval, loss, weights, 0, 2 * C);
            assertClose(fullGrad, analytic, C, 2 * C, type + " variance channels = d vb / d v");
            // without the stop-gradient the vb term would reach the eps channels: the check above can fail
            INDArray vbGradOnEps = numericGradient(out, eval, LossTerms::vb, weights, 0, C);
            assertTrue(channels(vbGradOnEps, 0, C).amaxNumber().doubleValue() > 1e-3,
                    type + ": the vb term depends on eps, so the detach is what keeps it from its gradient");
        }
        assertTrue(analytic.amaxNumber().doubleValue() > 1e-3, type + ": gradient is not trivially zero");
        // the t = 0 row's variance channels get the decoder NLL's gradient (exactly 0 if the clamp were hit)
        assertTrue(analytic.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(C, 2 * C)).amaxNumber().doubleValue() > 1e-6,
                type + ": decoder NLL gradient at t = 0");
    }

    private static double objective(LossTerms<INDArray> terms, Function<LossTerms<INDArray>, INDArray> term,
                                    INDArray weights) {
        return TrainingLosses.weightedMean(GaussianLosses.eager(), term.apply(terms), weights).getDouble(0);
    }

    /** Central differences of the weighted mean of one term, for output channels [from, to) (0 elsewhere). */
    private static INDArray numericGradient(INDArray out, Function<INDArray, LossTerms<INDArray>> eval,
                                            Function<LossTerms<INDArray>, INDArray> term, INDArray weights,
                                            int from, int to) {
        INDArray g = Nd4j.zeros(DataType.DOUBLE, out.shape());
        for (int n = 0; n < N; n++) {
            for (int c = from; c < to; c++) {
                for (int y = 0; y < H; y++) {
                    for (int x = 0; x < H; x++) {
                        long[] at = {n, c, y, x};
                        double v = out.getDouble(at);
                        INDArray plus = out.dup();
                        plus.putScalar(at, v + STEP);
                        INDArray minus = out.dup();
                        minus.putScalar(at, v - STEP);
                        double d = (objective(eval.apply(plus), term, weights)
                                - objective(eval.apply(minus), term, weights)) / (2 * STEP);
                        g.putScalar(at, d);
                    }
                }
            }
        }
        return g;
    }

    private static INDArray channels(INDArray a, int from, int to) {
        return a.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(from,
                to)).dup();
    }

    private static void assertClose(INDArray expected, INDArray actual, int from, int to, String what) {
        INDArray e = channels(expected, from, to);
        INDArray a = channels(actual, from, to);
        double scale = e.amaxNumber().doubleValue();
        double worst = 0;
        for (long i = 0; i < e.length(); i++) {
            double d = Math.abs(e.getDouble(i) - a.getDouble(i));
            worst = Math.max(worst, d);
            assertTrue(d <= 1e-7 + 1e-5 * Math.abs(e.getDouble(i)) + 1e-6 * scale, what + ": element " + i
                    + " numeric " + e.getDouble(i) + ", analytic " + a.getDouble(i));
        }
        System.out.printf("%s: max |analytic - numeric| %.3g (max |g| %.3g)%n", what, worst, scale);
    }
}
