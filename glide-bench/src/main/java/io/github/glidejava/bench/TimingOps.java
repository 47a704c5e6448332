package io.github.glidejava.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.ops.Shapes;
import io.github.glidejava.nn.ops.TensorOps;

/**
 * Wraps an eager back-end and measures where a forward spends its time: wall time per operation category (3x3 and
 * 1x1 convolutions, linear layers, attention products, softmax, GroupNorm, activations, other element-wise ops,
 * copies) and per top-level block, plus the FLOPs of the products actually executed. The eager back-end runs each op
 * synchronously, so an op's wall time is its cost. Fused composites ({@code linear}, {@code groupNorm},
 * {@code silu}, {@code gelu}) are passed to the wrapped back-end whole, so its fused kernels are the ones timed.
 */
public final class TimingOps implements TensorOps<INDArray> {
    /** Category -> {nanoseconds, calls, flops}. */
    private final Map<String, long[]> byCategory = new LinkedHashMap<>();
    /** Operation name -> {nanoseconds, calls, elements written}: the detail behind the categories. */
    private final Map<String, long[]> byOp = new LinkedHashMap<>();
    /** Top-level block -> nanoseconds (insertion order = execution order). */
    private final Map<String, Long> byBlock = new LinkedHashMap<>();
    private final TensorOps<INDArray> ops;
    private int blockDepth;
    private int compositeDepth;

    public TimingOps(TensorOps<INDArray> ops) {
        this.ops = ops;
    }

    public Map<String, long[]> byCategory() {
        return byCategory;
    }

    public Map<String, long[]> byOp() {
        return byOp;
    }

    public Map<String, Long> byBlock() {
        return byBlock;
    }

    public void reset() {
        byCategory.clear();
        byOp.clear();
        byBlock.clear();
    }

    private INDArray time(String category, String opName, long flops, Supplier<INDArray> op) {
        if (compositeDepth > 0) {
            return op.get();   // inside a timed composite: counted there
        }
        compositeDepth++;
        long t0 = System.nanoTime();
        INDArray r = null;
        try {
            r = op.get();
            return r;
        } finally {
            long dt = System.nanoTime() - t0;
            compositeDepth--;
            long[] s = byCategory.computeIfAbsent(category, k -> new long[3]);
            s[0] += dt;
            s[1]++;
            s[2] += flops;
            long[] o = byOp.computeIfAbsent(opName, k -> new long[3]);
            o[0] += dt;
            o[1]++;
            o[2] += r == null ? 0 : r.length();
        }
    }

    private INDArray time(String category, String opName, Supplier<INDArray> op) {
        return time(category, opName, 0, op);
    }

    @Override
    public void release(INDArray x) {
        ops.release(x);
    }

    @Override
    public INDArray block(String name, Supplier<INDArray> body) {
        if (blockDepth > 0) {
            return ops.block(name, body);
        }
        blockDepth++;
        long t0 = System.nanoTime();
        try {
            return ops.block(name, body);
        } finally {
            byBlock.merge(name, System.nanoTime() - t0, Long::sum);
            blockDepth--;
        }
    }

    @Override
    public INDArray param(String key) {
        return ops.param(key);
    }

    @Override
    public INDArray constant(INDArray value) {
        return ops.constant(value);
    }

    @Override
    public long[] shape(INDArray x) {
        return ops.shape(x);
    }

    @Override
    public INDArray toFloat(INDArray x) {
        return time("other", "toFloat", () -> ops.toFloat(x));
    }

    @Override
    public INDArray conv2d(INDArray x, INDArray weight, INDArray bias, int stride, int padding) {
        long[] w = weight.shape();
        long[] out = Shapes.conv2d(x.shape(), w, stride, padding);
        long flops = 2L * Shapes.length(out) * w[0] * w[1] * w[2];
        String kind = w[0] == 1 && w[1] == 1 ? "conv1x1" : "conv3x3";
        return time(kind, kind, flops, () -> ops.conv2d(x, weight, bias, stride, padding));
    }

    @Override
    public INDArray matmul(INDArray a, INDArray b, boolean transposeA, boolean transposeB) {
        long[] sa = a.shape();
        long[] out = Shapes.matmul(sa, b.shape(), transposeA, transposeB);
        long k = transposeA ? sa[sa.length - 2] : sa[sa.length - 1];
        return time("attention matmul", "matmul", 2L * Shapes.length(out) * k,
                () -> ops.matmul(a, b, transposeA, transposeB));
    }

    @Override
    public INDArray linear(INDArray x, INDArray weight, INDArray bias) {
        long[] s = x.shape();
        long rows = Shapes.length(s) / s[s.length - 1];
        long flops = 2L * rows * weight.size(0) * weight.size(1);
        return time("linear", "linear", flops, () -> ops.linear(x, weight, bias));
    }

    @Override
    public INDArray groupNormScaleShiftSilu(INDArray x, int groups, double eps, INDArray weight, INDArray bias,
            INDArray scale, INDArray shift) {
        return time("groupNorm(+silu)", "groupNorm", () -> ops.groupNormScaleShiftSilu(x, groups, eps, weight, bias,
                scale, shift));
    }

    @Override
    public INDArray groupNorm(INDArray x, int groups, double eps, INDArray weight, INDArray bias, boolean silu) {
        return time("groupNorm(+silu)", "groupNorm", () -> ops.groupNorm(x, groups, eps, weight, bias, silu));
    }

    @Override
    public INDArray silu(INDArray x) {
        return time("silu/gelu", "silu", () -> ops.silu(x));
    }

    @Override
    public INDArray gelu(INDArray x) {
        return time("silu/gelu", "gelu", () -> ops.gelu(x));
    }

    @Override
    public INDArray select(INDArray cond, INDArray a, INDArray b) {
        return time("elementwise", "select", () -> ops.select(cond, a, b));
    }

    @Override
    public INDArray softmax(INDArray x, int axis) {
        return time("softmax", "softmax", () -> ops.softmax(x, axis));
    }

    @Override
    public INDArray add(INDArray a, INDArray b) {
        return time("elementwise", "add", () -> ops.add(a, b));
    }

    @Override
    public INDArray sub(INDArray a, INDArray b) {
        return time("elementwise", "sub", () -> ops.sub(a, b));
    }

    @Override
    public INDArray mul(INDArray a, INDArray b) {
        return time("elementwise", "mul", () -> ops.mul(a, b));
    }

    @Override
    public INDArray div(INDArray a, INDArray b) {
        return time("elementwise", "div", () -> ops.div(a, b));
    }

    @Override
    public INDArray add(INDArray a, double s) {
        return time("elementwise", "add", () -> ops.add(a, s));
    }

    @Override
    public INDArray mul(INDArray a, double s) {
        return time("elementwise", "mul", () -> ops.mul(a, s));
    }

    @Override
    public INDArray exp(INDArray x) {
        return time("elementwise", "exp", () -> ops.exp(x));
    }

    @Override
    public INDArray log(INDArray x) {
        return time("elementwise", "log", () -> ops.log(x));
    }

    @Override
    public INDArray sqrt(INDArray x) {
        return time("elementwise", "sqrt", () -> ops.sqrt(x));
    }

    @Override
    public INDArray rsqrt(INDArray x) {
        return time("elementwise", "rsqrt", () -> ops.rsqrt(x));
    }

    @Override
    public INDArray clampMin(INDArray x, double floor) {
        return time("elementwise", "clampMin", () -> ops.clampMin(x, floor));
    }

    @Override
    public INDArray stopGradient(INDArray x) {
        return ops.stopGradient(x);
    }

    @Override
    public INDArray square(INDArray x) {
        return time("elementwise", "square", () -> ops.square(x));
    }

    @Override
    public INDArray erf(INDArray x) {
        return time("elementwise", "erf", () -> ops.erf(x));
    }

    @Override
    public INDArray tanh(INDArray x) {
        return time("elementwise", "tanh", () -> ops.tanh(x));
    }

    @Override
    public INDArray sigmoid(INDArray x) {
        return time("elementwise", "sigmoid", () -> ops.sigmoid(x));
    }

    @Override
    public INDArray cos(INDArray x) {
        return time("elementwise", "cos", () -> ops.cos(x));
    }

    @Override
    public INDArray sin(INDArray x) {
        return time("elementwise", "sin", () -> ops.sin(x));
    }

    @Override
    public INDArray mean(INDArray x, boolean keepDims, int... axes) {
        return time("elementwise", "mean", () -> ops.mean(x, keepDims, axes));
    }

    @Override
    public INDArray reshape(INDArray x, long... shape) {
        return time("reshape/permute/slice/concat", "reshape", () -> ops.reshape(x, shape));
    }

    @Override
    public INDArray permute(INDArray x, int... axes) {
        return time("reshape/permute/slice/concat", "permute", () -> ops.permute(x, axes));
    }

    @Override
    public INDArray concat(int axis, List<INDArray> xs) {
        return time("reshape/permute/slice/concat", "concat", () -> ops.concat(axis, xs));
    }

    @Override
    public INDArray slice(INDArray x, int axis, long from, long to) {
        return time("reshape/permute/slice/concat", "slice", () -> ops.slice(x, axis, from, to));
    }

    @Override
    public INDArray upsampleNearest2x(INDArray x) {
        return time("up/down-sampling", "upsampleNearest2x", () -> ops.upsampleNearest2x(x));
    }

    @Override
    public INDArray avgPool2x2(INDArray x) {
        return time("up/down-sampling", "avgPool2x2", () -> ops.avgPool2x2(x));
    }

    @Override
    public INDArray gatherRows(INDArray table, INDArray indices) {
        return time("other", "gatherRows", () -> ops.gatherRows(table, indices));
    }

    @Override
    public INDArray dropout(INDArray x, double p) {
        return ops.dropout(x, p);
    }
}
