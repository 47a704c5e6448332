package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's AttentionBlock: {@code x + proj_out(attention(qkv(norm(x)), encoder_kv(encoder_out)))} over the
 * spatial positions of {@code x [N, C, H, W]}; text tokens {@code encoder_out [N, encoder_channels, L]} give extra
 * keys and values.
 */
public final class AttentionBlock extends Layer implements TimestepBlock {
    private final int channels;
    private final int heads;
    private final GroupNorm32 norm;
    private final Conv1x1 qkv;
    private final Conv1x1 encoderKv;
    private final Conv1x1 projOut;
    private final QKVAttention attention;

    /**
     * @param numHeadChannels channels per head, or -1 to use {@code numHeads}
     * @param encoderChannels channels of the text encoder output, or null for self-attention only
     */
    public AttentionBlock(String prefix, int channels, int numHeads, int numHeadChannels, Integer encoderChannels) {
        super(prefix);
        this.channels = channels;
        this.heads = heads(channels, numHeads, numHeadChannels, prefix);
        this.norm = new GroupNorm32(key("norm"), channels, 0.0);
        this.qkv = new Conv1x1(key("qkv"), channels, channels * 3, false);
        this.attention = new QKVAttention(heads);
        this.encoderKv = encoderChannels == null ? null : new Conv1x1(key("encoder_kv"), encoderChannels, channels * 2, false);
        this.projOut = new Conv1x1(key("proj_out"), channels, channels, true);
    }

    /** Heads = channels / num_head_channels, or num_heads when num_head_channels is -1. */
    public static int heads(int channels, int numHeads, int numHeadChannels, String where) {
        if (numHeadChannels == -1) {
            if (numHeads <= 0 || channels % numHeads != 0) {
                throw new IllegalArgumentException("attention at '" + where + "': " + channels
                        + " channels are not divisible by num_heads " + numHeads);
            }
            return numHeads;
        }
        if (numHeadChannels <= 0 || channels % numHeadChannels != 0) {
            throw new IllegalArgumentException("attention at '" + where + "': q,k,v channels " + channels
                    + " are not divisible by num_head_channels " + numHeadChannels);
        }
        return channels / numHeadChannels;
    }

    public int heads() {
        return heads;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        norm.collectParams(list);
        qkv.collectParams(list);
        if (encoderKv != null) {
            encoderKv.collectParams(list);
        }
        projOut.collectParams(list);
    }

    /** {@code x [N, C, H, W]}, optional {@code encoderOut [N, encoder_channels, L]}. */
    public <T> T forward(TensorOps<T> ops, T x, T encoderOut) {
        long[] s = ops.shape(x);
        if (s.length < 3 || s[1] != channels) {
            throw new IllegalArgumentException("AttentionBlock at '" + prefix() + "' expects [N, " + channels
                    + ", H, W], got " + java.util.Arrays.toString(s));
        }
        long n = s[0];
        long t = 1;
        for (int i = 2; i < s.length; i++) {
            t *= s[i];
        }
        T x4 = ops.reshape(x, n, channels, t, 1);
        T qkvOut = ops.reshape(qkv.forward2d(ops, norm.forward(ops, x4)), n, 3L * channels, t);
        T ekv = null;
        if (encoderOut != null && encoderKv != null) {
            ekv = encoderKv.forward(ops, encoderOut);
        }
        T h = attention.forward(ops, qkvOut, ekv);
        h = projOut.forward2d(ops, ops.reshape(h, n, channels, t, 1));
        return ops.add(x, ops.reshape(h, s));
    }

    @Override
    public <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut) {
        return forward(ops, x, encoderOut);
    }
}
