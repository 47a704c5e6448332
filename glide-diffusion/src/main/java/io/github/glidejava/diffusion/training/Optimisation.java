package io.github.glidejava.diffusion.training;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.nn.autodiff.Gradients;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.train.AdamW;
import io.github.glidejava.nn.train.AdamWOptions;
import io.github.glidejava.nn.train.Ema;
import io.github.glidejava.nn.train.GradientClipping;

/**
 * What happens to the weights after backward: clipping of the global gradient norm, an AdamW step on the
 * trainable parameters (those not under a frozen prefix), and the EMA updates; and the files that keep this state
 * in a checkpoint ({@code optimizer.safetensors}, {@code ema-RATE.safetensors}).
 */
final class Optimisation {
    static final String OPTIMIZER_FILE = "optimizer.safetensors";

    private final Gradients grads;
    private final AdamW adam;
    private final Ema ema;
    private final double maxGradNorm;

    Optimisation(ParameterStore params, TrainingRecipe recipe) {
        List<String> frozen = recipe.freeze();
        this.grads = Gradients.zerosLike(params, key -> frozen.stream().noneMatch(key::startsWith));
        if (grads.keys().isEmpty()) {
            throw new IllegalArgumentException("--freeze " + String.join(",", frozen) + " leaves no parameter to train");
        }
        this.adam = new AdamW(params, AdamWOptions.builder().lr(recipe.lr()).betas(recipe.beta1(), recipe.beta2())
                .eps(recipe.adamEps()).weightDecay(recipe.weightDecay()).build());
        this.ema = new Ema(params, recipe.emaRates().stream().mapToDouble(Double::doubleValue).toArray());
        this.maxGradNorm = recipe.maxGradNorm();
    }

    Gradients gradients() {
        return grads;
    }

    /** Clips, steps with learning rate {@code lr} and updates the EMAs; returns the gradient norm before clipping. */
    double step(double lr) {
        Map<String, INDArray> g = grads.asMap();
        double norm = maxGradNorm > 0 ? GradientClipping.clipGradNorm(g, maxGradNorm) : GradientClipping.totalNorm(g);
        adam.setLr(lr);
        adam.step(g);
        ema.update();
        return norm;
    }

    /** The first EMA's weights in PyTorch layout (fresh arrays). */
    Map<String, INDArray> firstEma() {
        return ema.toTorch(0);
    }

    void save(Path dir, Map<String, String> metadata) throws IOException {
        SafeTensors.write(dir.resolve(OPTIMIZER_FILE), adam.stateTensors());
        saveEma(dir, metadata);
    }

    void saveEma(Path dir, Map<String, String> metadata) throws IOException {
        double[] rates = ema.rates();
        for (int i = 0; i < rates.length; i++) {
            Map<String, String> md = new LinkedHashMap<>(metadata);
            md.put("ema_rate", Double.toString(rates[i]));
            SafeTensors.write(dir.resolve(emaFile(rates[i])), ema.toTorch(i), md);
        }
    }

    void restore(Path dir) throws IOException {
        try (SafeTensors st = SafeTensors.open(dir.resolve(OPTIMIZER_FILE))) {
            Map<String, INDArray> tensors = new LinkedHashMap<>();
            for (String name : st.names()) {
                tensors.put(name, st.get(name).dup());
            }
            adam.loadStateTensors(tensors);
        }
        double[] rates = ema.rates();
        for (int i = 0; i < rates.length; i++) {
            try (SafeTensors st = SafeTensors.open(dir.resolve(emaFile(rates[i])))) {
                Map<String, INDArray> tensors = new LinkedHashMap<>();
                for (String name : st.names()) {
                    tensors.put(name, st.getFloat(name).dup());
                }
                ema.loadTorch(i, tensors);
            }
        }
    }

    /** {@code ema-0.9999.safetensors}: the rate as written in the recipe. */
    static String emaFile(double rate) {
        return "ema-" + stripZeros(rate) + ".safetensors";
    }

    private static String stripZeros(double rate) {
        return new java.math.BigDecimal(Double.toString(rate)).stripTrailingZeros().toPlainString();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Optimisation[%d trainable tensors, %s]", grads.keys().size(), adam);
    }
}
