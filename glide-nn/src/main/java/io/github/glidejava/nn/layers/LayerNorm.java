package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * torch.nn.LayerNorm over the last axis (eps 1e-5, float32), with gain and bias (state-dict names {@code weight} /
 * {@code bias}, or e.g. {@code g} / {@code b} in glide's CLIP).
 */
public final class LayerNorm extends Layer {
    private final int width;
    private final double eps;
    private final String gainName;
    private final String biasName;

    public LayerNorm(String prefix, int width) {
        this(prefix, width, 1e-5);
    }

    public LayerNorm(String prefix, int width, double eps) {
        this(prefix, width, eps, "weight", "bias");
    }

    public LayerNorm(String prefix, int width, double eps, String gainName, String biasName) {
        super(prefix);
        this.width = width;
        this.eps = eps;
        this.gainName = gainName;
        this.biasName = biasName;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        list.add(new ParamSpec(key(gainName), new long[] {width}, ParamLayout.TORCH, ParamInit.ones()));
        list.add(new ParamSpec(key(biasName), new long[] {width}, ParamLayout.TORCH, ParamInit.zeros()));
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
        return ops.add(ops.mul(y, ops.param(key(gainName))), ops.param(key(biasName)));
    }
}
