package io.github.glidejava.bench;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.ops.Shapes;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * A symbolic back-end: runs a model's forward on shapes only (no arithmetic) and adds up the floating-point
 * operations of its matrix products (2 per multiply-add), by kind and by top-level block. The FLOPs of a forward thus
 * come from the same code and shapes that run it. Element-wise work is counted as elements written, a proxy for the
 * memory traffic of the element-wise passes.
 */
public final class FlopCounter implements TensorOps<FlopCounter.Sym> {
    /** A tensor of which only the shape is known; {@code constant} marks non-trained constants (e.g. resize matrices). */
    public record Sym(long[] shape, boolean constant) {
        public Sym {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    /** Kinds of matrix products. */
    public enum Kind {
        /** 2-d convolutions, including the 1x1 convolutions of the attention blocks' qkv / encoder_kv / proj_out. */
        CONV,
        /** Linear layers (time embedding, emb_layers, transformer c_qkv / c_proj / mlp, transformer_proj). */
        LINEAR,
        /** q.k^T and weights.v of the attention blocks and the text transformer. */
        ATTENTION,
        /** Products with constant matrices (the upsampler's bilinear resize of its low-resolution input). */
        RESIZE
    }

    private final Map<String, long[]> paramShapes = new LinkedHashMap<>();
    private final EnumMap<Kind, Long> flops = new EnumMap<>(Kind.class);
    private final Map<String, EnumMap<Kind, Long>> byBlock = new LinkedHashMap<>();
    private final Map<String, Long> elementsWritten = new LinkedHashMap<>();
    private final Deque<String> blocks = new ArrayDeque<>();
    private int linearDepth;

    /** @param params the model's parameter specs (their stored shapes are what the layers see) */
    public FlopCounter(List<ParamSpec> params) {
        for (ParamSpec s : params) {
            paramShapes.put(s.key(), s.storedShape());
        }
        for (Kind k : Kind.values()) {
            flops.put(k, 0L);
        }
    }

    /** An input placeholder of the given shape. */
    public Sym input(long... shape) {
        return new Sym(shape, false);
    }

    public long flops(Kind kind) {
        return flops.get(kind);
    }

    public long totalFlops() {
        return flops.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Top-level block name (e.g. input_blocks.4, resblocks_3, out; "(none)" outside blocks) -> FLOPs by kind. */
    public Map<String, EnumMap<Kind, Long>> flopsByBlock() {
        return byBlock;
    }

    /** Operation name -> elements written by element-wise and shape-copying operations. */
    public Map<String, Long> elementsWritten() {
        return elementsWritten;
    }

    private void addFlops(Kind kind, long f) {
        flops.merge(kind, f, Long::sum);
        String block = blocks.isEmpty() ? "(none)" : blocks.peekLast();
        byBlock.computeIfAbsent(block, b -> new EnumMap<>(Kind.class)).merge(kind, f, Long::sum);
    }

    private Sym ew(String op, long[] shape) {
        elementsWritten.merge(op, Shapes.length(shape), Long::sum);
        return new Sym(shape, false);
    }

    // ---- parameters, constants, blocks ------------------------------------------------------------------------

    @Override
    public Sym param(String key) {
        long[] s = paramShapes.get(key);
        if (s == null) {
            throw new IllegalArgumentException("no parameter '" + key + "'");
        }
        return new Sym(s, false);
    }

    @Override
    public Sym constant(INDArray value) {
        return new Sym(value.shape(), true);
    }

    @Override
    public long[] shape(Sym x) {
        return x.shape().clone();
    }

    @Override
    public Sym toFloat(Sym x) {
        return x;
    }

    @Override
    public Sym block(String name, Supplier<Sym> body) {
        // FLOPs are attributed to the outermost named block (a U-Net block, a transformer layer, ...)
        blocks.addLast(blocks.isEmpty() ? name : blocks.peekLast());
        try {
            return body.get();
        } finally {
            blocks.removeLast();
        }
    }

    // ---- matrix products --------------------------------------------------------------------------------------

    @Override
    public Sym conv2d(Sym x, Sym weight, Sym bias, int stride, int padding) {
        long[] w = weight.shape();
        long[] out = Shapes.conv2d(x.shape(), w, stride, padding);
        addFlops(Kind.CONV, 2L * Shapes.length(out) * w[0] * w[1] * w[2]);
        return new Sym(out, false);
    }

    @Override
    public Sym matmul(Sym a, Sym b, boolean transposeA, boolean transposeB) {
        long[] sa = a.shape();
        long[] out = Shapes.matmul(sa, b.shape(), transposeA, transposeB);
        long k = transposeA ? sa[sa.length - 2] : sa[sa.length - 1];
        Kind kind = linearDepth > 0 ? Kind.LINEAR : a.constant() || b.constant() ? Kind.RESIZE : Kind.ATTENTION;
        addFlops(kind, 2L * Shapes.length(out) * k);
        return new Sym(out, false);
    }

    @Override
    public Sym linear(Sym x, Sym weight, Sym bias) {
        linearDepth++;
        try {
            return TensorOps.super.linear(x, weight, bias);
        } finally {
            linearDepth--;
        }
    }

    // ---- element-wise -----------------------------------------------------------------------------------------

    @Override
    public Sym add(Sym a, Sym b) {
        return ew("add", Shapes.broadcast(a.shape(), b.shape()));
    }

    @Override
    public Sym sub(Sym a, Sym b) {
        return ew("sub", Shapes.broadcast(a.shape(), b.shape()));
    }

    @Override
    public Sym mul(Sym a, Sym b) {
        return ew("mul", Shapes.broadcast(a.shape(), b.shape()));
    }

    @Override
    public Sym div(Sym a, Sym b) {
        return ew("div", Shapes.broadcast(a.shape(), b.shape()));
    }

    @Override
    public Sym add(Sym a, double s) {
        return ew("add", a.shape());
    }

    @Override
    public Sym mul(Sym a, double s) {
        return ew("mul", a.shape());
    }

    @Override
    public Sym exp(Sym x) {
        return ew("exp", x.shape());
    }

    @Override
    public Sym log(Sym x) {
        return ew("log", x.shape());
    }

    @Override
    public Sym sqrt(Sym x) {
        return ew("sqrt", x.shape());
    }

    @Override
    public Sym rsqrt(Sym x) {
        return ew("rsqrt", x.shape());
    }

    @Override
    public Sym clampMin(Sym x, double floor) {
        return ew("clampMin", x.shape());
    }

    @Override
    public Sym stopGradient(Sym x) {
        return x;
    }

    @Override
    public Sym square(Sym x) {
        return ew("square", x.shape());
    }

    @Override
    public Sym erf(Sym x) {
        return ew("erf", x.shape());
    }

    @Override
    public Sym tanh(Sym x) {
        return ew("tanh", x.shape());
    }

    @Override
    public Sym sigmoid(Sym x) {
        return ew("sigmoid", x.shape());
    }

    @Override
    public Sym cos(Sym x) {
        return ew("cos", x.shape());
    }

    @Override
    public Sym sin(Sym x) {
        return ew("sin", x.shape());
    }

    @Override
    public Sym silu(Sym x) {
        return ew("silu", x.shape());
    }

    @Override
    public Sym gelu(Sym x) {
        return ew("gelu", x.shape());
    }

    @Override
    public Sym groupNorm(Sym x, int groups, double eps, Sym weight, Sym bias, boolean silu) {
        return ew("groupNorm", x.shape());
    }

    // ---- shape ------------------------------------------------------------------------------------------------

    @Override
    public Sym reshape(Sym x, long... shape) {
        return new Sym(Shapes.resolveReshape(x.shape(), shape), x.constant());
    }

    @Override
    public Sym permute(Sym x, int... axes) {
        return new Sym(Shapes.permute(x.shape(), axes), x.constant());
    }

    @Override
    public Sym concat(int axis, List<Sym> xs) {
        long[][] s = new long[xs.size()][];
        for (int i = 0; i < s.length; i++) {
            s[i] = xs.get(i).shape();
        }
        return ew("concat", Shapes.concat(axis, s));
    }

    @Override
    public Sym slice(Sym x, int axis, long from, long to) {
        long[] s = x.shape();
        if (from < 0 || to > s[axis] || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") of axis " + axis + " of "
                    + Arrays.toString(s));
        }
        s[axis] = to - from;
        return new Sym(s, x.constant());
    }

    // ---- reductions and nn ------------------------------------------------------------------------------------

    @Override
    public Sym mean(Sym x, boolean keepDims, int... axes) {
        return ew("mean", Shapes.reduce(x.shape(), keepDims, axes));
    }

    @Override
    public Sym softmax(Sym x, int axis) {
        return ew("softmax", x.shape());
    }

    @Override
    public Sym upsampleNearest2x(Sym x) {
        long[] s = x.shape();
        return ew("upsample", new long[] {s[0], s[1], s[2] * 2, s[3] * 2});
    }

    @Override
    public Sym avgPool2x2(Sym x) {
        long[] s = x.shape();
        return ew("avgPool", new long[] {s[0], s[1], s[2] / 2, s[3] / 2});
    }

    @Override
    public Sym gatherRows(Sym table, Sym indices) {
        return ew("gather", new long[] {indices.shape()[0], table.shape()[1]});
    }

    @Override
    public Sym dropout(Sym x, double p) {
        return x;
    }
}
