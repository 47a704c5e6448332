package io.github.glidejava.diffusion.loss;

/**
 * improved-diffusion's {@code training_losses} dict, per batch element, on a back-end with tensor type {@code T}
 * ({@code INDArray} when evaluated eagerly).
 *
 * @param loss        {@code [N]} the training loss
 * @param mse         {@code [N]} eps MSE (null for KL losses)
 * @param vb          {@code [N]} variational bound term in bits, rescaled for RESCALED_MSE (null when the
 *                    variance is fixed and the loss is MSE, and for KL losses, whose loss is the vb term)
 * @param xT          the diffused input the model saw
 * @param modelOutput the raw model output
 * @param vbTerms     details of the vb term (null when none was computed)
 * @param <T>         the back-end's tensor type
 */
public record LossTerms<T>(T loss, T mse, T vb, T xT, T modelOutput, VbTerms<T> vbTerms) {
}
