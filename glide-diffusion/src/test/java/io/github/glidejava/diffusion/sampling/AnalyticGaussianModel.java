package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.BatchOps;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;

/**
 * The exact eps predictor for data x_0 ~ N(mu, s^2) per pixel: x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps is Gaussian,
 * so {@code E[eps | x_t] = sqrt(1 - ab) (x_t - sqrt(ab) mu) / (ab s^2 + 1 - ab)}. mu may differ per batch row (for
 * guidance tests). Receives original timesteps, like a trained model.
 */
final class AnalyticGaussianModel implements DiffusionModel {
    private final double[] baseAlphasCumprod;
    private final double s;
    private final double[] muPerRow;

    /** @param muPerRow one mu per batch row, or a single mu for every row */
    AnalyticGaussianModel(GaussianDiffusion diffusion, double s, double... muPerRow) {
        this.baseAlphasCumprod = GaussianDiffusion.fromBetas(diffusion.baseBetas(), diffusion.varianceType())
                .alphasCumprod();
        this.s = s;
        this.muPerRow = muPerRow.clone();
    }

    @Override
    public INDArray predict(INDArray x, INDArray timesteps) {
        long[] t = timesteps.toLongVector();
        int n = t.length;
        if (muPerRow.length != 1 && muPerRow.length != n) {
            throw new IllegalArgumentException("model has " + muPerRow.length + " row means, batch has " + n);
        }
        float[] shift = new float[n];
        float[] scale = new float[n];
        for (int i = 0; i < n; i++) {
            double ab = baseAlphasCumprod[(int) t[i]];
            double mu = muPerRow.length == 1 ? muPerRow[0] : muPerRow[i];
            shift[i] = (float) (Math.sqrt(ab) * mu);
            scale[i] = (float) (Math.sqrt(1 - ab) / (ab * s * s + 1 - ab));
        }
        return x.sub(BatchOps.column(shift, x.rank())).muli(BatchOps.column(scale, x.rank()));
    }
}
