package io.github.glidejava.diffusion.sampling;

import java.util.LinkedHashMap;
import java.util.Map;
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
 * <li>{@code solverOrder}: order of DPM-Solver++ multistep, 1 or 2 (default 2, diffusers' {@code solver_order}).</li>
 * </ul>
 * {@link SamplerType#check} says which of them a sampler uses.
 */
public final class SamplerOptions {
    private static final SamplerOptions DEFAULTS = builder().build();

    private final boolean clipDenoised;
    private final UnaryOperator<INDArray> denoisedFn;
    private final GradientFunction condFn;
    private final Double eta;
    private final Integer solverOrder;

    private SamplerOptions(Builder b) {
        this.clipDenoised = b.clipDenoised;
        this.denoisedFn = b.denoisedFn;
        this.condFn = b.condFn;
        this.eta = b.eta;
        this.solverOrder = b.solverOrder;
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

    /** Whether eta was set (a sampler without eta rejects it rather than ignore it). */
    public boolean hasEta() {
        return eta != null;
    }

    /** The solver order, or {@code defaultOrder} when none was set. */
    public int solverOrderOr(int defaultOrder) {
        return solverOrder == null ? defaultOrder : solverOrder;
    }

    public boolean hasSolverOrder() {
        return solverOrder != null;
    }

    /**
     * The plain options that differ from the defaults, under improved-diffusion's / diffusers' names
     * ({@code clip_denoised}, {@code eta}, {@code solver_order}); functions are left out. For image metadata.
     */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (!clipDenoised) {
            m.put("clip_denoised", false);
        }
        if (eta != null) {
            m.put("eta", eta);
        }
        if (solverOrder != null) {
            m.put("solver_order", solverOrder);
        }
        return m;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.clipDenoised = clipDenoised;
        b.denoisedFn = denoisedFn;
        b.condFn = condFn;
        b.eta = eta;
        b.solverOrder = solverOrder;
        return b;
    }

    public static final class Builder {
        private boolean clipDenoised = true;
        private UnaryOperator<INDArray> denoisedFn;
        private GradientFunction condFn;
        private Double eta;
        private Integer solverOrder;

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

        /** DPM-Solver++'s order: 1 (the same method as DDIM with eta 0) or 2. */
        public Builder solverOrder(int order) {
            this.solverOrder = order;
            return this;
        }

        public SamplerOptions build() {
            if (eta != null && !(eta >= 0 && Double.isFinite(eta))) {
                throw new IllegalArgumentException("eta must be finite and >= 0, got " + eta);
            }
            if (solverOrder != null && solverOrder != 1 && solverOrder != 2) {
                throw new IllegalArgumentException("solverOrder must be 1 or 2, got " + solverOrder);
            }
            return new SamplerOptions(this);
        }
    }
}
