package io.github.glidejava.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** The forward-process posterior q(x_{t-1} | x_t, x_0) ({@code q_posterior_mean_variance}); x's shape. */
public record Posterior(INDArray mean, INDArray variance, INDArray logVarianceClipped) {
}
