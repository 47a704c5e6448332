package io.github.glidejava.nn.params;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

/**
 * All parameters of a model (or layer), keyed by their exact PyTorch state-dict names, each a float32 C-order
 * array in its stored layout ({@link ParamLayout}). Both back-ends read from the same store: the eager back-end
 * uses the arrays directly, the SameDiff back-end wraps them as variables (training updates them in place).
 */
public final class ParameterStore {
    private final Map<String, ParamSpec> specs;
    private final Map<String, INDArray> values;

    private ParameterStore(Map<String, ParamSpec> specs, Map<String, INDArray> values) {
        this.specs = specs;
        this.values = values;
    }

    /** Where tensors in PyTorch layout come from (a state dict, a fixture file with a key prefix, ...). */
    public interface TorchTensors {
        /** Every key available, in file order. */
        List<String> keys();

        long[] shape(String key);

        /** The tensor as float32 in PyTorch layout (half precision decoded exactly). */
        INDArray getFloat(String key);

        /** Names the source in error messages (e.g. its file). */
        String describe();
    }

    /** A fresh store with every parameter initialised as its {@link ParamSpec#init()} says, from {@code seed}. */
    public static ParameterStore initialise(List<ParamSpec> specs, long seed) {
        GlideBackend.init();
        Map<String, ParamSpec> specMap = index(specs);
        Map<String, INDArray> values = new LinkedHashMap<>();
        Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed);
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (ParamSpec s : specMap.values()) {
                long[] torchShape = s.torchShape();
                INDArray t;
                ParamInit init = s.init();
                switch (init.kind()) {
                    case UNIFORM:
                        t = Nd4j.getExecutioner().exec(
                                new org.nd4j.linalg.api.ops.random.impl.UniformDistribution(
                                        Nd4j.createUninitialized(DataType.FLOAT, torchShape), -init.value(), init.value()),
                                rng);
                        break;
                    case NORMAL:
                        t = Nd4j.getExecutioner().exec(
                                new org.nd4j.linalg.api.ops.random.impl.GaussianDistribution(
                                        Nd4j.createUninitialized(DataType.FLOAT, torchShape), 0.0, init.value()),
                                rng);
                        break;
                    default:
                        t = Nd4j.valueArrayOf(torchShape, (float) init.value(), DataType.FLOAT);
                }
                values.put(s.key(), s.layout().fromTorch(t));
            }
        }
        return new ParameterStore(specMap, values);
    }

    /**
     * Loads every parameter from {@code source} strictly: all missing, unexpected and mis-shaped keys are reported
     * together in one {@link ParameterMismatchException}.
     */
    public static ParameterStore load(List<ParamSpec> specs, TorchTensors source) {
        GlideBackend.init();
        Map<String, ParamSpec> specMap = index(specs);
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        Set<String> available = new LinkedHashSet<>(source.keys());
        for (ParamSpec s : specMap.values()) {
            if (!available.contains(s.key())) {
                missing.add(s.key() + " " + Arrays.toString(s.torchShape()));
            } else if (!Arrays.equals(source.shape(s.key()), s.torchShape())) {
                misShaped.add(s.key() + ": expected " + Arrays.toString(s.torchShape()) + ", found "
                        + Arrays.toString(source.shape(s.key())));
            }
        }
        for (String k : available) {
            if (!specMap.containsKey(k)) {
                unexpected.add(k + " " + Arrays.toString(source.shape(k)));
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
            throw new ParameterMismatchException(source.describe(), missing, unexpected, misShaped);
        }
        return loadChecked(specMap, source::getFloat);
    }

    /** Loads from tensors whose names and shapes were already checked against {@code specs}. */
    static ParameterStore loadChecked(Map<String, ParamSpec> specMap, Function<String, INDArray> torchFloat) {
        Map<String, INDArray> values = new LinkedHashMap<>();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (ParamSpec s : specMap.values()) {
                INDArray t = torchFloat.apply(s.key());
                if (t.dataType() != DataType.FLOAT) {
                    t = t.castTo(DataType.FLOAT);
                }
                values.put(s.key(), s.layout().fromTorch(t));
            }
        }
        return new ParameterStore(specMap, values);
    }

    private static Map<String, ParamSpec> index(List<ParamSpec> specs) {
        Map<String, ParamSpec> m = new LinkedHashMap<>();
        for (ParamSpec s : specs) {
            if (m.put(s.key(), s) != null) {
                throw new IllegalArgumentException("duplicate parameter key " + s.key());
            }
        }
        return m;
    }

    /** The parameter in its stored layout (the array itself, not a copy). */
    public INDArray get(String key) {
        INDArray v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("no parameter '" + key + "' in this model (" + values.size()
                    + " parameters; e.g. " + values.keySet().stream().limit(3).toList() + ")");
        }
        return v;
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    /** A copy of the parameter in PyTorch layout. */
    public INDArray getTorch(String key) {
        return spec(key).layout().toTorch(get(key));
    }

    public ParamSpec spec(String key) {
        ParamSpec s = specs.get(key);
        if (s == null) {
            throw new IllegalArgumentException("no parameter '" + key + "' in this model");
        }
        return s;
    }

    /** Parameter keys in PyTorch state_dict order. */
    public List<String> keys() {
        return List.copyOf(values.keySet());
    }

    public List<ParamSpec> specs() {
        return List.copyOf(specs.values());
    }

    /** Key -> PyTorch shape of every parameter, in state_dict order. */
    public Map<String, long[]> torchShapes() {
        return torchShapes(specs.values());
    }

    public static Map<String, long[]> torchShapes(Iterable<ParamSpec> specs) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (ParamSpec s : specs) {
            m.put(s.key(), s.torchShape());
        }
        return Collections.unmodifiableMap(m);
    }

    /** Every parameter as a fresh float32 array in PyTorch layout, in state_dict order. */
    public Map<String, INDArray> toTorch() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (String k : values.keySet()) {
                m.put(k, getTorch(k));
            }
        }
        return m;
    }

    /** Total number of scalar parameters. */
    public long numParameters() {
        long n = 0;
        for (INDArray v : values.values()) {
            n += v.length();
        }
        return n;
    }
}
