package io.github.glidejava.nn.xf;

import java.util.List;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.LayerNorm;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/** glide's xf.ResidualAttentionBlock (pre-norm): {@code x + attn(ln_1(x))}, then {@code x + mlp(ln_2(x))}. */
public final class ResidualAttentionBlock extends Layer {
    private final MultiheadAttention attn;
    private final LayerNorm ln1;
    private final Mlp mlp;
    private final LayerNorm ln2;

    public ResidualAttentionBlock(String prefix, int width, int heads) {
        super(prefix);
        this.attn = new MultiheadAttention(key("attn"), width, heads);
        this.ln1 = new LayerNorm(key("ln_1"), width);
        this.mlp = new Mlp(key("mlp"), width);
        this.ln2 = new LayerNorm(key("ln_2"), width);
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        attn.collectParams(list);
        ln1.collectParams(list);
        mlp.collectParams(list);
        ln2.collectParams(list);
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        x = ops.add(x, attn.forward(ops, ln1.forward(ops, x)));
        return ops.add(x, mlp.forward(ops, ln2.forward(ops, x)));
    }
}
