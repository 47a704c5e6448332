package io.github.glidejava.nn.xf;

import java.util.ArrayList;
import java.util.List;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/** glide's xf.Transformer: {@code layers} residual attention blocks ({@code resblocks.i}) on {@code [N, T, width]}. */
public final class Transformer extends Layer {
    private final int width;
    private final List<ResidualAttentionBlock> blocks = new ArrayList<>();

    public Transformer(String prefix, int width, int layers, int heads) {
        super(prefix);
        this.width = width;
        for (int i = 0; i < layers; i++) {
            blocks.add(new ResidualAttentionBlock(key("resblocks." + i), width, heads));
        }
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        for (ResidualAttentionBlock b : blocks) {
            b.collectParams(list);
        }
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        long[] s = ops.shape(x);
        if (s.length != 3 || s[2] != width) {
            throw new IllegalArgumentException("text transformer expects [N, T, " + width + "], got "
                    + java.util.Arrays.toString(s));
        }
        for (int i = 0; i < blocks.size(); i++) {
            ResidualAttentionBlock b = blocks.get(i);
            T in = x;
            x = ops.block("resblocks_" + i, () -> b.forward(ops, in));
        }
        return x;
    }
}
