package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's ResBlock: {@code in_layers = [GN+SiLU, -, conv3x3]} with optional nearest-x2 / avg-pool
 * resampling applied to h after GN+SiLU (and to the skip input); {@code emb_layers = [SiLU, Linear]}; then either
 * scale-shift ({@code GN(h) * (1 + scale) + shift}, SiLU, dropout, conv) or {@code h + emb} then GN+SiLU, dropout,
 * conv; skip connection identity, 1x1 conv, or 3x3 conv when {@code use_conv}.
 */
public final class ResBlock extends Layer implements TimestepBlock {
    private final int channels;
    private final int outChannels;
    private final boolean useScaleShiftNorm;
    private final boolean up;
    private final boolean down;
    private final double dropout;
    private final GroupNorm32 inNorm;
    private final Conv2d inConv;
    private final Linear embLinear;
    private final GroupNorm32 outNorm;
    private final Conv2d outConv;
    private final Conv2d skip;

    public ResBlock(String prefix, int channels, int embChannels, double dropout, Integer outChannels,
            boolean useConv, boolean useScaleShiftNorm, boolean up, boolean down) {
        super(prefix);
        if (up && down) {
            throw new IllegalArgumentException("ResBlock at '" + prefix + "' cannot be both up and down");
        }
        this.channels = channels;
        this.outChannels = outChannels == null ? channels : outChannels;
        this.useScaleShiftNorm = useScaleShiftNorm;
        this.up = up;
        this.down = down;
        this.dropout = dropout;
        this.inNorm = new GroupNorm32(key("in_layers.0"), channels, 1.0);
        this.inConv = Conv2d.conv3x3(key("in_layers.2"), channels, this.outChannels, false);
        this.embLinear = new Linear(key("emb_layers.1"), embChannels,
                useScaleShiftNorm ? 2 * this.outChannels : this.outChannels);
        this.outNorm = new GroupNorm32(key("out_layers.0"), this.outChannels, useScaleShiftNorm ? 0.0 : 1.0);
        this.outConv = Conv2d.conv3x3(key("out_layers.3"), this.outChannels, this.outChannels, true);
        if (this.outChannels == channels) {
            this.skip = null;
        } else if (useConv) {
            this.skip = Conv2d.conv3x3(key("skip_connection"), channels, this.outChannels, false);
        } else {
            this.skip = new Conv2d(key("skip_connection"), channels, this.outChannels, 1, 1, 0, false);
        }
    }

    public int outChannels() {
        return outChannels;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        inNorm.collectParams(list);
        inConv.collectParams(list);
        embLinear.collectParams(list);
        outNorm.collectParams(list);
        outConv.collectParams(list);
        if (skip != null) {
            skip.collectParams(list);
        }
    }

    @Override
    public <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut) {
        return forward(ops, x, emb);
    }

    /** {@code x [N, channels, H, W]}, {@code emb [N, emb_channels]}. */
    public <T> T forward(TensorOps<T> ops, T x, T emb) {
        Upsample.checkChannels(ops.shape(x), channels, prefix());
        T h = inNorm.forward(ops, x);
        if (up) {
            h = ops.upsampleNearest2x(h);
            x = ops.upsampleNearest2x(x);
        } else if (down) {
            h = ops.avgPool2x2(h);
            x = ops.avgPool2x2(x);
        }
        h = inConv.forward(ops, h);
        T embOut = embLinear.forward(ops, ops.silu(emb));
        long n = ops.shape(embOut)[0];
        embOut = ops.reshape(embOut, n, -1, 1, 1);
        if (useScaleShiftNorm) {
            T scale = ops.slice(embOut, 1, 0, outChannels);
            T shift = ops.slice(embOut, 1, outChannels, 2L * outChannels);
            h = outNorm.forwardScaleShiftSilu(ops, h, scale, shift);
        } else {
            h = outNorm.forward(ops, ops.add(h, embOut));
        }
        h = outConv.forward(ops, ops.dropout(h, dropout));
        return ops.add(skip == null ? x : skip.forward(ops, x), h);
    }
}
