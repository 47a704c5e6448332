package io.github.glidejava.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A denoising network as the samplers see it: {@code (x_t, t) -> output}.
 *
 * <p>{@code x} is float32 {@code [N, C, H, W]}; {@code timesteps} is int64 {@code [N]} holding ORIGINAL
 * (un-respaced) timesteps, as glide's {@code _WrappedModel} passes them. The output is float32
 * {@code [N, C, H, W]} (predicted noise eps) or {@code [N, 2C, H, W]} (eps followed by variance channels).
 * Conditioning (text tokens and mask, low-resolution image, inpainting mask) is captured by the caller, e.g.
 * {@code DiffusionModel m = (x, t) -> unet.forward(x, t, tokens, mask);}. Implementations must not modify
 * {@code x} or {@code timesteps}.
 */
@FunctionalInterface
public interface DiffusionModel {
    INDArray predict(INDArray x, INDArray timesteps);
}
