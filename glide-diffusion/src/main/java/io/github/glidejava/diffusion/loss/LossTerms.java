package io.github.glidejava.diffusion.loss;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * improved-diffusion's {@code training_losses} dict, per batch element.
 *
 * @param loss        {@code [N]} the training loss
 * @param mse         {@code [N]} eps MSE (null for KL losses)
 * @param vb          {@code [N]} variational bound term in bits, rescaled for RESCALED_MSE (null when the
 *                    variance is fixed and the loss is MSE)
 * @param xT          the diffused input the model saw
 * @param modelOutput the raw model output
 * @param vbTerms     details of the vb term (null when none was computed)
 */
public record LossTerms(INDArray loss, INDArray mse, INDArray vb, INDArray xT, INDArray modelOutput,
                        VbTerms vbTerms) {
}
