package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * torch.nn.Conv1d with kernel size 1 on {@code [N, C, L]} (the attention projections). The weight
 * {@code [out, in, 1]} is stored as a 1x1 conv2d weight {@code [1, 1, in, out]} and applied as a 1x1 convolution.
 */
public final class Conv1x1 extends Layer {
    private final int in;
    private final int out;
    private final boolean zeroInit;

    public Conv1x1(String prefix, int in, int out, boolean zeroInit) {
        super(prefix);
        this.in = in;
        this.out = out;
        this.zeroInit = zeroInit;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        ParamInit init = zeroInit ? ParamInit.zeros() : ParamInit.fanIn(in);
        list.add(new ParamSpec(key("weight"), new long[] {out, in, 1}, ParamLayout.CONV1D, init));
        list.add(new ParamSpec(key("bias"), new long[] {out}, ParamLayout.TORCH, init));
    }

    /** {@code x [N, in, L] -> [N, out, L]}. */
    public <T> T forward(TensorOps<T> ops, T x) {
        long[] s = ops.shape(x);
        T y = ops.conv2d(ops.reshape(x, s[0], s[1], s[2], 1), ops.param(key("weight")), ops.param(key("bias")), 1, 0);
        return ops.reshape(y, s[0], out, s[2]);
    }

    /** The same projection applied to an image {@code [N, in, H, W] -> [N, out, H, W]}. */
    public <T> T forward2d(TensorOps<T> ops, T x) {
        return ops.conv2d(x, ops.param(key("weight")), ops.param(key("bias")), 1, 0);
    }
}
