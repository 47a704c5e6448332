package io.github.glidejava.nn.params;

import java.util.Arrays;
import java.util.Objects;

/**
 * One parameter a layer expects: its PyTorch state-dict key, PyTorch shape, stored layout and how a fresh model
 * initialises it.
 */
public final class ParamSpec {
    private final String key;
    private final long[] torchShape;
    private final ParamLayout layout;
    private final ParamInit init;

    public ParamSpec(String key, long[] torchShape, ParamLayout layout, ParamInit init) {
        this.key = Objects.requireNonNull(key, "key");
        this.torchShape = torchShape.clone();
        this.layout = Objects.requireNonNull(layout, "layout");
        this.init = Objects.requireNonNull(init, "init");
        layout.storedShape(torchShape); // validates the rank
    }

    public String key() {
        return key;
    }

    /** The shape of the tensor in a PyTorch state dict. */
    public long[] torchShape() {
        return torchShape.clone();
    }

    /** The shape of the tensor as the layers use it. */
    public long[] storedShape() {
        return layout.storedShape(torchShape);
    }

    public ParamLayout layout() {
        return layout;
    }

    public ParamInit init() {
        return init;
    }

    @Override
    public String toString() {
        return key + Arrays.toString(torchShape) + (layout == ParamLayout.TORCH ? "" : " (" + layout + ")");
    }
}
