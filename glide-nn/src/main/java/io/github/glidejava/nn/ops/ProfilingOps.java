package io.github.glidejava.nn.ops;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Wraps a back-end and adds up the wall time spent in each kind of operation (meaningful for the eager back-end,
 * whose operations run synchronously). For finding where a forward pass spends its time.
 */
public final class ProfilingOps<T> implements TensorOps<T> {
    private final TensorOps<T> ops;
    private final Map<String, long[]> stats = new TreeMap<>();

    public ProfilingOps(TensorOps<T> ops) {
        this.ops = ops;
    }

    private <R> R time(String name, Supplier<R> op) {
        return time(name, 0, op);
    }

    private <R> R time(String name, long flops, Supplier<R> op) {
        long t0 = System.nanoTime();
        R r = op.get();
        long[] s = stats.computeIfAbsent(name, k -> new long[3]);
        s[0] += System.nanoTime() - t0;
        s[1]++;
        s[2] += flops;
        return r;
    }

    /** Operation name -> {total nanoseconds, calls, floating-point operations (conv2d, matmul)}, by name. */
    public Map<String, long[]> stats() {
        Map<String, long[]> m = new LinkedHashMap<>();
        stats.forEach((k, v) -> m.put(k, v.clone()));
        return m;
    }

    public void reset() {
        stats.clear();
    }

    /** A table of the operations sorted by total time. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        long total = stats.values().stream().mapToLong(v -> v[0]).sum();
        stats.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                sb.append(String.format("%-18s %9.1f ms %6.1f%% %7d calls%s%n", e.getKey(), e.getValue()[0] / 1e6,
                        100.0 * e.getValue()[0] / Math.max(1, total), e.getValue()[1], e.getValue()[2] == 0 ? ""
                                : String.format(" %8.2f GFLOP %6.1f GFLOP/s", e.getValue()[2] / 1e9,
                                e.getValue()[2] / (double) Math.max(1, e.getValue()[0])))));
        sb.append(String.format("%-18s %9.1f ms%n", "total", total / 1e6));
        return sb.toString();
    }

    @Override
    public T block(String name, Supplier<T> body) {
        return ops.block(name, body);
    }

    @Override
    public T param(String key) {
        return time("param", () -> ops.param(key));
    }

    @Override
    public T constant(INDArray value) {
        return time("constant", () -> ops.constant(value));
    }

    @Override
    public long[] shape(T x) {
        return ops.shape(x);
    }

    @Override
    public T toFloat(T x) {
        return time("toFloat", () -> ops.toFloat(x));
    }

    @Override
    public T conv2d(T x, T weight, T bias, int stride, int padding) {
        long[] w = ops.shape(weight);
        long[] out = Shapes.conv2d(ops.shape(x), w, stride, padding);
        long flops = 2L * out[0] * out[1] * out[2] * out[3] * w[0] * w[1] * w[2];
        return time("conv2d", flops, () -> ops.conv2d(x, weight, bias, stride, padding));
    }

    @Override
    public T matmul(T a, T b, boolean transposeA, boolean transposeB) {
        long[] sa = ops.shape(a);
        long[] out = Shapes.matmul(sa, ops.shape(b), transposeA, transposeB);
        long k = transposeA ? sa[sa.length - 2] : sa[sa.length - 1];
        long flops = 2L * Shapes.length(out) * k;
        return time("matmul", flops, () -> ops.matmul(a, b, transposeA, transposeB));
    }

    @Override
    public T add(T a, T b) {
        return time("add", () -> ops.add(a, b));
    }

    @Override
    public T sub(T a, T b) {
        return time("sub", () -> ops.sub(a, b));
    }

    @Override
    public T mul(T a, T b) {
        return time("mul", () -> ops.mul(a, b));
    }

    @Override
    public T div(T a, T b) {
        return time("div", () -> ops.div(a, b));
    }

    @Override
    public T add(T a, double s) {
        return time("add", () -> ops.add(a, s));
    }

    @Override
    public T mul(T a, double s) {
        return time("mul", () -> ops.mul(a, s));
    }

    @Override
    public T exp(T x) {
        return time("exp", () -> ops.exp(x));
    }

    @Override
    public T log(T x) {
        return time("log", () -> ops.log(x));
    }

    @Override
    public T sqrt(T x) {
        return time("sqrt", () -> ops.sqrt(x));
    }

    @Override
    public T rsqrt(T x) {
        return time("rsqrt", () -> ops.rsqrt(x));
    }

    @Override
    public T clampMin(T x, double floor) {
        return time("clampMin", () -> ops.clampMin(x, floor));
    }

    @Override
    public T stopGradient(T x) {
        return ops.stopGradient(x);
    }

    @Override
    public T square(T x) {
        return time("square", () -> ops.square(x));
    }

    @Override
    public T erf(T x) {
        return time("erf", () -> ops.erf(x));
    }

    @Override
    public T tanh(T x) {
        return time("tanh", () -> ops.tanh(x));
    }

    @Override
    public T sigmoid(T x) {
        return time("sigmoid", () -> ops.sigmoid(x));
    }

    @Override
    public T cos(T x) {
        return time("cos", () -> ops.cos(x));
    }

    @Override
    public T sin(T x) {
        return time("sin", () -> ops.sin(x));
    }

    @Override
    public T reshape(T x, long... shape) {
        return time("reshape", () -> ops.reshape(x, shape));
    }

    @Override
    public T permute(T x, int... axes) {
        return time("permute", () -> ops.permute(x, axes));
    }

    @Override
    public T concat(int axis, java.util.List<T> xs) {
        return time("concat", () -> ops.concat(axis, xs));
    }

    @Override
    public T slice(T x, int axis, long from, long to) {
        return time("slice", () -> ops.slice(x, axis, from, to));
    }

    @Override
    public T mean(T x, boolean keepDims, int... axes) {
        return time("mean", () -> ops.mean(x, keepDims, axes));
    }

    @Override
    public T softmax(T x, int axis) {
        return time("softmax", () -> ops.softmax(x, axis));
    }

    @Override
    public T upsampleNearest2x(T x) {
        return time("upsampleNearest2x", () -> ops.upsampleNearest2x(x));
    }

    @Override
    public T avgPool2x2(T x) {
        return time("avgPool2x2", () -> ops.avgPool2x2(x));
    }

    @Override
    public T gatherRows(T table, T indices) {
        return time("gatherRows", () -> ops.gatherRows(table, indices));
    }

    @Override
    public T dropout(T x, double p) {
        return time("dropout", () -> ops.dropout(x, p));
    }

    @Override
    public T silu(T x) {
        return time("silu", () -> ops.silu(x));
    }

    @Override
    public T gelu(T x) {
        return time("gelu", () -> ops.gelu(x));
    }

    @Override
    public T linear(T x, T weight, T bias) {
        return time("linear", () -> ops.linear(x, weight, bias));
    }

    @Override
    public T groupNorm(T x, int groups, double eps, T weight, T bias, boolean silu) {
        return time("groupNorm", () -> ops.groupNorm(x, groups, eps, weight, bias, silu));
    }

    @Override
    public T select(T cond, T a, T b) {
        return time("select", () -> ops.select(cond, a, b));
    }
}
