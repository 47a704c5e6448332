package io.github.glidejava.diffusion.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.VarianceType;

class TrainingLossesTest {
    static {
        io.github.glidejava.core.GlideBackend.init();
    }

    @Test
    void mseWithFixedVarianceIsPlainEpsMse() {
        GaussianDiffusion d = GaussianDiffusion.builder().schedule("linear").steps(100)
                .varianceType(VarianceType.FIXED_SMALL).build();
        INDArray x0 = new SeededNoise(1).next(2, 3, 4, 4);
        INDArray noise = new SeededNoise(2).next(2, 3, 4, 4);
        DiffusionModel perfect = (x, t) -> noise;
        LossTerms<INDArray> perfectTerms = new TrainingLosses(d, LossType.MSE).compute(perfect, x0, new int[] {3, 50}, noise);
        assertNull(perfectTerms.vb());
        assertEquals(0, perfectTerms.loss().amaxNumber().doubleValue(), 0);
        DiffusionModel zero = (x, t) -> x.mul(0);
        LossTerms<INDArray> z = new TrainingLosses(d, LossType.MSE).compute(zero, x0, new int[] {3, 50}, noise);
        INDArray row1 = noise.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1));
        assertEquals(row1.mul(row1).meanNumber().doubleValue(), z.mse().getDouble(1), 1e-6);
    }

    @Test
    void learnedVarianceAddsTheVbTerm() {
        GaussianDiffusion d = GaussianDiffusion.builder().schedule("linear").steps(100).build();
        INDArray x0 = new SeededNoise(1).next(2, 3, 4, 4);
        INDArray noise = new SeededNoise(2).next(2, 3, 4, 4);
        DiffusionModel model = (x, t) -> Nd4j.concat(1, noise, x.mul(0));
        LossTerms<INDArray> mse = new TrainingLosses(d, LossType.MSE).compute(model, x0, new int[] {0, 50}, noise);
        LossTerms<INDArray> rescaled = new TrainingLosses(d, LossType.RESCALED_MSE).compute(model, x0, new int[] {0, 50}, noise);
        assertNotNull(mse.vb());
        assertEquals(mse.vb().getDouble(1) * 100 / 1000.0, rescaled.vb().getDouble(1), 1e-6);
        LossTerms<INDArray> kl = new TrainingLosses(d, LossType.KL).compute(model, x0, new int[] {0, 50}, noise);
        LossTerms<INDArray> rkl = new TrainingLosses(d, LossType.RESCALED_KL).compute(model, x0, new int[] {0, 50}, noise);
        assertNull(kl.mse());
        assertEquals(kl.loss().getDouble(1) * 100, rkl.loss().getDouble(1), 1e-4 * rkl.loss().getDouble(1));
        // t == 0 uses the decoder NLL, t > 0 the KL
        assertEquals(kl.vbTerms().decoderNllBits().getDouble(0), kl.loss().getDouble(0), 0);
        assertEquals(kl.vbTerms().klBits().getDouble(1), kl.loss().getDouble(1), 0);
        assertThrows(IllegalArgumentException.class, () -> LossType.named("L1"));
    }

    @Test
    void minSnrWeightingScalesEachRowsMseByMinSnrGammaOverSnr() {
        GaussianDiffusion d = GaussianDiffusion.builder().schedule("cosine").steps(100).build();
        INDArray x0 = new SeededNoise(1).next(3, 3, 4, 4);
        INDArray noise = new SeededNoise(2).next(3, 3, 4, 4);
        DiffusionModel model = (x, t) -> Nd4j.concat(1, x.mul(0.5), x.mul(0));
        int[] t = {1, 40, 95};
        double gamma = 5.0;
        LossTerms<INDArray> plain = new TrainingLosses(d, LossType.RESCALED_MSE).compute(model, x0, t, noise);
        TrainingLosses weighted = new TrainingLosses(d, LossType.RESCALED_MSE, gamma);
        LossTerms<INDArray> w = weighted.compute(model, x0, t, noise);
        double[] weights = weighted.minSnrWeights(t);
        for (int i = 0; i < t.length; i++) {
            double ab = d.alphasCumprod()[t[i]];
            double snr = ab / (1 - ab);
            assertEquals(Math.min(snr, gamma) / snr, weights[i], 1e-12, "weight of t=" + t[i]);
            // the reported MSE stays the plain one; the loss weights it and keeps the vb term as it was
            assertEquals(plain.mse().getDouble(i), w.mse().getDouble(i), 0);
            assertEquals(plain.vb().getDouble(i), w.vb().getDouble(i), 0);
            assertEquals(weights[i] * plain.mse().getDouble(i) + plain.vb().getDouble(i), w.loss().getDouble(i),
                    1e-6 * Math.abs(w.loss().getDouble(i)));
        }
        // nearly clean timesteps (high SNR) count less, noisy ones (SNR below gamma) fully
        assertEquals(1.0, weights[2], 0);
        assertTrue(weights[0] < 0.1, "weight of t=1: " + weights[0]);
        assertThrows(IllegalArgumentException.class, () -> new TrainingLosses(d, LossType.RESCALED_KL, 5.0));
        assertThrows(IllegalArgumentException.class, () -> new TrainingLosses(d, LossType.MSE, -1.0));
    }
}
