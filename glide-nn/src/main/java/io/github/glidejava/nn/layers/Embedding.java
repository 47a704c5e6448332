package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/** torch.nn.Embedding: {@code weight [num, dim]}; integer ids of any shape -> {@code [..., dim]}. */
public final class Embedding extends Layer {
    private final int num;
    private final int dim;

    public Embedding(String prefix, int num, int dim) {
        super(prefix);
        this.num = num;
        this.dim = dim;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        list.add(new ParamSpec(key("weight"), new long[] {num, dim}, ParamLayout.TORCH, ParamInit.normal(1.0)));
    }

    public <T> T forward(TensorOps<T> ops, T ids) {
        long[] s = ops.shape(ids);
        long k = 1;
        for (long d : s) {
            k *= d;
        }
        T rows = ops.gatherRows(ops.param(key("weight")), ops.reshape(ids, k));
        long[] out = java.util.Arrays.copyOf(s, s.length + 1);
        out[s.length] = dim;
        return ops.reshape(rows, out);
    }
}
