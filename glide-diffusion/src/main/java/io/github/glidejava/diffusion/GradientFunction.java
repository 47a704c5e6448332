package io.github.glidejava.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gradient guidance ({@code cond_fn}): returns {@code grad_x log p(y | x_t)} with x's shape, e.g. from a noisy
 * classifier or CLIP. Receives ORIGINAL timesteps (int64 {@code [N]}), like the model.
 */
@FunctionalInterface
public interface GradientFunction {
    INDArray gradient(INDArray x, INDArray timesteps);
}
