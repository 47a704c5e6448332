package io.github.glidejava.nn.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.params.ParameterStore;

/** Runs a {@link TensorFunction} on either back-end. */
public final class Backends {
    private Backends() {
    }

    /** Runs {@code f} eagerly inside a workspace; the outputs are detached copies. */
    public static Map<String, INDArray> eager(ParameterStore params, Map<String, INDArray> inputs, TensorFunction f) {
        EagerOps ops = new EagerOps(params == null ? k -> {
            throw new IllegalArgumentException("no parameters given, but '" + k + "' was requested");
        } : params::get);
        return ops.runAll(() -> f.apply(ops, inputs));
    }

    /**
     * Builds a SameDiff graph of {@code f} with one placeholder per input (named like the input, with its type and
     * shape) and the parameters as trainable variables, executes it once and returns the outputs.
     */
    public static Map<String, INDArray> sameDiff(ParameterStore params, Map<String, INDArray> inputs, TensorFunction f) {
        SameDiff sd = SameDiff.create();
        SameDiffOps ops = new SameDiffOps(sd, params, true, false);
        Map<String, SDVariable> in = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : inputs.entrySet()) {
            in.put(e.getKey(), ops.placeholder(e.getKey(), e.getValue().dataType(), e.getValue().shape()));
        }
        Map<String, SDVariable> out = f.apply(ops, in);
        List<String> names = new ArrayList<>();
        for (SDVariable v : out.values()) {
            names.add(v.name());
        }
        Map<String, INDArray> values = sd.output(new LinkedHashMap<>(inputs), names);
        Map<String, INDArray> result = new LinkedHashMap<>();
        for (Map.Entry<String, SDVariable> e : out.entrySet()) {
            result.put(e.getKey(), values.get(e.getValue().name()));
        }
        return result;
    }
}
