package io.github.glidejava.diffusion.sampling;

import java.util.function.UnaryOperator;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.GradientFunction;

/**
 * Options shared by all samplers. Immutable; build with {@link #builder()}.
 *
 * <ul>
 * <li>{@code clipDenoised} (default true, as GLIDE): clamp every x_0 prediction to [-1, 1] before it is used.</li>
 * <li>{@code denoisedFn}: a hook applied to the x_0 prediction before the clamp (e.g. inpainting re-imposes the
 * known pixels).</li>
 * <li>{@code condFn}: gradient guidance; DDPM adds {@code variance * grad} to the mean (condition_mean), the other
 * samplers shift eps by {@code -sqrt(1 - ab) * grad} (condition_score).</li>
 * <li>{@code eta}: stochasticity of DDIM (default 0, deterministic) and Euler ancestral (default 1).</li>
 * </ul>
 */
public final class SamplerOptions {
    private static final SamplerOptions DEFAULTS = builder().build();

    private final boolean clipDenoised;
    private final UnaryOperator<INDArray> denoisedFn;
    private final GradientFunction condFn;
    private final Double eta;

    private SamplerOptions(Builder b) {
        this.clipDenoised = b.clipDenoised;
        this.denoisedFn = b.denoisedFn;
        this.condFn = b.condFn;
        this.eta = b.eta;
    }

    public static SamplerOptions defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean clipDenoised() {
        return clipDenoised;
    }

    /** May be null. */
    public UnaryOperator<INDArray> denoisedFn() {
        return denoisedFn;
    }

    /** May be null. */
    public GradientFunction condFn() {
        return condFn;
    }

    /** eta, or {@code defaultEta} when none was set. */
    public double etaOr(double defaultEta) {
        return eta == null ? defaultEta : eta;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.clipDenoised = clipDenoised;
        b.denoisedFn = denoisedFn;
        b.condFn = condFn;
        b.eta = eta;
        return b;
    }

    public static final class Builder {
        private boolean clipDenoised = true;
        private UnaryOperator<INDArray> denoisedFn;
        private GradientFunction condFn;
        private Double eta;

        private Builder() {
        }

        public Builder clipDenoised(boolean clip) {
            this.clipDenoised = clip;
            return this;
        }

        public Builder denoisedFn(UnaryOperator<INDArray> fn) {
            this.denoisedFn = fn;
            return this;
        }

        public Builder condFn(GradientFunction fn) {
            this.condFn = fn;
            return this;
        }

        public Builder eta(double eta) {
            this.eta = eta;
            return this;
        }

        public SamplerOptions build() {
            if (eta != null && !(eta >= 0 && Double.isFinite(eta))) {
                throw new IllegalArgumentException("eta must be finite and >= 0, got " + eta);
            }
            return new SamplerOptions(this);
        }
    }
}
