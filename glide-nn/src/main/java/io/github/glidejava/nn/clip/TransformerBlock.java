package io.github.glidejava.nn.clip;

import java.util.List;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.LayerNorm;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's clip/encoders.py {@code TransformerBlock}: a pre-LN attention residual block ({@code f_attn}) then a
 * pre-LN MLP residual block ({@code f_mlp}, width 4x, exact GELU).
 *
 * <p>Attention: separate q, k (no bias), v projections; heads split as {@code [N, T, heads, headState]}; q and k
 * each scaled by {@code sqrt(1 / sqrt(headState))}. The reference pads the context to a multiple of 32 and adds
 * -1e10 to the logits of padded keys (and, in the text encoder, of later positions); those weights are exactly 0
 * after the softmax, so here the context is not padded and only the causal part is masked, with the same -1e10.
 */
final class TransformerBlock extends Layer {
    private final int width;
    private final int heads;
    private final int headState;
    private final LayerNorm attnLn;
    private final Affine fQ;
    private final Affine fK;
    private final Affine fV;
    private final Affine fC;
    private final LayerNorm mlpLn;
    private final Affine f1;
    private final Affine f2;

    TransformerBlock(String prefix, int heads, int headState) {
        super(prefix);
        this.width = heads * headState;
        this.heads = heads;
        this.headState = headState;
        String attn = key("f_attn");
        String mlp = key("f_mlp");
        this.attnLn = new LayerNorm(child(attn, "ln"), width, 1e-5, "g", "b");
        this.fQ = new Affine(child(attn, "f_q"), width, width, true);
        this.fK = new Affine(child(attn, "f_k"), width, width, false);
        this.fV = new Affine(child(attn, "f_v"), width, width, true);
        this.fC = new Affine(child(attn, "f_c"), width, width, true);
        this.mlpLn = new LayerNorm(child(mlp, "ln"), width, 1e-5, "g", "b");
        this.f1 = new Affine(child(mlp, "f_1"), width, 4 * width, true);
        this.f2 = new Affine(child(mlp, "f_2"), 4 * width, width, true);
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        attnLn.collectParams(list);
        fQ.collectParams(list);
        fK.collectParams(list);
        fV.collectParams(list);
        fC.collectParams(list);
        mlpLn.collectParams(list);
        f1.collectParams(list);
        f2.collectParams(list);
    }

    /**
     * {@code x [N, T, width]}; {@code causalBias} null (every position sees every other) or a constant {@code [T, T]}
     * with -1e10 where a query must not see a key.
     */
    <T> T forward(TensorOps<T> ops, T x, T causalBias) {
        return ops.block(prefix(), () -> mlp(ops, attention(ops, x, causalBias)));
    }

    private <T> T attention(TensorOps<T> ops, T m, T causalBias) {
        long[] s = ops.shape(m);
        long n = s[0], t = s[1];
        T r = attnLn.forward(ops, m);
        double scale = Math.sqrt(1.0 / Math.sqrt(headState));
        T q = headsFirst(ops, ops.mul(fQ.forward(ops, r), scale), n, t);
        T k = headsFirst(ops, ops.mul(fK.forward(ops, r), scale), n, t);
        T v = headsFirst(ops, fV.forward(ops, r), n, t);
        T w = ops.matmul(q, k, false, true);                                  // [N*H, T, T]
        if (causalBias != null) {
            w = ops.add(w, causalBias);
        }
        T a = ops.matmul(ops.softmax(w, 2), v, false, false);                 // [N*H, T, hs]
        a = ops.reshape(ops.permute(ops.reshape(a, n, heads, t, headState), 0, 2, 1, 3), n, t, (long) width);
        return ops.add(m, fC.forward(ops, a));
    }

    private <T> T mlp(TensorOps<T> ops, T m) {
        return ops.add(m, f2.forward(ops, ops.gelu(f1.forward(ops, mlpLn.forward(ops, m)))));
    }

    /** {@code [N, T, width] -> [N*H, T, headState]}. */
    private <T> T headsFirst(TensorOps<T> ops, T x, long n, long t) {
        return ops.reshape(ops.permute(ops.reshape(x, n, t, heads, headState), 0, 2, 1, 3), n * heads, t, headState);
    }
}
