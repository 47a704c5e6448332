package io.github.glidejava.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The reverse-process Gaussian p(x_{t-1} | x_t) predicted from a model output (improved-diffusion's
 * {@code p_mean_variance} dict). All arrays have x's shape.
 *
 * @param mean        posterior mean computed from {@code predXStart}
 * @param variance    exp(logVariance)
 * @param logVariance model log variance
 * @param predXStart  predicted x_0 after the denoised hook and clipping
 * @param eps         the eps channels of the model output (before clipping)
 */
public record MeanVariance(INDArray mean, INDArray variance, INDArray logVariance, INDArray predXStart,
                           INDArray eps) {
}
