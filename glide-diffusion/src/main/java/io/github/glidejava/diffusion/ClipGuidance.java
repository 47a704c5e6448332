package io.github.glidejava.diffusion;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.clip.ClipModel;

/**
 * CLIP guidance as glide-text2im's clip_guided notebook: {@code cond_fn = clip_model.cond_fn(prompts, scale)}, the
 * gradient of {@code exp(logit_scale) * <z_text, z_image(x_t, t)>} with respect to x_t times {@code scale}
 * ({@link ClipModel#condGradient}). Row i of x is paired with prompt i. Set it as the sampler's
 * {@link io.github.glidejava.diffusion.sampling.SamplerOptions.Builder#condFn condFn}: DDPM adds
 * {@code variance * grad} to the mean (condition_mean), the other samplers shift eps by
 * {@code -sqrt(1 - alpha_bar) * grad} (condition_score). It receives the ORIGINAL timesteps of a respaced
 * diffusion, which index CLIP's timestep table.
 */
public final class ClipGuidance implements GradientFunction {
    private final ClipModel clip;
    private final INDArray textEmbeddings;
    private final double scale;

    private ClipGuidance(ClipModel clip, INDArray textEmbeddings, double scale) {
        this.clip = clip;
        this.textEmbeddings = textEmbeddings;
        this.scale = scale;
    }

    /** Guidance toward {@code prompts} (one per image row), their text embeddings computed once here. */
    public static ClipGuidance of(ClipModel clip, List<String> prompts, double scale) {
        Objects.requireNonNull(clip, "clip");
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("CLIP guidance needs one prompt per image row, got none");
        }
        checkScale(scale);
        return new ClipGuidance(clip, clip.textEmbeddings(prompts), scale);
    }

    /** Guidance toward given text embeddings {@code [N, n_embd]} (row i for image row i). */
    public static ClipGuidance of(ClipModel clip, INDArray textEmbeddings, double scale) {
        Objects.requireNonNull(clip, "clip");
        Objects.requireNonNull(textEmbeddings, "textEmbeddings");
        checkScale(scale);
        return new ClipGuidance(clip, textEmbeddings, scale);
    }

    private static void checkScale(double scale) {
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("CLIP guidance scale must be finite, got " + scale);
        }
    }

    public double scale() {
        return scale;
    }

    /** The text embeddings {@code [N, n_embd]} the images are pulled toward. */
    public INDArray textEmbeddings() {
        return textEmbeddings;
    }

    @Override
    public INDArray gradient(INDArray x, INDArray timesteps) {
        if (x.size(0) != textEmbeddings.size(0)) {
            throw new IllegalArgumentException("CLIP guidance has " + textEmbeddings.size(0) + " prompt(s) but x has "
                    + x.size(0) + " rows " + Arrays.toString(x.shape()) + "; it needs one prompt per row");
        }
        return clip.condGradient(textEmbeddings, x, timesteps, scale);
    }

    @Override
    public String toString() {
        return "ClipGuidance[scale=" + scale + ", prompts=" + textEmbeddings.size(0) + "]";
    }
}
