package io.github.glidejava.nn.layers;

import java.util.Arrays;

import io.github.glidejava.nn.ops.TensorOps;

/**
 * glide's QKVAttention in the LEGACY head-major layout (guided-diffusion's QKVAttentionLegacy, not its newer
 * QKVAttention): {@code qkv [N, heads*3*ch, T]} is viewed as
 * {@code [N*heads, 3*ch, T]} and split into q | k | v per head. Encoder keys / values {@code [N, heads*2*ch, S]}
 * are split the same way and concatenated IN FRONT of the image keys / values. q and k are each scaled by
 * {@code 1/sqrt(sqrt(ch))}; softmax over the keys.
 */
public final class QKVAttention {
    private final int heads;

    public QKVAttention(int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("number of attention heads must be positive, got " + heads);
        }
        this.heads = heads;
    }

    public int heads() {
        return heads;
    }

    /** {@code qkv [N, heads*3*ch, T]}, optional {@code encoderKv [N, heads*2*ch, S]} -> {@code [N, heads*ch, T]}. */
    public <T> T forward(TensorOps<T> ops, T qkv, T encoderKv) {
        long[] s = ops.shape(qkv);
        if (s.length != 3 || s[1] % (3L * heads) != 0) {
            throw new IllegalArgumentException("QKVAttention with " + heads + " heads expects [N, heads*3*ch, T], got "
                    + Arrays.toString(s));
        }
        long bs = s[0], length = s[2];
        long ch = s[1] / (3L * heads);
        T r = ops.reshape(qkv, bs * heads, 3 * ch, length);
        T q = ops.slice(r, 1, 0, ch);
        T k = ops.slice(r, 1, ch, 2 * ch);
        T v = ops.slice(r, 1, 2 * ch, 3 * ch);
        if (encoderKv != null) {
            long[] e = ops.shape(encoderKv);
            if (e.length != 3 || e[0] != bs || e[1] != heads * 2 * ch) {
                throw new IllegalArgumentException("encoder_kv must be [" + bs + ", " + heads * 2 * ch + ", S], got "
                        + Arrays.toString(e));
            }
            T er = ops.reshape(encoderKv, bs * heads, 2 * ch, e[2]);
            k = ops.concat(2, ops.slice(er, 1, 0, ch), k);
            v = ops.concat(2, ops.slice(er, 1, ch, 2 * ch), v);
        }
        double scale = 1.0 / Math.sqrt(Math.sqrt(ch));
        // weight[b, t, s] = softmax_s(sum_c q[b, c, t] k[b, c, s] * scale^2)
        T weight = ops.attentionWeights(q, k, scale);
        // a[b, c, t] = sum_s v[b, c, s] weight[b, t, s]
        T a = ops.matmul(v, weight, false, true);
        return ops.reshape(a, bs, heads * ch, length);
    }
}
