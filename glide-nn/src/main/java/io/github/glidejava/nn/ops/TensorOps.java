package io.github.glidejava.nn.ops;

import java.util.function.Supplier;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tensor operations GLIDE's layers are written against. Every layer is defined once as a generic method
 * {@code <T> T forward(TensorOps<T> ops, T x, ...)}; {@link EagerOps} ({@code T = INDArray}) runs it immediately
 * for sampling, {@link SameDiffOps} ({@code T = SDVariable}) records it as a SameDiff graph for training.
 *
 * <p>Conventions: images are NCHW float32; 2-d convolution weights are stored {@code [kH, kW, in, out]} (YXIO,
 * see {@link io.github.glidejava.nn.params.ParamLayout}); element-wise binary ops broadcast with NumPy rules.
 * Operations never modify their arguments. Shapes are static: {@link #shape} is always known.
 */
public interface TensorOps<T> {

    // ---- parameters and constants -------------------------------------------------------------------------

    /** The parameter stored under a PyTorch state-dict key (in its stored layout). */
    T param(String key);

    /** A constant tensor (float32 or any other type) that is not trained. */
    T constant(INDArray value);

    /** The static shape of {@code x}. */
    long[] shape(T x);

    /** Casts to float32 (from int64, bool, half, ...); returns {@code x} when it already is float32. */
    T toFloat(T x);

    /**
     * Runs {@code body} as a named block: the eager back-end gives it a scratch workspace whose memory is reused
     * once the block's output has been moved out; the SameDiff back-end uses it as a name scope.
     */
    T block(String name, Supplier<T> body);

    /**
     * Says that the caller will not use {@code x} again (PyTorch frees a tensor when its last reference goes): the
     * eager back-end gives a block output's memory back at once, so a U-Net holds its skips and the current
     * activation rather than every block's output. Nothing on back-ends that keep values for a backward pass or a
     * graph. Only for values the caller's own code made (never inputs or parameters).
     */
    default void release(T x) {
    }

    // ---- linear algebra -----------------------------------------------------------------------------------

    /** 2-d convolution, NCHW input, YXIO weight {@code [kH, kW, in, out]}, optional bias {@code [out]}. */
    T conv2d(T x, T weight, T bias, int stride, int padding);

    /** Matrix product of rank-2 or batched rank-3 operands, optionally transposing the last two axes. */
    T matmul(T a, T b, boolean transposeA, boolean transposeB);

    // ---- element-wise -------------------------------------------------------------------------------------

    T add(T a, T b);

    T sub(T a, T b);

    T mul(T a, T b);

    T div(T a, T b);

    T add(T a, double s);

    T mul(T a, double s);

    T exp(T x);

    T log(T x);

    T sqrt(T x);

    /** 1 / sqrt(x). */
    T rsqrt(T x);

    T square(T x);

    T erf(T x);

    T tanh(T x);

    T sigmoid(T x);

    T cos(T x);

    T sin(T x);

    /** Element-wise {@code max(x, floor)}, e.g. a log's argument kept away from 0; no gradient where x < floor. */
    T clampMin(T x, double floor);

    /**
     * {@code x} itself, through which no gradient flows back (PyTorch's {@code detach()}): improved-diffusion's hybrid
     * loss trains the variance through the vb term with the predicted mean held fixed. The identity on back-ends
     * that do not differentiate.
     */
    T stopGradient(T x);

    // ---- shape --------------------------------------------------------------------------------------------

    /** Reshape in C order; exactly one dimension may be -1. */
    T reshape(T x, long... shape);

    T permute(T x, int... axes);

    /** Concatenation along {@code axis}. */
    T concat(int axis, java.util.List<T> xs);

    default T concat(int axis, T a, T b) {
        return concat(axis, java.util.List.of(a, b));
    }

    /** Elements {@code [from, to)} along {@code axis}. */
    T slice(T x, int axis, long from, long to);

    // ---- reductions and nn ----------------------------------------------------------------------------------

    T mean(T x, boolean keepDims, int... axes);

    /** Softmax along {@code axis}. */
    T softmax(T x, int axis);

    /** Nearest-neighbour upsampling by 2 in H and W (NCHW). */
    T upsampleNearest2x(T x);

    /** 2x2 average pooling with stride 2 (NCHW). */
    T avgPool2x2(T x);

    /** Rows of {@code table [V, D]} picked by integer {@code indices [K]}: {@code [K, D]}. */
    T gatherRows(T table, T indices);

    /** Dropout with drop probability {@code p} while training; the identity at inference. */
    T dropout(T x, double p);

    // ---- composed functions; a back-end may override them with a fused kernel of the same result ------------

    /** SiLU / swish: x * sigmoid(x). */
    default T silu(T x) {
        return mul(x, sigmoid(x));
    }

    /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)), as torch's nn.GELU(). */
    default T gelu(T x) {
        T inner = add(erf(mul(x, 1.0 / Math.sqrt(2.0))), 1.0);
        return mul(mul(x, 0.5), inner);
    }

    /**
     * Group normalisation of {@code x [N, C, ...]} over {@code groups} channel groups with affine {@code weight},
     * {@code bias} {@code [C]}, optionally followed by SiLU. Composed here (ND4J has no group-norm op):
     * reshape to groups, mean, biased variance, normalise, affine.
     */
    default T groupNorm(T x, int groups, double eps, T weight, T bias, boolean silu) {
        long[] s = shape(x);
        long c = s[1];
        T g = reshape(x, s[0], groups, -1);
        T mean = mean(g, true, 2);
        T centered = sub(g, mean);
        T var = mean(square(centered), true, 2);
        T y = reshape(mul(centered, rsqrt(add(var, eps))), s);
        long[] affine = new long[s.length];
        java.util.Arrays.fill(affine, 1);
        affine[1] = c;
        y = add(mul(y, reshape(weight, affine)), reshape(bias, affine));
        return silu ? silu(y) : y;
    }

    /**
     * Attention weights {@code softmax((q * scale)^T (k * scale))} over the last axis, for {@code q [B, C, T]} and
     * {@code k [B, C, S]}: {@code [B, T, S]}. Scaling both sides before the product follows glide's QKVAttention.
     * Composed here; the training tape makes it one node that keeps only the weights (not the scores before the
     * softmax, nor the scaled q and k).
     */
    default T attentionWeights(T q, T k, double scale) {
        return softmax(matmul(mul(q, scale), mul(k, scale), true, false), 2);
    }

    /**
     * ResBlock's scale-shift norm: {@code silu(groupNorm(x) * (1 + scale) + shift)}, {@code scale} and {@code shift}
     * of shape {@code [N, C, 1, 1]}. Composed here; the eager back-end computes it in one pass over x (the composition
     * makes three more full-size arrays).
     */
    default T groupNormScaleShiftSilu(T x, int groups, double eps, T weight, T bias, T scale, T shift) {
        return silu(add(mul(groupNorm(x, groups, eps, weight, bias, false), add(scale, 1.0)), shift));
    }

    /** {@code cond ? a : b} for a 0/1 float {@code cond}, exact for finite values: a*cond + b*(1-cond). */
    default T select(T cond, T a, T b) {
        return add(mul(a, cond), mul(b, add(mul(cond, -1.0), 1.0)));
    }

    /** {@code x [..., in] . weight[out, in]^T + bias}, for x of any rank >= 2. */
    default T linear(T x, T weight, T bias) {
        long[] s = shape(x);
        long in = s[s.length - 1];
        long out = shape(weight)[0];
        T x2 = s.length == 2 ? x : reshape(x, -1, in);
        T y = matmul(x2, weight, false, true);
        if (bias != null) {
            y = add(y, bias);
        }
        if (s.length == 2) {
            return y;
        }
        long[] os = s.clone();
        os[os.length - 1] = out;
        return reshape(y, os);
    }
}
