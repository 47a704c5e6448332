package io.github.glidejava.nn.clip;

import java.util.List;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's clip/utils.py {@code Affine}: {@code x . w^T (+ b)} with {@code w [out, in]} and an optional {@code b}.
 * The q and v biases pass through {@code zero_key_bias_grad}, the identity in the forward pass.
 */
final class Affine extends Layer {
    private final int in;
    private final int out;
    private final boolean bias;

    Affine(String prefix, int in, int out, boolean bias) {
        super(prefix);
        this.in = in;
        this.out = out;
        this.bias = bias;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        list.add(new ParamSpec(key("w"), new long[] {out, in}, ParamLayout.TORCH, ParamInit.normal(1.0 / Math.sqrt(in))));
        if (bias) {
            list.add(new ParamSpec(key("b"), new long[] {out}, ParamLayout.TORCH, ParamInit.zeros()));
        }
    }

    <T> T forward(TensorOps<T> ops, T x) {
        return ops.linear(x, ops.param(key("w")), bias ? ops.param(key("b")) : null);
    }
}
