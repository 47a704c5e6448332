package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * torch.nn.Conv2d with a square kernel (1x1, 3x3 padding 1, 3x3 stride 2 ...), with bias. The PyTorch weight
 * {@code [out, in, k, k]} is stored as YXIO {@code [k, k, in, out]}.
 */
public final class Conv2d extends Layer implements TimestepBlock {
    private final int in;
    private final int out;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final boolean zeroInit;

    public Conv2d(String prefix, int in, int out, int kernel, int stride, int padding, boolean zeroInit) {
        super(prefix);
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.zeroInit = zeroInit;
    }

    /** A 3x3 convolution with padding 1 and stride 1. */
    public static Conv2d conv3x3(String prefix, int in, int out, boolean zeroInit) {
        return new Conv2d(prefix, in, out, 3, 1, 1, zeroInit);
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        long fanIn = (long) in * kernel * kernel;
        ParamInit init = zeroInit ? ParamInit.zeros() : ParamInit.fanIn(fanIn);
        list.add(new ParamSpec(key("weight"), new long[] {out, in, kernel, kernel}, ParamLayout.CONV2D, init));
        list.add(new ParamSpec(key("bias"), new long[] {out}, ParamLayout.TORCH, init));
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        return ops.conv2d(x, ops.param(key("weight")), ops.param(key("bias")), stride, padding);
    }

    @Override
    public <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut) {
        return forward(ops, x);
    }
}
