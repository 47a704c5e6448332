package io.github.glidejava.nn.layers;

import java.util.List;

import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's GroupNorm32: GroupNorm (eps 1e-5, float32) followed by an optional swish: {@code swish == 1} is SiLU,
 * another non-zero value {@code y * sigmoid(y * swish)}, zero none. ND4J has no group-norm op, so it is composed
 * (reshape to groups, mean, variance, normalise, affine), which matches PyTorch to float32 round-off.
 */
public final class GroupNorm32 extends Layer {
    public static final int GROUPS = 32;
    private final int channels;
    private final int groups;
    private final double swish;
    private final double eps;

    public GroupNorm32(String prefix, int channels, double swish) {
        this(prefix, GROUPS, channels, swish, 1e-5);
    }

    public GroupNorm32(String prefix, int groups, int channels, double swish, double eps) {
        super(prefix);
        if (groups <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm at '" + prefix + "': " + channels
                    + " channels are not divisible by " + groups + " groups");
        }
        this.channels = channels;
        this.groups = groups;
        this.swish = swish;
        this.eps = eps;
    }

    @Override
    public void collectParams(List<ParamSpec> list) {
        list.add(new ParamSpec(key("weight"), new long[] {channels}, ParamLayout.TORCH, ParamInit.ones()));
        list.add(new ParamSpec(key("bias"), new long[] {channels}, ParamLayout.TORCH, ParamInit.zeros()));
    }

    /** {@code x [N, C, ...]} (any rank >= 3). */
    public <T> T forward(TensorOps<T> ops, T x) {
        long[] s = ops.shape(x);
        if (s.length < 3 || s[1] != channels) {
            throw new IllegalArgumentException("GroupNorm at '" + prefix() + "' expects [N, " + channels
                    + ", ...], got " + java.util.Arrays.toString(s));
        }
        T y = ops.groupNorm(x, groups, eps, ops.param(key("weight")), ops.param(key("bias")), swish == 1.0);
        return swish == 1.0 ? y : applySwish(ops, y, swish);
    }

    /**
     * {@code silu(norm(x) * (1 + scale) + shift)} for scale-shift conditioning ({@code scale}, {@code shift}
     * {@code [N, C, 1, 1]}), as one op ({@link TensorOps#groupNormScaleShiftSilu}).
     */
    public <T> T forwardScaleShiftSilu(TensorOps<T> ops, T x, T scale, T shift) {
        long[] s = ops.shape(x);
        if (s.length < 3 || s[1] != channels) {
            throw new IllegalArgumentException("GroupNorm at '" + prefix() + "' expects [N, " + channels
                    + ", ...], got " + java.util.Arrays.toString(s));
        }
        return ops.groupNormScaleShiftSilu(x, groups, eps, ops.param(key("weight")), ops.param(key("bias")), scale,
                shift);
    }

    static <T> T applySwish(TensorOps<T> ops, T y, double swish) {
        if (swish == 1.0) {
            return ops.silu(y);
        } else if (swish != 0.0) {
            return ops.mul(y, ops.sigmoid(ops.mul(y, swish)));
        }
        return y;
    }

    public int channels() {
        return channels;
    }
}
