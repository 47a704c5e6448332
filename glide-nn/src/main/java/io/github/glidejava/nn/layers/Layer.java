package io.github.glidejava.nn.layers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.github.glidejava.nn.params.ParamSpec;

/**
 * A building block with parameters under a PyTorch state-dict prefix (e.g. {@code input_blocks.1.0}). A layer
 * holds only its configuration; its forward is a generic method over {@link io.github.glidejava.nn.ops.TensorOps},
 * so one definition serves both back-ends.
 */
public abstract class Layer {
    private final String prefix;

    protected Layer(String prefix) {
        this.prefix = prefix == null ? "" : prefix;
    }

    /** The state-dict prefix of this layer ("" at the top level). */
    public final String prefix() {
        return prefix;
    }

    /** The full state-dict key of one of this layer's own tensors or sub-modules. */
    public final String key(String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    /** Appends this layer's parameters in PyTorch {@code state_dict()} order. */
    public abstract void collectParams(List<ParamSpec> out);

    /** This layer's parameters in PyTorch {@code state_dict()} order. */
    public final List<ParamSpec> params() {
        List<ParamSpec> out = new ArrayList<>();
        collectParams(out);
        return Collections.unmodifiableList(out);
    }

    /** Joins a prefix and a child name. */
    public static String child(String prefix, String name) {
        return prefix == null || prefix.isEmpty() ? name : prefix + "." + name;
    }
}
