package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/** glide's Upsample: nearest-neighbour x2, then an optional 3x3 convolution ({@code conv}). */
public final class Upsample extends Layer implements TimestepBlock {
    private final int channels;
    private final Conv2d conv;

    public Upsample(String prefix, int channels, boolean useConv, Integer outChannels) {
        super(prefix);
        this.channels = channels;
        int out = outChannels == null ? channels : outChannels;
        this.conv = useConv ? Conv2d.conv3x3(key("conv"), channels, out, false) : null;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        if (conv != null) {
            conv.collectParams(list);
        }
    }

    public <T> T forward(TensorOps<T> ops, T x) {
        checkChannels(ops.shape(x), channels, prefix());
        T y = ops.upsampleNearest2x(x);
        return conv == null ? y : conv.forward(ops, y);
    }

    static void checkChannels(long[] s, int channels, String where) {
        if (s.length != 4 || s[1] != channels) {
            throw new IllegalArgumentException("layer '" + where + "' expects [N, " + channels + ", H, W], got "
                    + java.util.Arrays.toString(s));
        }
    }

    @Override
    public <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut) {
        return forward(ops, x);
    }
}
