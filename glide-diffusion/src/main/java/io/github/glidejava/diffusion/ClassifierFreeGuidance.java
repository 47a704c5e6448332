package io.github.glidejava.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Classifier-free guidance exactly as GLIDE's notebook {@code model_fn}: the batch is [conditional rows |
 * unconditional rows] (conditioning captured in the wrapped model for all 2n rows). The model sees the FIRST half of
 * x twice ({@code cat([x[:n], x[:n]])}); the guided {@code eps = uncond + scale * (cond - uncond)} is used for both
 * halves; variance channels pass through row by row. Only the first n rows of a sample are meaningful.
 */
public final class ClassifierFreeGuidance implements DiffusionModel {
    private final DiffusionModel model;
    private final double scale;

    private ClassifierFreeGuidance(DiffusionModel model, double scale) {
        this.model = model;
        this.scale = scale;
    }

    /** Wraps a model whose 2n conditioning rows are [conditional, unconditional]. */
    public static DiffusionModel wrap(DiffusionModel model, double guidanceScale) {
        if (model == null) {
            throw new IllegalArgumentException("model is null");
        }
        if (!Double.isFinite(guidanceScale)) {
            throw new IllegalArgumentException("guidance scale must be finite, got " + guidanceScale);
        }
        return new ClassifierFreeGuidance(model, guidanceScale);
    }

    public double scale() {
        return scale;
    }

    @Override
    public INDArray predict(INDArray x, INDArray timesteps) {
        long n = x.size(0);
        if (n % 2 != 0) {
            throw new IllegalArgumentException("classifier-free guidance needs an even batch [cond rows | uncond rows], got "
                    + n + " rows");
        }
        long half = n / 2;
        INDArray first = BatchOps.rows(x, 0, half);
        INDArray combined = Nd4j.concat(0, first, first);
        INDArray out = model.predict(combined, timesteps);
        GaussianDiffusion.checkModelOutput(out, x);
        long c = x.size(1);
        INDArray eps = BatchOps.channels(out, 0, c);
        INDArray condEps = BatchOps.rows(eps, 0, half);
        INDArray uncondEps = BatchOps.rows(eps, half, n);
        INDArray halfEps = uncondEps.add(condEps.sub(uncondEps).muli(scale));
        INDArray guidedEps = Nd4j.concat(0, halfEps, halfEps);
        if (out.size(1) == c) {
            return guidedEps;
        }
        return Nd4j.concat(1, guidedEps, BatchOps.channels(out, c, out.size(1)));
    }
}
