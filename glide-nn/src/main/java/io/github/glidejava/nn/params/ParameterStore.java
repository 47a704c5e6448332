package io.github.glidejava.nn.params;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.random.PortableRandom;
import io.github.glidejava.core.io.StateDict;

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

    /** A fresh store with every parameter initialised as its {@link ParamSpec#init()} says, from {@code seed}. */
    public static ParameterStore initialise(List<ParamSpec> specs, long seed) {
        GlideBackend.init();
        Map<String, ParamSpec> specMap = index(specs);
        Map<String, INDArray> values = new LinkedHashMap<>();
        // portable: ND4J's seeded generators give other values in another process
        PortableRandom rng = new PortableRandom(seed);
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (ParamSpec s : specMap.values()) {
                long[] torchShape = s.torchShape();
                ParamInit init = s.init();
                INDArray t;
                if (init.kind() == ParamInit.Kind.CONSTANT) {
                    t = Nd4j.valueArrayOf(torchShape, (float) init.value(), DataType.FLOAT);
                } else {
                    t = Nd4j.createUninitialized(DataType.FLOAT, torchShape);
                    if (init.kind() == ParamInit.Kind.UNIFORM) {
                        rng.fillUniform(t.data().asNioFloat(), t.length(), (float) -init.value(),
                                (float) init.value());
                    } else {
                        rng.fillGaussian(t.data().asNioFloat(), t.length());
                        t.muli(init.value());
                    }
                }
                INDArray stored = s.layout().fromTorch(t);
                if (stored != t) {
                    t.close();
                }
                values.put(s.key(), stored);
            }
        }
        return new ParameterStore(specMap, values);
    }

    /**
     * Loads every parameter from a state dict strictly: {@link StateDict#checkMatches} reports all missing,
     * unexpected and mis-shaped keys at once ({@code StateDictMismatchException}); tensors that are not float32
     * (e.g. an fp16 checkpoint loaded without conversion) are cast to float32; convolution weights are converted to
     * their stored layout.
     */
    public static ParameterStore fromStateDict(List<ParamSpec> specs, StateDict stateDict) {
        GlideBackend.init();
        Map<String, ParamSpec> specMap = index(specs);
        stateDict.checkMatches(torchShapes(specMap.values()));
        Map<String, INDArray> values = new LinkedHashMap<>();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (ParamSpec s : specMap.values()) {
                INDArray t = stateDict.get(s.key());
                if (t.dataType() != DataType.FLOAT) {
                    t = t.castTo(DataType.FLOAT);
                }
                values.put(s.key(), s.layout().fromTorch(t));
            }
        }
        return new ParameterStore(specMap, values);
    }

    /** Reads one tensor of a checkpoint by its state-dict key, as a fresh float32 array the caller owns. */
    @FunctionalInterface
    public interface TensorReader {
        INDArray read(String key);
    }

    /**
     * Loads every parameter from a checkpoint tensor by tensor: {@code shapes} (the file's tensor shapes, from
     * {@code source}) are checked first as {@link #fromStateDict} checks a state dict; then each tensor is read,
     * converted to its stored layout and released at once, so loading holds the weights once plus one tensor, never
     * a second copy of the whole checkpoint.
     */
    public static ParameterStore read(List<ParamSpec> specs, String source, Map<String, long[]> shapes,
            TensorReader reader) {
        GlideBackend.init();
        Map<String, ParamSpec> specMap = index(specs);
        StateDict.checkShapes(source, shapes, torchShapes(specMap.values()));
        Map<String, INDArray> values = new LinkedHashMap<>();
        try (var ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (ParamSpec s : specMap.values()) {
                INDArray t = reader.read(s.key());
                INDArray f = t.dataType() == DataType.FLOAT ? t : t.castTo(DataType.FLOAT);
                INDArray v = s.layout().fromTorch(f);
                if (f != t && f != v) {
                    f.close();
                }
                if (t != v) {
                    t.close();
                }
                values.put(s.key(), v);
            }
        }
        return new ParameterStore(specMap, values);
    }

    /** The parameters as a state dict in PyTorch layout (fresh float32 arrays), in state_dict order. */
    public StateDict toStateDict() {
        return StateDict.of(toTorch());
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
