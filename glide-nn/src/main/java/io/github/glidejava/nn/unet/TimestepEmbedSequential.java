package io.github.glidejava.nn.unet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.TimestepBlock;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's TimestepEmbedSequential: children ({@link TimestepBlock}s) {@code <prefix>.0, <prefix>.1, ...} applied in
 * order.
 */
final class TimestepEmbedSequential extends Layer {
    private final List<Layer> children = new ArrayList<>();

    TimestepEmbedSequential(String prefix) {
        super(prefix);
    }

    /** The key prefix the next child gets. */
    String nextKey() {
        return key(Integer.toString(children.size()));
    }

    <L extends Layer & TimestepBlock> TimestepEmbedSequential add(L child) {
        if (!child.prefix().equals(nextKey())) {
            throw new IllegalStateException("child " + child.prefix() + " added as " + nextKey());
        }
        children.add(child);
        return this;
    }

    List<Layer> children() {
        return Collections.unmodifiableList(children);
    }

    @Override
    public void collectParams(List<ParamSpec> out) {
        for (Layer l : children) {
            l.collectParams(out);
        }
    }

    <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut) {
        return ops.block(prefix(), () -> children(ops, x, emb, encoderOut));
    }

    /**
     * An output block: {@code cat([h, skip])} on the channels, then the children. The concatenation belongs to the
     * block so that the eager back-end keeps it in the block's reused memory rather than in the whole forward's
     * (in the upsampler each 256x256 one is 100 MB).
     */
    <T> T forward(TensorOps<T> ops, T h, T skip, T emb, T encoderOut) {
        return ops.block(prefix(), () -> children(ops, ops.concat(1, h, skip), emb, encoderOut));
    }

    private <T> T children(TensorOps<T> ops, T x, T emb, T encoderOut) {
        T h = x;
        for (Layer l : children) {
            h = ((TimestepBlock) l).forward(ops, h, emb, encoderOut);
        }
        return h;
    }
}
