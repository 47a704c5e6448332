package io.github.glidejava.nn.autodiff;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.params.ParameterStore;

/**
 * Gradient accumulators: one array per trainable parameter, keyed by its state-dict key, in the parameter store's
 * {@code state_dict} order and in the parameter's stored layout and type (float32 for a {@link ParameterStore}).
 * {@link TapeOps#backward} adds into them, so several micro-batches accumulate in place until {@link #zero()}.
 */
public final class Gradients {
    private final Map<String, INDArray> grads;

    private Gradients(Map<String, INDArray> grads) {
        this.grads = grads;
    }

    /** Zeroed accumulators for the parameters of {@code params} that {@code trainable} accepts. */
    public static Gradients zerosLike(ParameterStore params, Predicate<String> trainable) {
        Objects.requireNonNull(params, "params");
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (String k : params.keys()) {
            m.put(k, params.get(k));
        }
        return zerosLike(m, trainable);
    }

    /** Zeroed accumulators shaped and typed like the chosen arrays of {@code params} (e.g. float64 for checks). */
    public static Gradients zerosLike(Map<String, INDArray> params, Predicate<String> trainable) {
        Objects.requireNonNull(trainable, "trainable");
        Map<String, INDArray> m = new LinkedHashMap<>();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (Map.Entry<String, INDArray> e : params.entrySet()) {
                if (trainable.test(e.getKey())) {
                    m.put(e.getKey(), Nd4j.zeros(e.getValue().dataType(), e.getValue().shape()));
                }
            }
        }
        return new Gradients(m);
    }

    /** The accumulator of {@code key}; fails for a parameter that is not trained. */
    public INDArray get(String key) {
        INDArray g = grads.get(key);
        if (g == null) {
            throw new IllegalArgumentException("no gradient for '" + key + "': it is not a trainable parameter ("
                    + grads.size() + " are)");
        }
        return g;
    }

    public boolean contains(String key) {
        return grads.containsKey(key);
    }

    /** Trainable parameter keys in state_dict order. */
    public List<String> keys() {
        return List.copyOf(grads.keySet());
    }

    /** An unmodifiable, insertion-ordered view of every accumulator. */
    public Map<String, INDArray> asMap() {
        return Collections.unmodifiableMap(grads);
    }

    /** Sets every accumulator to 0 (before the next step's micro-batches). */
    public void zero() {
        for (INDArray g : grads.values()) {
            g.assign(0);
        }
    }

    /** The L2 norm over all accumulators, summed in double. */
    public double globalNorm() {
        double sum = 0;
        for (INDArray g : grads.values()) {
            sum += sumOfSquares(g);
        }
        return Math.sqrt(sum);
    }

    private static double sumOfSquares(INDArray g) {
        if (g.dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT) {
            double n = g.norm2Number().doubleValue();
            return n * n;
        }
        // float32 accumulators are dense arrays of their own (made by zerosLike): read the buffer, sum in double
        java.nio.FloatBuffer b = g.data().asNioFloat();
        double sum = 0;
        for (int i = 0, n = (int) g.length(); i < n; i++) {
            double v = b.get(i);
            sum += v * v;
        }
        return sum;
    }

    /** Multiplies every accumulator by {@code factor} (gradient clipping, micro-batch averaging). */
    public void scale(double factor) {
        if (!Double.isFinite(factor)) {
            throw new IllegalArgumentException("gradient scale factor must be finite, got " + factor);
        }
        for (INDArray g : grads.values()) {
            g.muli(factor);
        }
    }
}
