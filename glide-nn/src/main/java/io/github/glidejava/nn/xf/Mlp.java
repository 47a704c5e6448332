package io.github.glidejava.nn.xf;

import java.util.List;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.Linear;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/** glide's xf.MLP: {@code c_proj(gelu(c_fc(x)))} with the exact (erf) GELU, hidden width 4x. */
public final class Mlp extends Layer {
    private final Linear cFc;
    private final Linear cProj;

    public Mlp(String prefix, int width) {
        super(prefix);
        this.cFc = new Linear(key("c_fc"), width, width * 4);
        this.cProj = new Linear(key("c_proj"), width * 4, width);
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        cFc.collectParams(list);
        cProj.collectParams(list);
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        return cProj.forward(ops, ops.gelu(cFc.forward(ops, x)));
    }
}
