package io.github.glidejava.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where samplers and losses take their standard normal noise from. Each call returns a fresh float32 array of
 * independent N(0, 1) values of the requested shape. Samplers draw in a fixed order (the initial x_T first when the
 * loop creates it, then one draw per step for the stochastic samplers), so a recorded sequence can be replayed.
 */
@FunctionalInterface
public interface NoiseSource {
    INDArray next(long... shape);
}
