package io.github.glidejava.core.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import io.github.glidejava.core.GlideBackend;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An ordered map of parameter name to tensor, loaded from a safetensors file or a PyTorch {@code torch.save} zip
 * checkpoint (the format is recognised from the content by {@link CheckpointFormat#detect}), or built from arrays.
 *
 * <p>Arrays live off-heap, outside any workspace; {@link #get} returns the held array itself (not a copy).
 */
public final class StateDict {
    static {
        GlideBackend.init();
    }

    private final String source;
    private final Map<String, INDArray> tensors;

    private StateDict(String source, Map<String, INDArray> tensors) {
        this.source = source;
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /** {@link #load(Path, boolean)} converting float16 and bfloat16 to float32, as GLIDE's float32 models need. */
    public static StateDict load(Path file) throws IOException {
        return load(file, true);
    }

    /**
     * Loads every tensor of {@code file} (safetensors or torch.save zip). With {@code halfToFloat}, F16 and BF16
     * tensors are decoded exactly to FLOAT; all other types keep their natural ND4J type.
     */
    public static StateDict load(Path file, boolean halfToFloat) throws IOException {
        Map<String, INDArray> out = new LinkedHashMap<>();
        switch (CheckpointFormat.requireSupported(file)) {
            case SAFETENSORS -> {
                try (SafeTensors st = SafeTensors.open(file)) {
                    for (String name : st.names()) {
                        out.put(name, convert(st.info(name).dtype(), halfToFloat) ? st.getFloat(name) : st.get(name));
                    }
                }
            }
            case TORCH_ZIP -> {
                try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
                    for (String name : ckpt.names()) {
                        out.put(name, convert(ckpt.info(name).dtype(), halfToFloat) ? ckpt.getFloat(name)
                                : ckpt.get(name));
                    }
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
            default -> throw new IllegalStateException("requireSupported returned an unsupported format");
        }
        return new StateDict(file.toString(), out);
    }

    private static boolean convert(DType type, boolean halfToFloat) {
        return halfToFloat && (type == DType.F16 || type == DType.BF16);
    }

    /** A state dict of {@code tensors} in the map's iteration order (the arrays are held, not copied). */
    public static StateDict of(Map<String, INDArray> tensors) {
        Map<String, INDArray> copy = new LinkedHashMap<>();
        tensors.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "key"),
                Objects.requireNonNull(v, () -> "tensor '" + k + "' is null")));
        return new StateDict("<in memory>", copy);
    }

    /** Where this state dict came from (a file path or {@code <in memory>}). */
    public String source() {
        return source;
    }

    /** Keys in checkpoint order (unmodifiable). */
    public Set<String> keys() {
        return tensors.keySet();
    }

    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    public int size() {
        return tensors.size();
    }

    /** The tensor for {@code key}; an IllegalArgumentException naming the key and source when absent. */
    public INDArray get(String key) {
        INDArray a = tensors.get(key);
        if (a == null) {
            throw new IllegalArgumentException("no tensor '" + key + "' in state dict " + source + " (" + size()
                    + " keys)");
        }
        return a;
    }

    public long[] shape(String key) {
        return get(key).shape();
    }

    /** The ordered map of keys to arrays (unmodifiable). */
    public Map<String, INDArray> asMap() {
        return tensors;
    }

    /**
     * The entries whose key starts with {@code prefix}, with the prefix removed (e.g. {@code "param."} of the
     * reference fixtures, or a sub-module's {@code "transformer."}).
     */
    public StateDict subDict(String prefix) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return new StateDict(source + " [" + prefix + "*]", out);
    }

    /**
     * Checks this state dict against the shapes a model expects: throws one {@link StateDictMismatchException}
     * listing every missing, unexpected and mis-shaped key.
     */
    public void checkMatches(Map<String, long[]> expectedShapes) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        tensors.forEach((k, v) -> shapes.put(k, v.shape()));
        checkShapes(source, shapes, expectedShapes);
    }

    /**
     * {@link #checkMatches} for tensors known by their shapes only (a checkpoint read tensor by tensor):
     * {@code shapes} from {@code source} against {@code expectedShapes}.
     */
    public static void checkShapes(String source, Map<String, long[]> shapes, Map<String, long[]> expectedShapes) {
        List<String> missing = new ArrayList<>();
        List<StateDictMismatchException.ShapeMismatch> mismatched = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expectedShapes.entrySet()) {
            long[] have = shapes.get(e.getKey());
            if (have == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(have, e.getValue())) {
                mismatched.add(new StateDictMismatchException.ShapeMismatch(e.getKey(), e.getValue().clone(),
                        have.clone()));
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : shapes.keySet()) {
            if (!expectedShapes.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            throw new StateDictMismatchException(source, missing, unexpected, mismatched);
        }
    }

    /** Writes all tensors (their own data types) to a safetensors file, atomically. */
    public void save(Path safetensorsFile, Map<String, String> metadata) throws IOException {
        SafeTensors.write(safetensorsFile, tensors, metadata);
    }

    @Override
    public String toString() {
        return "StateDict[" + source + ", " + size() + " tensors]";
    }
}
