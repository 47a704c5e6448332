package io.github.glidejava.diffusion.loss;

/**
 * One term of the variational bound ({@code _vb_terms_bpd}) and what it was computed from.
 *
 * @param output                 {@code [N]} bits: the decoder NLL where t == 0, else the KL
 * @param klBits                 {@code [N]} KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t)) in bits
 * @param decoderNllBits         {@code [N]} -log p(x_0 | x_1) in bits (discretized Gaussian)
 * @param trueMean               posterior mean
 * @param trueLogVarianceClipped posterior log variance
 * @param modelMean              model mean
 * @param modelLogVariance       model log variance
 * @param predXStart             model x_0 prediction
 * @param <T>                    the back-end's tensor type
 */
public record VbTerms<T>(T output, T klBits, T decoderNllBits, T trueMean, T trueLogVarianceClipped, T modelMean,
                         T modelLogVariance, T predXStart) {
}
