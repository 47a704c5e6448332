package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/** torch.nn.Linear: {@code weight [out, in]}, {@code bias [out]}; applies to the last axis of any rank >= 2. */
public final class Linear extends Layer {
    private final int in;
    private final int out;

    public Linear(String prefix, int in, int out) {
        super(prefix);
        this.in = in;
        this.out = out;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        list.add(new ParamSpec(key("weight"), new long[] {out, in}, ParamLayout.TORCH, ParamInit.fanIn(in)));
        list.add(new ParamSpec(key("bias"), new long[] {out}, ParamLayout.TORCH, ParamInit.fanIn(in)));
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        return ops.linear(x, ops.param(key("weight")), ops.param(key("bias")));
    }
}
