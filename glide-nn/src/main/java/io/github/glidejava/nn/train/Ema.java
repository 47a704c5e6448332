package io.github.glidejava.nn.train;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.params.ParameterStore;

/**
 * Exponential moving averages of a model's parameters at one or more rates (improved-diffusion's
 * {@code ema_rate} list and {@code update_ema}): each average starts as a copy of the parameters and
 * {@link #update()} does {@code ema = rate * ema + (1 - rate) * p} in place, with {@code 1 - rate} computed in
 * double and rounded to float32 ({@code ema.mul_(rate).add_(p, alpha=1 - rate)}). Call it after the optimiser step,
 * so it averages the updated parameters. The averages are kept in the parameters' stored layout. Not thread-safe.
 */
public final class Ema {
    private final ParameterStore params;
    private final double[] rates;
    private final List<Map<String, INDArray>> averages = new ArrayList<>();

    /**
     * @param params the model's parameters, copied now as the starting averages
     * @param rates  one or more rates in [0, 1], e.g. 0.9999
     */
    public Ema(ParameterStore params, double... rates) {
        this.params = Objects.requireNonNull(params, "params");
        if (rates == null || rates.length == 0) {
            throw new IllegalArgumentException("EMA needs at least one rate, e.g. 0.9999");
        }
        for (double r : rates) {
            if (!(r >= 0 && r <= 1)) {
                throw new IllegalArgumentException("EMA rate must be in [0, 1], got " + r + " in "
                        + Arrays.toString(rates));
            }
        }
        this.rates = rates.clone();
        for (int i = 0; i < rates.length; i++) {
            Map<String, INDArray> copy = new LinkedHashMap<>();
            for (String k : params.keys()) {
                copy.put(k, params.get(k).dup('c'));
            }
            averages.add(copy);
        }
    }

    public double[] rates() {
        return rates.clone();
    }

    /** One update of every average from the parameters' current values. */
    public void update() {
        for (int r = 0; r < rates.length; r++) {
            float rate = (float) rates[r];
            float oneMinusRate = (float) (1 - rates[r]);
            for (Map.Entry<String, INDArray> e : averages.get(r).entrySet()) {
                FloatBuffer eb = DenseFloats.of(e.getValue(), "EMA of " + e.getKey());
                FloatBuffer pb = DenseFloats.of(params.get(e.getKey()), e.getKey());
                DenseFloats.forRanges(eb.limit(), (from, to) -> {
                    for (int i = from; i < to; i++) {
                        eb.put(i, Math.fma(oneMinusRate, pb.get(i), eb.get(i) * rate));
                    }
                });
            }
        }
    }

    /** The average of one parameter at rate number {@code rateIndex} (the live array, stored layout). */
    public INDArray get(int rateIndex, String key) {
        INDArray a = averages.get(checkIndex(rateIndex)).get(key);
        if (a == null) {
            throw new IllegalArgumentException("no parameter '" + key + "' in this EMA");
        }
        return a;
    }

    /** Every average at rate number {@code rateIndex} as fresh arrays in PyTorch layout, in state_dict order. */
    public Map<String, INDArray> toTorch(int rateIndex) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : averages.get(checkIndex(rateIndex)).entrySet()) {
            out.put(e.getKey(), params.spec(e.getKey()).layout().toTorch(e.getValue()));
        }
        return out;
    }

    /**
     * Replaces the averages at rate number {@code rateIndex} (e.g. from a checkpoint), given in PyTorch layout;
     * every parameter is required.
     */
    public void loadTorch(int rateIndex, Map<String, INDArray> torchLayout) {
        Map<String, INDArray> target = averages.get(checkIndex(rateIndex));
        Map<String, INDArray> next = new LinkedHashMap<>();
        for (String k : params.keys()) {
            INDArray t = torchLayout.get(k);
            if (t == null) {
                throw new IllegalArgumentException("EMA checkpoint has no '" + k + "'");
            }
            INDArray stored = params.spec(k).layout().fromTorch(t.castTo(DataType.FLOAT));
            DenseFloats.requireSameShape(stored, params.get(k), "EMA of " + k);
            next.put(k, stored);
        }
        if (torchLayout.size() != next.size()) {
            List<String> extra = new ArrayList<>(torchLayout.keySet());
            extra.removeAll(next.keySet());
            throw new IllegalArgumentException("EMA checkpoint has keys that are not parameters: " + extra);
        }
        target.clear();
        target.putAll(next);
    }

    private int checkIndex(int rateIndex) {
        if (rateIndex < 0 || rateIndex >= rates.length) {
            throw new IllegalArgumentException("rate index " + rateIndex + " out of range for rates "
                    + Arrays.toString(rates));
        }
        return rateIndex;
    }

    @Override
    public String toString() {
        return "Ema" + Arrays.toString(rates) + " of " + params.keys().size() + " parameters";
    }
}
