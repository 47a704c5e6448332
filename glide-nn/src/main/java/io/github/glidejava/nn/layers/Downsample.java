package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/** glide's Downsample: a 3x3 convolution with stride 2 and padding 1 ({@code op}), or 2x2 average pooling. */
public final class Downsample extends Layer implements TimestepBlock {
    private final int channels;
    private final Conv2d op;

    public Downsample(String prefix, int channels, boolean useConv, Integer outChannels) {
        super(prefix);
        this.channels = channels;
        int out = outChannels == null ? channels : outChannels;
        if (!useConv && out != channels) {
            throw new IllegalArgumentException("Downsample at '" + prefix + "' without a convolution cannot change "
                    + channels + " channels to " + out);
        }
        this.op = useConv ? new Conv2d(key("op"), channels, out, 3, 2, 1, false) : null;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        if (op != null) {
            op.collectParams(list);
        }
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        Upsample.checkChannels(ops.shape(x), channels, prefix());
        return op == null ? ops.avgPool2x2(x) : op.forward(ops, x);
    }

    @Override
    public <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut) {
        return forward(ops, x);
    }
}
