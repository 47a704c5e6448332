/**
 * The optimisation step of training, on a model's {@link io.github.glidejava.nn.params.ParameterStore} and plain
 * {@code Map<String, INDArray>} gradients (one per parameter key, in the store's layout), so it works with any
 * back-end that produces gradients: {@link io.github.glidejava.nn.train.AdamW} (PyTorch 1.13's
 * {@code torch.optim.AdamW}), {@link io.github.glidejava.nn.train.GradientClipping#clipGradNorm}
 * ({@code torch.nn.utils.clip_grad_norm_}) and {@link io.github.glidejava.nn.train.Ema} (improved-diffusion's
 * {@code update_ema}). Nothing here knows about diffusion, so it lives beside the parameters in glide-nn.
 *
 * <p>All updates are in place on the arrays (float32, dense C order), element by element in Java with PyTorch's
 * float32 operation order (Python float scalars rounded to float32, {@code add_(x, alpha=a)} as a fused
 * multiply-add), so they allocate nothing after the first step.
 */
package io.github.glidejava.nn.train;
