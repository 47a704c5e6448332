package io.github.glidejava.diffusion.training;

import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Draws the training timesteps of a batch with their importance weights, as improved-diffusion's schedule samplers:
 * uniform (every weight 1), or loss-aware (after a warm-up, t drawn in proportion to the root mean square of its
 * recent losses, weights 1 / (T p(t)) so the loss stays unbiased).
 */
interface TimestepDraw {

    /** Timesteps in [0, T) and their weights. */
    record Draw(int[] timesteps, double[] weights) {
    }

    Draw sample(int batch, SplittableRandom rng);

    /** Records the per-row losses of a finished step (loss-aware sampling learns from them). */
    void update(int[] timesteps, double[] losses);

    /** What a checkpoint must hold to continue exactly. */
    JsonNode state();

    void restore(JsonNode state);

    static TimestepDraw create(TrainingRecipe.TimestepSampling kind, int numTimesteps) {
        return switch (kind) {
            case UNIFORM -> new Uniform(numTimesteps);
            case LOSS_SECOND_MOMENT -> throw new UnsupportedOperationException("loss-second-moment: wired at merge");
        };
    }

    /** improved-diffusion's UniformSampler: t uniform in [0, T), every weight 1. */
    record Uniform(int numTimesteps) implements TimestepDraw {
        @Override
        public Draw sample(int batch, SplittableRandom rng) {
            int[] t = new int[batch];
            double[] w = new double[batch];
            for (int i = 0; i < batch; i++) {
                t[i] = rng.nextInt(numTimesteps);
                w[i] = 1.0;
            }
            return new Draw(t, w);
        }

        @Override
        public void update(int[] timesteps, double[] losses) {
        }

        @Override
        public JsonNode state() {
            return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("kind", "uniform");
        }

        @Override
        public void restore(JsonNode state) {
        }
    }
}
