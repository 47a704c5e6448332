package io.github.glidejava.nn.train;

/**
 * Settings of {@link AdamW}, with {@code torch.optim.AdamW}'s names and defaults: {@code lr} 1e-3,
 * {@code betas} (0.9, 0.999), {@code eps} 1e-8, {@code weight_decay} 1e-2. Immutable; build with
 * {@link #builder()}.
 */
public final class AdamWOptions {
    private final double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    private AdamWOptions(Builder b) {
        this.lr = b.lr;
        this.beta1 = b.beta1;
        this.beta2 = b.beta2;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The initial learning rate (the optimiser's current one is {@link AdamW#lr()}). */
    public double lr() {
        return lr;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public Builder toBuilder() {
        return new Builder().lr(lr).betas(beta1, beta2).eps(eps).weightDecay(weightDecay);
    }

    @Override
    public String toString() {
        return "AdamW[lr=" + lr + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay="
                + weightDecay + "]";
    }

    public static final class Builder {
        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay = 1e-2;

        private Builder() {
        }

        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        /** Decay rates of the first and second moment estimates. */
        public Builder betas(double beta1, double beta2) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        /** Added to the bias-corrected sqrt of the second moment. */
        public Builder eps(double eps) {
            this.eps = eps;
            return this;
        }

        /** Decoupled weight decay: every step multiplies the parameters by {@code 1 - lr * weight_decay} first. */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /** @throws IllegalArgumentException naming the first invalid setting (the ranges torch checks) */
        public AdamWOptions build() {
            AdamW.checkLr(lr);
            if (!(eps >= 0 && Double.isFinite(eps))) {
                throw new IllegalArgumentException("AdamW eps must be finite and >= 0, got " + eps);
            }
            if (!(beta1 >= 0 && beta1 < 1)) {
                throw new IllegalArgumentException("AdamW beta1 must be in [0, 1), got " + beta1);
            }
            if (!(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("AdamW beta2 must be in [0, 1), got " + beta2);
            }
            if (!(weightDecay >= 0 && Double.isFinite(weightDecay))) {
                throw new IllegalArgumentException("AdamW weight_decay must be finite and >= 0, got " + weightDecay);
            }
            return new AdamWOptions(this);
        }
    }
}
