package io.github.glidejava.nn.train;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.params.ParameterStore;

/**
 * {@code torch.optim.AdamW} with PyTorch 1.13's single-tensor semantics, updating a {@link ParameterStore}'s arrays
 * in place. For each parameter that has a gradient, one {@link #step} does:
 *
 * <pre>
 * step += 1
 * p *= 1 - lr * weight_decay                      (decoupled weight decay, before the moments)
 * m  = beta1 * m + (1 - beta1) * g
 * v  = beta2 * v + (1 - beta2) * g * g
 * denom = sqrt(v) / sqrt(1 - beta2^step) + eps    (eps after the bias correction)
 * p += -(lr / (1 - beta1^step)) * m / denom
 * </pre>
 *
 * in float32 with torch's operation order: the scalars are computed in double and rounded to float32, and
 * {@code m.mul_(beta1).add_(g, alpha=1-beta1)} is a fused multiply-add as on torch's AVX2 CPU kernels. A parameter
 * without a gradient in a step is left alone (no decay, its step count unchanged), as torch skips parameters whose
 * {@code grad} is None. The state of a parameter (step, {@code exp_avg}, {@code exp_avg_sq}) is created at its first
 * step; afterwards a step allocates nothing. Not thread-safe.
 */
public final class AdamW {
    private final ParameterStore params;
    private final AdamWOptions options;
    private final Map<String, ParamState> state = new LinkedHashMap<>();
    private double lr;

    /**
     * The state of one parameter, as torch's {@code optimizer.state[p]}: in the parameter's stored layout.
     *
     * @param step     number of steps this parameter has taken
     * @param expAvg   first moment estimate {@code exp_avg}
     * @param expAvgSq second moment estimate {@code exp_avg_sq}
     */
    public record ParamState(long step, INDArray expAvg, INDArray expAvgSq) {
        public ParamState {
            if (step < 1) {
                throw new IllegalArgumentException("AdamW state step must be >= 1, got " + step);
            }
            Objects.requireNonNull(expAvg, "exp_avg");
            Objects.requireNonNull(expAvgSq, "exp_avg_sq");
            DenseFloats.requireSameShape(expAvgSq, expAvg, "exp_avg_sq");
        }
    }

    public AdamW(ParameterStore params, AdamWOptions options) {
        this.params = Objects.requireNonNull(params, "params");
        this.options = Objects.requireNonNull(options, "options");
        this.lr = options.lr();
    }

    public AdamWOptions options() {
        return options;
    }

    /** The learning rate the next step uses. */
    public double lr() {
        return lr;
    }

    /** Sets the learning rate for the following steps (warm-up, decay), as {@code param_groups[0]["lr"] = lr}. */
    public void setLr(double lr) {
        checkLr(lr);
        this.lr = lr;
    }

    static void checkLr(double lr) {
        if (!(lr >= 0 && Double.isFinite(lr))) {
            throw new IllegalArgumentException("AdamW lr must be finite and >= 0, got " + lr);
        }
    }

    /**
     * One optimisation step with the current {@link #lr()}.
     *
     * @param grads gradient per parameter key, each float32 of the parameter's stored shape; parameters without an
     *              entry are not updated
     * @throws IllegalArgumentException for a key the store does not have or a gradient of the wrong shape or type
     *                                  (checked for all gradients before anything is updated)
     */
    public void step(Map<String, INDArray> grads) {
        Objects.requireNonNull(grads, "grads");
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            if (!params.contains(e.getKey())) {
                throw new IllegalArgumentException("gradient for '" + e.getKey() + "', which is not a parameter of"
                        + " this model");
            }
            DenseFloats.requireSameShape(e.getValue(), params.get(e.getKey()), "gradient of " + e.getKey());
            DenseFloats.of(e.getValue(), "gradient of " + e.getKey());
        }
        for (String key : params.keys()) {
            INDArray g = grads.get(key);
            if (g != null) {
                update(key, params.get(key), g);
            }
        }
    }

    private void update(String key, INDArray p, INDArray g) {
        ParamState s = state.get(key);
        if (s == null) {
            s = new ParamState(1, Nd4j.zeros(DataType.FLOAT, p.shape()), Nd4j.zeros(DataType.FLOAT, p.shape()));
        } else {
            s = new ParamState(s.step() + 1, s.expAvg(), s.expAvgSq());
        }
        state.put(key, s);
        long step = s.step();
        double beta1 = options.beta1();
        double beta2 = options.beta2();
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2 = 1 - Math.pow(beta2, step);
        float decay = (float) (1 - lr * options.weightDecay());
        float b1 = (float) beta1;
        float oneMinusB1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float oneMinusB2 = (float) (1 - beta2);
        float bc2Sqrt = (float) Math.sqrt(biasCorrection2);
        float eps = (float) options.eps();
        float negStepSize = (float) -(lr / biasCorrection1);
        FloatBuffer pb = DenseFloats.of(p, key);
        FloatBuffer gb = DenseFloats.of(g, "gradient of " + key);
        FloatBuffer mb = DenseFloats.of(s.expAvg(), "exp_avg of " + key);
        FloatBuffer vb = DenseFloats.of(s.expAvgSq(), "exp_avg_sq of " + key);
        DenseFloats.forRanges(pb.limit(), (from, to) -> {
            for (int i = from; i < to; i++) {
                float gi = gb.get(i);
                float pi = pb.get(i) * decay;
                float mi = Math.fma(oneMinusB1, gi, mb.get(i) * b1);
                float vi = vb.get(i) * b2 + oneMinusB2 * gi * gi;
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                mb.put(i, mi);
                vb.put(i, vi);
                pb.put(i, pi + negStepSize * mi / denom);
            }
        });
    }

    /** The state of one parameter (copies), or null before its first step. */
    public ParamState state(String key) {
        ParamState s = state.get(key);
        return s == null ? null : new ParamState(s.step(), s.expAvg().dup('c'), s.expAvgSq().dup('c'));
    }

    /** The state of every parameter that has taken a step (copies), in state_dict order. */
    public Map<String, ParamState> state() {
        Map<String, ParamState> out = new LinkedHashMap<>();
        for (String k : params.keys()) {
            ParamState s = state(k);
            if (s != null) {
                out.put(k, s);
            }
        }
        return out;
    }

    /**
     * Replaces the whole state (e.g. from a checkpoint): parameters absent from {@code restored} start afresh.
     *
     * @throws IllegalArgumentException for an unknown key or moments of the wrong shape (nothing is changed then)
     */
    public void loadState(Map<String, ParamState> restored) {
        Map<String, ParamState> next = new LinkedHashMap<>();
        for (Map.Entry<String, ParamState> e : restored.entrySet()) {
            String key = e.getKey();
            if (!params.contains(key)) {
                throw new IllegalArgumentException("AdamW state for '" + key + "', which is not a parameter of this"
                        + " model");
            }
            ParamState s = e.getValue();
            DenseFloats.requireSameShape(s.expAvg(), params.get(key), "exp_avg of " + key);
            next.put(key, new ParamState(s.step(), s.expAvg().castTo(DataType.FLOAT).dup('c'),
                    s.expAvgSq().castTo(DataType.FLOAT).dup('c')));
        }
        state.clear();
        state.putAll(next);
    }

    /**
     * The state as named tensors for a checkpoint file: {@code exp_avg.<key>}, {@code exp_avg_sq.<key>} (float32,
     * stored layout) and {@code step.<key>} (int64 {@code [1]}); see {@link #loadStateTensors}.
     */
    public Map<String, INDArray> stateTensors() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, ParamState> e : state().entrySet()) {
            out.put("exp_avg." + e.getKey(), e.getValue().expAvg());
            out.put("exp_avg_sq." + e.getKey(), e.getValue().expAvgSq());
            out.put("step." + e.getKey(), Nd4j.createFromArray(new long[] {e.getValue().step()}));
        }
        return out;
    }

    /** Restores the state written by {@link #stateTensors()}; every key needs all three tensors. */
    public void loadStateTensors(Map<String, INDArray> tensors) {
        Map<String, ParamState> restored = new LinkedHashMap<>();
        for (String name : tensors.keySet()) {
            int dot = name.indexOf('.');
            String kind = dot < 0 ? "" : name.substring(0, dot);
            if (!kind.equals("exp_avg") && !kind.equals("exp_avg_sq") && !kind.equals("step")) {
                throw new IllegalArgumentException("unexpected AdamW state tensor '" + name
                        + "'; expected exp_avg.<key>, exp_avg_sq.<key> or step.<key>");
            }
            String key = name.substring(dot + 1);
            if (restored.containsKey(key)) {
                continue;
            }
            INDArray m = tensors.get("exp_avg." + key);
            INDArray v = tensors.get("exp_avg_sq." + key);
            INDArray step = tensors.get("step." + key);
            if (m == null || v == null || step == null || step.length() != 1) {
                throw new IllegalArgumentException("AdamW state of '" + key + "' is incomplete: need exp_avg." + key
                        + ", exp_avg_sq." + key + " and a one-element step." + key);
            }
            restored.put(key, new ParamState(step.getLong(0), m, v));
        }
        loadState(restored);
    }

    @Override
    public String toString() {
        return options + " lr now " + lr + ", " + state.size() + " of " + params.keys().size()
                + " parameters stepped" + (state.isEmpty() ? "" : " " + Arrays.toString(
                state.values().stream().mapToLong(ParamState::step).distinct().toArray()) + " times");
    }
}
