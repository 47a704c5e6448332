package io.github.glidejava.diffusion.loss;

/**
 * A denoising network written on a back-end's tensor type, {@code (x_t, t) -> output}, so that the model and the
 * loss can be evaluated in one graph (e.g. a U-Net forward on a differentiating back-end, whose parameters then get
 * the loss's gradients). The same contract as {@link io.github.glidejava.diffusion.DiffusionModel}: {@code x} is
 * float {@code [N, C, ...]}, {@code timesteps} int64 {@code [N]} ORIGINAL timesteps (a constant), the result
 * {@code [N, C, ...]} or {@code [N, 2C, ...]} (eps, then variance channels). Conditioning is captured by the caller,
 * e.g. {@code (x, t) -> unet.forward(ops, x, t, text)}.
 *
 * @param <T> the back-end's tensor type
 */
@FunctionalInterface
public interface TensorModel<T> {
    T predict(T x, T timesteps);
}
