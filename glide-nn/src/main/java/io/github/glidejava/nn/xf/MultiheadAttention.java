package io.github.glidejava.nn.xf;

import java.util.List;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.Linear;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's xf.MultiheadAttention: {@code c_qkv} output viewed as {@code [N, T, heads, 3*attn_ch]} and
 * split into q | k | v per head; q and k each scaled by {@code 1/sqrt(sqrt(attn_ch))}; softmax over all positions
 * (no mask); {@code c_proj}.
 */
public final class MultiheadAttention extends Layer {
    private final int width;
    private final int heads;
    private final Linear cQkv;
    private final Linear cProj;

    public MultiheadAttention(String prefix, int width, int heads) {
        super(prefix);
        if (heads <= 0 || width % heads != 0) {
            throw new IllegalArgumentException("text transformer width " + width + " is not divisible by "
                    + heads + " heads");
        }
        this.width = width;
        this.heads = heads;
        this.cQkv = new Linear(key("c_qkv"), width, width * 3);
        this.cProj = new Linear(key("c_proj"), width, width);
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        cQkv.collectParams(list);
        cProj.collectParams(list);
    }

    /** {@code x [N, T, width]}. */
    public <T> T forward(TensorOps<T> ops, T x) {
        long[] s = ops.shape(x);
        long n = s[0], t = s[1];
        long ch = width / heads;
        T qkv = ops.reshape(cQkv.forward(ops, x), n, t, heads, 3 * ch);
        double scale = 1.0 / Math.sqrt(Math.sqrt(ch));
        T q = headsFirst(ops, ops.mul(ops.slice(qkv, 3, 0, ch), scale), n, t, ch);
        T k = headsFirst(ops, ops.mul(ops.slice(qkv, 3, ch, 2 * ch), scale), n, t, ch);
        T v = headsFirst(ops, ops.slice(qkv, 3, 2 * ch, 3 * ch), n, t, ch);
        T weight = ops.softmax(ops.matmul(q, k, false, true), 2);           // [N*H, T, S]
        T a = ops.matmul(weight, v, false, false);                         // [N*H, T, ch]
        a = ops.permute(ops.reshape(a, n, heads, t, ch), 0, 2, 1, 3);       // [N, T, H, ch]
        return cProj.forward(ops, ops.reshape(a, n, t, (long) width));
    }

    /** {@code [N, T, H, ch] -> [N*H, T, ch]}. */
    private <T> T headsFirst(TensorOps<T> ops, T x, long n, long t, long ch) {
        return ops.reshape(ops.permute(x, 0, 2, 1, 3), n * heads, t, ch);
    }
}
