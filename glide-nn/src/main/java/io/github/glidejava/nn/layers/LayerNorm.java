package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/** torch.nn.LayerNorm over the last axis (eps 1e-5, float32), with gain and bias. */
public final class LayerNorm extends Layer {
    private final int width;
    private final double eps;

    public LayerNorm(String prefix, int width) {
        this(prefix, width, 1e-5);
    }

    public LayerNorm(String prefix, int width, double eps) {
        super(prefix);
        this.width = width;
        this.eps = eps;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        list.add(new ParamSpec(key("weight"), new long[] {width}, ParamLayout.TORCH, ParamInit.ones()));
        list.add(new ParamSpec(key("bias"), new long[] {width}, ParamLayout.TORCH, ParamInit.zeros()));
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        long[] s = ops.shape(x);
        int last = s.length - 1;
        if (s[last] != width) {
            throw new IllegalArgumentException("LayerNorm at '" + prefix() + "' expects last axis " + width
                    + ", got " + java.util.Arrays.toString(s));
        }
        T mean = ops.mean(x, true, last);
        T centered = ops.sub(x, mean);
        T var = ops.mean(ops.square(centered), true, last);
        T y = ops.mul(centered, ops.rsqrt(ops.add(var, eps)));
        return ops.add(ops.mul(y, ops.param(key("weight"))), ops.param(key("bias")));
    }
}
