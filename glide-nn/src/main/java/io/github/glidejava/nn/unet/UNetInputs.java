package io.github.glidejava.nn.unet;

/**
 * The inputs of a GLIDE U-Net forward, named as in glide's {@code forward(x, timesteps, tokens, mask, low_res,
 * inpaint_image, inpaint_mask)}. Which are required depends on the model: tokens (and mask with xf_padding) for
 * text conditioning, {@code lowRes} for super-resolution; the inpainting inputs default to zeros as in glide.
 *
 * @param x            noisy image {@code [N, 3, H, W]} float32
 * @param timesteps    {@code [N]} int64 (or float) diffusion timesteps
 * @param tokens       {@code [N, text_ctx]} int64 token ids
 * @param mask         {@code [N, text_ctx]} bool, true for real tokens
 * @param lowRes       {@code [N, 3, h, w]} low-resolution image (super-resolution models)
 * @param inpaintImage {@code [N, 3, H, W]} known image (inpainting models)
 * @param inpaintMask  {@code [N, 1, H, W]} 1 where the image is known (inpainting models)
 */
public record UNetInputs<T>(T x, T timesteps, T tokens, T mask, T lowRes, T inpaintImage, T inpaintMask) {

    public static <T> UNetInputs<T> of(T x, T timesteps, T tokens, T mask) {
        return new UNetInputs<>(x, timesteps, tokens, mask, null, null, null);
    }

    public UNetInputs<T> withLowRes(T lowRes) {
        return new UNetInputs<>(x, timesteps, tokens, mask, lowRes, inpaintImage, inpaintMask);
    }

    public UNetInputs<T> withInpaint(T image, T imageMask) {
        return new UNetInputs<>(x, timesteps, tokens, mask, lowRes, image, imageMask);
    }
}
