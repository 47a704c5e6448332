package io.github.glidejava.nn.autodiff;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterAdd;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.api.ops.impl.transforms.strict.SwishDerivative;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.random.PortableRandom;
import io.github.glidejava.nn.ops.ArrayPool;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.ops.Shapes;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.ops.kernels.Dnnl;
import io.github.glidejava.nn.ops.kernels.DnnlConv;
import io.github.glidejava.nn.ops.kernels.Gemm;
import io.github.glidejava.nn.ops.kernels.OneDnnKernels;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * Training back-end: reverse-mode automatic differentiation on eager tensors. Every operation runs at once with
 * {@link EagerOps}' kernels (oneDNN sgemm / GroupNorm where available) and is recorded on a tape together with its
 * backward function, written next to its forward below. {@link #backward(Tensor)} walks the tape in reverse: each
 * node hands the gradient of its result to the backward function, which passes gradients on to the node's inputs
 * (summed over broadcast axes); trainable parameters ADD theirs into the {@link Gradients} given at construction.
 *
 * <p>Memory: a node's value and its accumulated gradient are given back as soon as its backward has run; by then
 * every later node that read it has run too. They go to {@link ArrayPool}, from which this back-end's kernels take
 * their outputs, so a step reuses the previous step's buffers. Views (reshape, permute, slice) own no memory;
 * parameters, constants and inputs are never freed. After backward the tape is empty, so nothing grows from step to
 * step. Arrays that ND4J's ops make inside themselves are freed only by the garbage collector, so backward asks for
 * a collection whenever {@link #memoryBudget} bytes of arrays were closed, and once at its end. With
 * {@link #recompute} chosen {@link #block}s keep only their output during the forward and are re-run in backward
 * (gradient checkpointing).
 *
 * <p>An instance is used by one thread for one forward + backward at a time. Gradient checks run it in float64 with
 * {@link #precision(DataType)} (ND4J's kernels then; oneDNN's are float32 only).
 */
public final class TapeOps implements TensorOps<Tensor> {
    private final Function<String, INDArray> params;
    private final Gradients into;
    private final Map<String, Tensor> paramTensors = new HashMap<>();
    private EagerOps eager;
    private final boolean oneDnn;
    private DataType precision = DataType.FLOAT;
    private boolean training;
    private long dropoutSeed;
    private long dropoutCalls;
    /** Bytes closed since the JVM last collected (see {@link #memoryBudget}). */
    private static final ThreadLocal<long[]> PENDING = ThreadLocal.withInitial(() -> new long[1]);
    /**
     * Whether freed arrays go to {@link ArrayPool} on this thread: yes, unless the tape in use recomputes blocks.
     * Recomputation is chosen to save memory, and there the pool's buffers kept glibc from reusing the heap around
     * them (small32, batch 16, every block recomputed: 2.1 GiB peak with the pool, 1.1 GiB without).
     */
    private static final ThreadLocal<boolean[]> RECYCLE = ThreadLocal.withInitial(() -> new boolean[] {true});
    private long memoryBudget = 1L << 30;
    private Map<String, Long> profile;
    private long lastRecord;
    private Predicate<String> recompute = name -> false;
    private boolean recomputing;
    private List<Tensor> tape = new ArrayList<>();
    /** Inputs created with requiresGrad since the last backward (their gradients are reset by the next one). */
    private final List<Tensor> gradInputs = new ArrayList<>();

    /**
     * @param params the model's parameters; those whose key {@code into} contains are trainable leaves, the others
     *               constants
     * @param into   where backward adds the parameter gradients
     */
    public TapeOps(ParameterStore params, Gradients into) {
        this(Objects.requireNonNull(params, "params")::get, into, true);
    }

    /**
     * A tape over any parameter lookup (e.g. float64 copies for gradient checks).
     *
     * @param oneDnnKernels false for ND4J's kernels only
     */
    public TapeOps(Function<String, INDArray> params, Gradients into, boolean oneDnnKernels) {
        GlideBackend.init();
        RECYCLE.get()[0] = true;
        this.params = Objects.requireNonNull(params, "params");
        this.into = Objects.requireNonNull(into, "into");
        this.eager = new EagerOps(k -> {
            throw new IllegalStateException("parameters are read through TapeOps");
        }, oneDnnKernels);
        this.oneDnn = eager.usesOneDnnKernels();
    }

    /**
     * How convolutions compute, forward and backward (default {@link Precision#FP32}, exact to float32 round-off):
     * {@link Precision#WINOGRAD} or {@link Precision#BF16} trade a little accuracy for speed, as at inference.
     */
    public TapeOps convPrecision(Precision convPrecision) {
        Objects.requireNonNull(convPrecision, "convPrecision");
        this.eager = new EagerOps(k -> {
            throw new IllegalStateException("parameters are read through TapeOps");
        }, oneDnn, convPrecision);
        return this;
    }

    /** Dropout active (default false: dropout is the identity). */
    public TapeOps training(boolean on) {
        this.training = on;
        return this;
    }

    /**
     * Seeds dropout: the i-th dropout call after this draws its mask from {@code (seed, i)}, and backward (or a
     * recomputed block) regenerates that same mask instead of keeping it.
     */
    public TapeOps dropoutSeed(long seed) {
        this.dropoutSeed = seed;
        this.dropoutCalls = 0;
        return this;
    }

    /**
     * Gradient checkpointing: {@link #block}s whose name {@code blockName} accepts keep only their output during
     * the forward and are run again during backward (less memory, one more forward of those blocks). Freed arrays
     * then go back to malloc instead of {@link ArrayPool}, which saves memory again at some speed.
     */
    public TapeOps recompute(Predicate<String> blockName) {
        this.recompute = Objects.requireNonNull(blockName, "blockName");
        RECYCLE.get()[0] = false;
        return this;
    }

    /**
     * The floating-point type of all computation: FLOAT (default) or DOUBLE (gradient checks; parameters, inputs
     * and gradients must then be float64 too, and floating constants are cast to it).
     */
    public TapeOps precision(DataType type) {
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            throw new IllegalArgumentException("precision must be FLOAT or DOUBLE, got " + type);
        }
        this.precision = type;
        return this;
    }

    /**
     * Collects the time spent in each operation (nanoseconds by operation name) into {@code into}, or stops with
     * null: the backward under the operation's name, the forward under {@code "forward " + name} (the time from the
     * previous recorded result to this one, so the layers' own glue counts too).
     */
    public TapeOps profile(Map<String, Long> into) {
        this.profile = into;
        this.lastRecord = System.nanoTime();
        return this;
    }

    /** Number of recorded operation results not yet freed (0 after backward or {@link #clear()}). */
    public int tapeSize() {
        return tape.size();
    }

    /** Bytes of the activations the tape holds now (views not counted twice). */
    public long tapeBytes() {
        return tapeBytesByOp().values().stream().mapToLong(Long::longValue).sum();
    }

    /** {@link #tapeBytes()} by the operation that made each activation. */
    public Map<String, Long> tapeBytesByOp() {
        Map<String, Long> bytes = new HashMap<>();
        for (Tensor t : tape) {
            if (t.owner != null && !t.owner.wasClosed()) {
                bytes.merge(t.op, t.owner.length() * t.owner.dataType().width(), Long::sum);
            }
        }
        return bytes;
    }

    // ---- inputs, parameters, constants ----------------------------------------------------------------------

    /** An input; with {@code requiresGrad} its gradient is in {@link Tensor#grad()} after backward. */
    public Tensor input(INDArray value, boolean requiresGrad) {
        Objects.requireNonNull(value, "value");
        if (requiresGrad && value.dataType() != precision) {
            throw new IllegalArgumentException("an input that requires a gradient must be " + precision + ", got "
                    + value.dataType());
        }
        Tensor t = new Tensor(Tensor.Kind.INPUT, value, null, requiresGrad, null, null);
        if (requiresGrad) {
            gradInputs.add(t);
        }
        return t;
    }

    @Override
    public Tensor param(String key) {
        return paramTensors.computeIfAbsent(key, k -> {
            INDArray v = params.apply(k);
            if (v == null) {
                throw new IllegalArgumentException("no parameter '" + k + "'");
            }
            boolean trainable = into.contains(k);
            if (trainable && !Arrays.equals(into.get(k).shape(), v.shape())) {
                throw new IllegalArgumentException("gradient of '" + k + "' is " + Arrays.toString(into.get(k).shape())
                        + " but the parameter is " + Arrays.toString(v.shape()));
            }
            return new Tensor(Tensor.Kind.PARAM, v, null, trainable, k, null);
        });
    }

    @Override
    public Tensor constant(INDArray value) {
        if (value.dataType().isFPType() && value.dataType() != precision) {
            INDArray cast = value.castTo(precision);
            return record("constant", cast, cast, null);
        }
        return new Tensor(Tensor.Kind.CONSTANT, value, null, false, null, null);
    }

    @Override
    public long[] shape(Tensor x) {
        return x.shape.clone();
    }

    @Override
    public Tensor toFloat(Tensor x) {
        DataType from = x.value().dataType();
        if (from == precision) {
            return x;
        }
        return fresh("toFloat", x.value().castTo(precision), (g, out) -> pass(x, cast(g, from)), x);
    }

    /**
     * Runs {@code body}; with {@link #recompute} accepting {@code name}, only the block's output is kept (the
     * activations inside are freed at once) and backward runs the body again to get them.
     */
    @Override
    public Tensor block(String name, Supplier<Tensor> body) {
        if (recomputing || !recompute.test(name)) {
            return body.get();
        }
        long firstDropout = dropoutCalls;
        List<Tensor> outer = tape;
        tape = new ArrayList<>();
        Tensor out;
        List<Tensor> inner;
        try {
            out = body.get();
        } finally {
            inner = tape;
            tape = outer;
        }
        if (!out.requiresGrad) {
            tape.addAll(inner);
            return out;
        }
        INDArray kept;
        if (inner.contains(out) && out.owner == out.value && out.owner != null) {
            kept = out.value;
            out.owner = null;    // moves to the block's node below
        } else {
            kept = out.value().dup();
        }
        freeAll(inner);
        return record("block", kept, kept, (g, value) -> {
            long savedDropout = dropoutCalls;
            dropoutCalls = firstDropout;
            List<Tensor> saved = tape;
            tape = new ArrayList<>();
            recomputing = true;
            Tensor again;
            List<Tensor> rerun;
            try {
                again = body.get();
            } catch (RuntimeException | Error e) {
                freeAll(tape);
                free(g);
                throw e;
            } finally {
                rerun = tape;
                tape = saved;
                recomputing = false;
                dropoutCalls = savedDropout;
            }
            runBackward(rerun, again, g, null);
        }, out);
    }

    // ---- backward ---------------------------------------------------------------------------------------------

    /** Backpropagates from a scalar (seed 1). */
    public void backward(Tensor scalar) {
        if (Shapes.length(scalar.shape) != 1) {
            throw new IllegalArgumentException("backward(Tensor) needs a scalar, got shape "
                    + Arrays.toString(scalar.shape) + "; give a seed of that shape with backward(out, seed)");
        }
        backward(scalar, Nd4j.ones(precision, scalar.shape));
    }

    /**
     * Backpropagates {@code seed} (the gradient w.r.t. {@code out}, same shape): adds each trainable parameter's
     * gradient into the accumulators, sets the gradients of inputs created with {@code requiresGrad}, then frees
     * every activation on the tape except {@code out}'s value and clears the tape.
     */
    public void backward(Tensor out, INDArray seed) {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(seed, "seed");
        if (!Arrays.equals(seed.shape(), out.shape)) {
            throw new IllegalArgumentException("seed must have the output's shape " + Arrays.toString(out.shape)
                    + ", got " + Arrays.toString(seed.shape()));
        }
        if (out.kind == Tensor.Kind.OP && !tape.contains(out)) {
            throw new IllegalStateException("this " + Arrays.toString(out.shape) + " result is not on this tape:"
                    + " backward already ran through it, or another TapeOps made it");
        }
        List<Tensor> nodes = tape;
        tape = new ArrayList<>();
        if (!out.requiresGrad) {
            freeAll(nodes, out);
            throw new IllegalArgumentException("the output does not depend on any trainable parameter or on an input"
                    + " with requiresGrad: there is nothing to differentiate");
        }
        for (Tensor t : gradInputs) {
            free(t.grad);
            t.grad = null;
        }
        gradInputs.clear();
        runBackward(nodes, out, cast(seed.dup(), precision), out);
        ArrayPool.trim();
        collectIfOver(memoryBudget / 16);
    }

    /** Frees every activation on the tape without a backward pass (e.g. after an evaluation forward). */
    public void clear() {
        List<Tensor> nodes = tape;
        tape = new ArrayList<>();
        freeAll(nodes);
        collectIfOver(memoryBudget / 16);
    }

    /** Seeds {@code out} with {@code grad} (owned) and runs {@code nodes} in reverse, freeing each but {@code keep}. */
    private void runBackward(List<Tensor> nodes, Tensor out, INDArray grad, Tensor keep) {
        int i = nodes.size() - 1;
        try {
            pass(out, grad);
            for (; i >= 0; i--) {
                Tensor n = nodes.get(i);
                INDArray g = n.grad;
                n.grad = null;
                if (g != null) {
                    if (n.backward != null) {
                        long t0 = profile == null ? 0 : System.nanoTime();
                        n.backward.apply(g, n.value);
                        if (profile != null) {
                            profile.merge(n.op, System.nanoTime() - t0, Long::sum);
                        }
                    } else {
                        free(g);
                    }
                }
                if (n != keep) {
                    dropValue(n);
                }
                collectIfOver(memoryBudget);
            }
        } finally {
            for (; i >= 0; i--) {   // an exception: free what is left
                Tensor n = nodes.get(i);
                free(n.grad);
                n.grad = null;
                if (n != keep) {
                    dropValue(n);
                }
            }
        }
    }

    /**
     * Hands gradient {@code g} (owned by the callee from here on) to {@code t}: summed over the axes {@code t} was
     * broadcast along, then added into a parameter's accumulator, or kept / added as {@code t}'s gradient.
     */
    private void pass(Tensor t, INDArray g) {
        if (g == null) {
            return;
        }
        if (!t.requiresGrad) {
            free(g);
            return;
        }
        g = sumTo(g, t.shape);
        if (t.kind == Tensor.Kind.PARAM) {
            into.get(t.key).addi(g);
            free(g);
        } else if (t.grad == null) {
            t.grad = g;
        } else {
            t.grad.addi(g);
            free(g);
        }
    }

    /** {@code g} summed over the axes where {@code shape} is 1 or missing (NumPy broadcasting), as a fresh array. */
    private static INDArray sumTo(INDArray g, long[] shape) {
        long[] gs = g.shape();
        if (Arrays.equals(gs, shape)) {
            return g;
        }
        int lead = gs.length - shape.length;
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) {
                axes.add(i);
            }
        }
        INDArray s = g.sum(true, axes.stream().mapToInt(Integer::intValue).toArray());
        free(g);
        return reshapeOwned(s, shape);
    }

    // ---- recording ------------------------------------------------------------------------------------------

    /**
     * Records an operation's result. {@code owner} is the array whose buffer the result owns (null for a view of
     * another value); the backward function is kept only when an input requires a gradient.
     */
    private Tensor record(String op, INDArray value, INDArray owner, Tensor.Backward backward, Tensor... inputs) {
        boolean rg = false;
        for (Tensor t : inputs) {
            rg |= t != null && t.requiresGrad;
            if (owner != null && t != null && t.value != null && t.value.data() == owner.data()) {
                owner = null;   // the op handed back (a view of) its input: not this node's memory to free
            }
        }
        Tensor t = new Tensor(Tensor.Kind.OP, value, owner, rg, null, rg ? backward : null);
        t.op = op;
        tape.add(t);
        if (profile != null) {
            long now = System.nanoTime();
            profile.merge("forward " + op, now - lastRecord, Long::sum);
            lastRecord = now;
        }
        return t;
    }

    /** A fresh result: it owns its value. */
    private Tensor fresh(String op, INDArray value, Tensor.Backward backward, Tensor... inputs) {
        return record(op, value, value, backward, inputs);
    }

    private static void dropValue(Tensor n) {
        if (n.owner != null) {
            free(n.owner);
        }
        n.owner = null;
        n.value = null;
        n.backward = null;
    }

    private static void freeAll(List<Tensor> nodes, Tensor... keep) {
        for (Tensor n : nodes) {
            free(n.grad);
            n.grad = null;
            if (!Arrays.asList(keep).contains(n)) {
                dropValue(n);
            }
        }
    }

    /**
     * Gives back an array this back-end owns (a view owns nothing and is left alone): to {@link ArrayPool}, whose
     * buffers the next arrays of the same size reuse, or, when the pool cannot keep it, closed (malloc gets it back,
     * though rarely for an array of the same size: see {@link ArrayPool}). The bytes are counted so that backward asks
     * for a collection once {@link #memoryBudget} bytes went through: the temporaries ND4J's ops make inside
     * themselves, which are not seen here, are freed only by the garbage collector, in proportion.
     */
    private static void free(INDArray a) {
        if (a != null && !a.wasClosed() && a.closeable()) {
            PENDING.get()[0] += a.length() * a.dataType().width();
            if (!RECYCLE.get()[0] || !ArrayPool.recycle(a)) {
                a.close();
            }
        }
    }

    /**
     * Returns the memory of closed arrays to the system once more than {@code budget} bytes wait: tape activations
     * live long enough to reach the old generation, which the JVM collects rarely on its own.
     */
    private void collectIfOver(long budget) {
        long[] pending = PENDING.get();
        if (pending[0] > budget) {
            pending[0] = 0;
            System.gc();
        }
    }

    /**
     * How many bytes of freed activations and gradients may wait for the garbage collector during backward before
     * it is asked to run (default 1 GiB); after backward it always runs if more than 1/16 of that waits. Smaller
     * lowers peak memory at the cost of more collections.
     */
    public TapeOps memoryBudget(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("memory budget must be positive, got " + bytes);
        }
        this.memoryBudget = bytes;
        return this;
    }

    private static boolean denseOwn(INDArray a) {
        return Shapes.cContiguous(a.shape(), a.stride()) && a.offset() == 0 && !a.isView()
                && a.data().length() == a.length();
    }

    /**
     * {@code a} (owned) reshaped in C order as an array whose {@code close()} frees the memory: the same buffer when
     * {@code a} is dense, else a dense copy ({@code a} is then freed). ND4J's own reshape returns a view that cannot
     * be closed.
     */
    private static INDArray reshapeOwned(INDArray a, long... shape) {
        INDArray d = ownDense(a);
        return Arrays.equals(d.shape(), shape) ? d : Nd4j.create(d.data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c');
    }

    /** {@code a} (owned) as a dense C-order array this back-end owns: {@code a} itself, or a copy ({@code a} freed). */
    private static INDArray ownDense(INDArray a) {
        if (denseOwn(a)) {
            return a;
        }
        INDArray d = a.dup('c');
        free(a);
        return d;
    }

    /** C-contiguous {@code a}'s elements as an array of {@code shape}, sharing its buffer (never a copy). */
    private static INDArray viewAs(INDArray a, long[] shape) {
        return Nd4j.create(a.data(), shape, Nd4j.getStrides(shape, 'c'), a.offset(), 'c');
    }

    private static INDArray cast(INDArray g, DataType to) {
        if (g.dataType() == to) {
            return g;
        }
        INDArray c = g.castTo(to);
        free(g);
        return c;
    }

    private static INDArray dense(INDArray a) {
        return Shapes.cContiguous(a.shape(), a.stride()) && a.offset() == 0 ? a : a.dup('c');
    }

    // ---- linear algebra -------------------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        INDArray y = eager.conv2d(x.value(), weight.value(), bias == null ? null : bias.value(), stride, padding);
        boolean floatConv = oneDnn && y.dataType() == DataType.FLOAT && x.value().dataType() == DataType.FLOAT
                && weight.value().dataType() == DataType.FLOAT;
        boolean oneByOne = floatConv && weight.shape[0] == 1 && weight.shape[1] == 1 && stride == 1 && padding == 0;
        boolean primitives = floatConv && OneDnnKernels.convPrimitives();
        DnnlConv.Algorithm algorithm = OneDnnKernels.convAlgorithm(eager.precision(), weight.shape, stride, y.shape());
        return fresh(oneByOne ? "conv1x1" : "conv2d", y, (g, out) -> {
            if (oneByOne) {
                conv1x1Backward(x, weight, bias, g);
                return;
            }
            INDArray xv = x.value(), wv = weight.value();
            INDArray gx = ArrayPool.uninitialized(xv.dataType(), xv.shape());
            INDArray gw = ArrayPool.uninitialized(wv.dataType(), wv.shape());
            INDArray gb = bias == null ? null : ArrayPool.uninitialized(wv.dataType(), bias.shape);
            boolean paramGrads = weight.requiresGrad || (bias != null && bias.requiresGrad);
            if (primitives && convBackward(xv, wv, g, stride, padding, x.requiresGrad ? gx : null,
                    paramGrads ? gw : null, gb, algorithm)) {
                free(g);
                pass(x, gx);
                pass(weight, gw);
                if (bias != null) {
                    pass(bias, gb);
                }
                return;
            }
            // ND4J's conv2d_bp (oneDNN in this build for float32) reads the YXIO weight as wFormat 0
            DynamicCustomOp.DynamicCustomOpsBuilder op = DynamicCustomOp.builder("conv2d_bp");
            if (bias == null) {
                op.addInputs(xv, wv, g).addOutputs(gx, gw);
            } else {
                op.addInputs(xv, wv, bias.value(), g).addOutputs(gx, gw, gb);
            }
            op.addIntegerArguments((int) wv.size(0), (int) wv.size(1), stride, stride, padding, padding, 1, 1, 0, 0, 0);
            Nd4j.exec(op.build());
            free(g);
            pass(x, gx);
            pass(weight, gw);
            if (bias != null) {
                pass(bias, gb);
            }
        }, x, weight, bias);
    }

    /**
     * A convolution's backward as oneDNN's backward-data and backward-weights primitives (made once per shape; ND4J's
     * {@code conv2d_bp} makes its primitives at every call and ran 2-4x slower on GLIDE's 8x8 layers). False, with
     * nothing written, when oneDNN has no implementation for the shape. {@code gx} null: no input gradient (the
     * noisy image of the first layer needs none); {@code gw} null: no weight or bias gradient (guidance gradients
     * at sampling time).
     */
    private static boolean convBackward(INDArray xv, INDArray wv, INDArray g, int stride, int padding, INDArray gx,
            INDArray gw, INDArray gb, DnnlConv.Algorithm algorithm) {
        INDArray gd = dense(g), xd = dense(xv), wd = dense(wv);
        boolean done = (gx == null || DnnlConv.backwardData(gd, wd, stride, padding, gx, algorithm))
                && (gw == null || DnnlConv.backwardWeights(xd, gd, stride, padding, gw, gb, algorithm));
        if (gd != g) {
            free(gd);
        }
        if (xd != xv) {
            free(xd);
        }
        if (wd != wv) {
            free(wd);
        }
        return done;
    }

    /**
     * A 1x1 convolution's backward as sgemm calls per sample on {@code [C, H*W]} matrices:
     * {@code dx[n] = W . g[n]} and {@code dW = sum_n x[n] . g[n]^T} (accumulated by the sgemm), {@code db = sum g}.
     */
    private void conv1x1Backward(Tensor x, Tensor weight, Tensor bias, INDArray g) {
        INDArray gd = dense(g);
        long n = x.shape[0], cin = x.shape[1], cout = weight.shape[3], hw = x.shape[2] * x.shape[3];
        if (x.requiresGrad) {
            INDArray w = dense(weight.value());
            INDArray dx = ArrayPool.uninitialized(DataType.FLOAT, x.shape);
            for (long i = 0; i < n; i++) {
                Gemm.sgemm(false, false, cin, hw, cout, 1f, w, 0, cout, gd, i * cout * hw, hw, 0f, dx, i * cin * hw, hw);
            }
            pass(x, dx);
        }
        if (weight.requiresGrad) {
            INDArray xd = dense(x.value());
            INDArray dw = ArrayPool.uninitialized(DataType.FLOAT, weight.shape);
            for (long i = 0; i < n; i++) {
                Gemm.sgemm(false, true, cin, cout, hw, 1f, xd, i * cin * hw, hw, gd, i * cout * hw, hw, i == 0 ? 0f : 1f,
                        dw, 0, cout);
            }
            if (xd != x.value()) {
                free(xd);
            }
            pass(weight, dw);
        }
        if (bias != null && bias.requiresGrad) {
            pass(bias, gd.sum(0, 2, 3));
        }
        if (gd != g) {
            free(gd);
        }
        free(g);
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        INDArray y = eager.matmul(a.value(), b.value(), transposeA, transposeB);
        return fresh("matmul", y, (g, out) -> {
            INDArray av = a.value(), bv = b.value();
            // C = op(A) op(B): dA and dB are products of dC with the other operand, in the transposes that keep
            // every operand in place (no copies)
            if (a.requiresGrad) {
                pass(a, transposeA ? eager.matmul(bv, g, transposeB, true) : eager.matmul(g, bv, false, !transposeB));
            }
            if (b.requiresGrad) {
                pass(b, transposeB ? eager.matmul(g, av, true, transposeA) : eager.matmul(av, g, !transposeA, false));
            }
            free(g);
        }, a, b);
    }

    /** {@code x [..., in] . weight[out, in]^T + bias} as one 2-d product (oneDNN sgemm for float32). */
    @Override
    public Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        long[] s = x.shape;
        long[] ws = weight.shape;
        if (s.length < 2 || ws.length != 2 || ws[1] != s[s.length - 1]
                || (bias != null && !Arrays.equals(bias.shape, new long[] {ws[0]}))) {
            throw new IllegalArgumentException("linear needs x [..., in], weight [out, in], bias [out]: got "
                    + Arrays.toString(s) + ", " + Arrays.toString(ws) + ", "
                    + (bias == null ? "none" : Arrays.toString(bias.shape)));
        }
        long in = ws[1], outF = ws[0], rows = Shapes.length(s) / in;
        INDArray xd = dense(x.value());
        INDArray x2 = xd.reshape('c', rows, in);
        INDArray y2 = oneDnn ? OneDnnKernels.linear(x2, weight.value(), bias == null ? null : bias.value()) : null;
        if (y2 == null) {
            y2 = eager.matmul(x2, weight.value(), false, true);
            if (bias != null) {
                Nd4j.exec(new AddOp(y2, bias.value().reshape(1, outF), y2));
            }
        }
        if (xd != x.value()) {
            free(xd);
        }
        long[] os = s.clone();
        os[os.length - 1] = outF;
        INDArray y = reshapeOwned(y2, os);
        return fresh("linear", y, (g, out) -> {
            INDArray g2 = reshapeOwned(g, rows, outF);
            if (x.requiresGrad) {
                pass(x, reshapeOwned(eager.matmul(g2, weight.value(), false, false), s));
            }
            if (weight.requiresGrad) {
                INDArray xdb = dense(x.value());
                pass(weight, eager.matmul(g2, xdb.reshape('c', rows, in), true, false));
                if (xdb != x.value()) {
                    free(xdb);
                }
            }
            if (bias != null && bias.requiresGrad) {
                pass(bias, g2.sum(0));
            }
            free(g2);
        }, x, weight, bias);
    }

    // ---- element-wise ---------------------------------------------------------------------------------------

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return fresh("add", eager.add(a.value(), b.value()), (g, out) -> {
            if (b.requiresGrad) {
                pass(b, a.requiresGrad ? g.dup() : g);
            }
            if (a.requiresGrad) {
                pass(a, g);
            } else if (!b.requiresGrad) {
                free(g);
            }
        }, a, b);
    }

    @Override
    public Tensor sub(Tensor a, Tensor b) {
        return fresh("sub", eager.sub(a.value(), b.value()), (g, out) -> {
            if (b.requiresGrad) {
                pass(b, g.neg());
            }
            pass(a, g);
        }, a, b);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return fresh("mul", eager.mul(a.value(), b.value()), (g, out) -> {
            if (b.requiresGrad) {
                pass(b, eager.mul(g, a.value()));
            }
            if (a.requiresGrad) {
                pass(a, eager.mul(g, b.value()));
            }
            free(g);
        }, a, b);
    }

    @Override
    public Tensor div(Tensor a, Tensor b) {
        return fresh("div", eager.div(a.value(), b.value()), (g, out) -> {
            // d(a/b)/db = -(a/b) / b
            if (b.requiresGrad) {
                INDArray t = eager.mul(g, out);
                INDArray gb = eager.div(t, b.value());
                free(t);
                pass(b, gb.negi());
            }
            if (a.requiresGrad) {
                pass(a, eager.div(g, b.value()));
            }
            free(g);
        }, a, b);
    }

    @Override
    public Tensor add(Tensor a, double s) {
        return fresh("add", eager.add(a.value(), s), (g, out) -> pass(a, g), a);
    }

    @Override
    public Tensor mul(Tensor a, double s) {
        return fresh("mul", eager.mul(a.value(), s), (g, out) -> pass(a, g.muli(s)), a);
    }

    @Override
    public Tensor exp(Tensor x) {
        return fresh("exp", eager.exp(x.value()), (g, out) -> pass(x, g.muli(out)), x);
    }

    @Override
    public Tensor log(Tensor x) {
        return fresh("log", eager.log(x.value()), (g, out) -> pass(x, g.divi(x.value())), x);
    }

    @Override
    public Tensor sqrt(Tensor x) {
        return fresh("sqrt", eager.sqrt(x.value()), (g, out) -> pass(x, g.muli(0.5).divi(out)), x);
    }

    /** d x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2. */
    @Override
    public Tensor rsqrt(Tensor x) {
        return fresh("rsqrt", eager.rsqrt(x.value()), (g, out) -> pass(x, g.muli(out).muli(out).muli(out).muli(-0.5)), x);
    }

    @Override
    public Tensor square(Tensor x) {
        return fresh("square", eager.square(x.value()), (g, out) -> pass(x, g.muli(x.value()).muli(2.0)), x);
    }

    /** d erf(x) = 2 / sqrt(pi) exp(-x^2). */
    @Override
    public Tensor erf(Tensor x) {
        return fresh("erf", eager.erf(x.value()), (g, out) -> {
            INDArray d = x.value().mul(x.value()).negi();
            Transforms.exp(d, false).muli(2.0 / Math.sqrt(Math.PI));
            g.muli(d);
            free(d);
            pass(x, g);
        }, x);
    }

    @Override
    public Tensor tanh(Tensor x) {
        return fresh("tanh", eager.tanh(x.value()), (g, out) -> {
            INDArray d = out.mul(out).rsubi(1.0);
            g.muli(d);
            free(d);
            pass(x, g);
        }, x);
    }

    @Override
    public Tensor sigmoid(Tensor x) {
        return fresh("sigmoid", eager.sigmoid(x.value()), (g, out) -> {
            INDArray d = out.rsub(1.0).muli(out);
            g.muli(d);
            free(d);
            pass(x, g);
        }, x);
    }

    @Override
    public Tensor cos(Tensor x) {
        return fresh("cos", eager.cos(x.value()), (g, out) -> {
            INDArray d = Transforms.sin(x.value(), true).negi();
            g.muli(d);
            free(d);
            pass(x, g);
        }, x);
    }

    @Override
    public Tensor sin(Tensor x) {
        return fresh("sin", eager.sin(x.value()), (g, out) -> {
            INDArray d = Transforms.cos(x.value(), true);
            g.muli(d);
            free(d);
            pass(x, g);
        }, x);
    }

    /** The gradient passes where {@code x >= floor} (as torch's clamp_min), and is 0 below. */
    @Override
    public Tensor clampMin(Tensor x, double floor) {
        return fresh("clampMin", eager.clampMin(x.value(), floor), (g, out) -> {
            INDArray keep = x.value().gte(floor);
            INDArray k = keep.castTo(g.dataType());
            free(keep);
            g.muli(k);
            free(k);
            pass(x, g);
        }, x);
    }

    /** The same value with no gradient path: a view that requires no gradient. */
    @Override
    public Tensor stopGradient(Tensor x) {
        Tensor t = new Tensor(Tensor.Kind.OP, x.value(), null, false, null, null);
        tape.add(t);
        return t;
    }

    // ---- fused functions ------------------------------------------------------------------------------------

    /** SiLU in one pass; backward {@code g * swish'(x)} with ND4J's swish derivative. */
    @Override
    public Tensor silu(Tensor x) {
        return fresh("silu", eager.silu(x.value()), (g, out) -> {
            INDArray d = Nd4j.exec(new SwishDerivative(x.value(), ArrayPool.uninitialized(g.dataType(), x.shape)));
            g.muli(d);
            free(d);
            pass(x, g);
        }, x);
    }

    /** Exact GELU; backward {@code g * (Phi(x) + x phi(x))}. */
    @Override
    public Tensor gelu(Tensor x) {
        INDArray xv = x.value();
        INDArray cdf = phi(xv);
        INDArray y = cdf.mul(xv);
        free(cdf);
        return fresh("gelu", y, (g, out) -> {
            INDArray v = x.value();
            INDArray d = phi(v);
            INDArray pdf = v.mul(v).muli(-0.5);
            Transforms.exp(pdf, false).muli(1.0 / Math.sqrt(2.0 * Math.PI)).muli(v);  // x phi(x)
            d.addi(pdf);
            free(pdf);
            g.muli(d);
            free(d);
            pass(x, g);
        }, x);
    }

    /** The standard normal CDF {@code (1 + erf(x / sqrt 2)) / 2}. */
    private INDArray phi(INDArray x) {
        INDArray scaled = x.mul(1.0 / Math.sqrt(2.0));
        INDArray e = eager.erf(scaled);
        free(scaled);
        return e.addi(1.0).muli(0.5);
    }

    /**
     * GroupNorm (+SiLU) as one node: group statistics in double, {@code y = act(x * scale + shift)} with
     * per-(sample, channel) {@code scale = rstd * weight}, {@code shift = bias - mean * scale} (oneDNN for float32).
     * Backward recomputes the pre-activation from x instead of keeping it, and needs only per-(sample, channel)
     * sums {@code sum(dy)}, {@code sum(dy * x)}:
     * {@code dx = dy * w rstd + x * (-rstd^2 A / m) + (mean rstd^2 A - rstd B) / m} with
     * {@code A = sum_c w rstd (sum(dy x) - mean sum(dy))}, {@code B = sum_c w sum(dy)} over the group's channels and
     * {@code m} the group's size.
     */
    @Override
    public Tensor groupNorm(Tensor x, int groups, double eps, Tensor weight, Tensor bias, boolean silu) {
        checkGroupNorm(x, groups, weight, bias);
        return groupNormNode(x, groups, eps, weight, bias, silu, null, null, null, null);
    }

    /**
     * ResBlock's {@code silu(GN(x) * (1 + scale) + shift)} as one node: {@code 1 + scale} and {@code shift} fold
     * into GroupNorm's per-(sample, channel) affine, so the forward is one pass after the statistics and keeps one
     * activation instead of four. Backward: with {@code dz} the gradient before the SiLU, {@code S1 = sum(dz)} and
     * {@code S2 = sum(dz * xhat)} per (sample, channel): {@code dshift = S1}, {@code dscale = w S2 + b S1},
     * {@code dw = sum_n (1 + scale) S2}, {@code db = sum_n (1 + scale) S1}, and dx is GroupNorm's with the
     * per-sample weight {@code w (1 + scale)}.
     */
    @Override
    public Tensor groupNormScaleShiftSilu(Tensor x, int groups, double eps, Tensor weight, Tensor bias, Tensor scale,
            Tensor shift) {
        long[] s = checkGroupNorm(x, groups, weight, bias);
        int n = (int) s[0], c = (int) s[1];
        if (Shapes.length(scale.shape) != (long) n * c || Shapes.length(shift.shape) != (long) n * c
                || scale.shape[0] != n || shift.shape[0] != n) {
            throw new IllegalArgumentException("groupNormScaleShiftSilu needs scale and shift of [N, C] = [" + n + ", "
                    + c + "] values, got " + Arrays.toString(scale.shape) + " and " + Arrays.toString(shift.shape));
        }
        double[] gain = values(scale.value());
        for (int i = 0; i < gain.length; i++) {
            gain[i] += 1.0;
        }
        return groupNormNode(x, groups, eps, weight, bias, true, gain, values(shift.value()), scale, shift);
    }

    /**
     * The GroupNorm node: {@code act(xhat * W + B)} with per-(sample, channel) {@code W = w * gain},
     * {@code B = b * gain + offset} ({@code gain} null: 1 and no offset, plain GroupNorm). Backward recomputes the
     * pre-activation from x, then one pass forms the per-(sample, channel) sums {@code S1 = sum(dz)} and
     * {@code S2 = sum(dz * xhat)} and one writes dx; {@code dw = sum_n gain S2}, {@code db = sum_n gain S1}, and
     * with a gain the tensors it came from get {@code w S2 + b S1} ({@code gainOf}) and {@code S1}
     * ({@code offsetOf}).
     */
    private Tensor groupNormNode(Tensor x, int groups, double eps, Tensor weight, Tensor bias, boolean silu,
            double[] gain, double[] offset, Tensor gainOf, Tensor offsetOf) {
        int n = (int) x.shape[0], c = (int) x.shape[1];
        long len = Shapes.length(x.shape) / ((long) n * c);
        double[] w = weight.value().toDoubleVector(), b = bias.value().toDoubleVector();
        double[] wnc = new double[n * c], bnc = new double[n * c];
        for (int i = 0; i < n * c; i++) {
            double m = gain == null ? 1.0 : gain[i];
            wnc[i] = w[i % c] * m;
            bnc[i] = b[i % c] * m + (offset == null ? 0.0 : offset[i]);
        }
        GroupStats st = groupStats(x.value(), n, c, groups, len, eps);
        double[] scale = st.scale(wnc), shift = st.shift(wnc, bnc);
        INDArray y = affine(x.value(), scale, shift, silu);
        Tensor.Backward backward = (g, out) -> {
            INDArray xv = dense(x.value());
            // g becomes dx in place: one pass for the per-channel sums, one for dx, no full-size temporaries
            INDArray dz = ownDense(g);
            if (silu) {
                siluBackward(xv, dz, scale, shift);
            }
            double[][] sums = groupNormGrad(xv, dz, st, wnc, len, x.requiresGrad);
            double[] dw = new double[c], db = new double[c], dgain = new double[n * c];
            for (int i = 0; i < n * c; i++) {
                double s1 = sums[0][i], s2 = sums[1][i], m = gain == null ? 1.0 : gain[i];
                dw[i % c] += m * s2;
                db[i % c] += m * s1;
                dgain[i] = w[i % c] * s2 + b[i % c] * s1;
            }
            DataType dt = xv.dataType();
            if (x.requiresGrad) {
                pass(x, dz);
            } else {
                free(dz);
            }
            if (xv != x.value()) {
                free(xv);
            }
            pass(weight, Nd4j.createFromArray(dw).castTo(dt));
            pass(bias, Nd4j.createFromArray(db).castTo(dt));
            if (gainOf != null) {
                pass(gainOf, Nd4j.createFromArray(dgain).castTo(dt).reshape('c', gainOf.shape));
                pass(offsetOf, Nd4j.createFromArray(sums[0]).castTo(dt).reshape('c', offsetOf.shape));
            }
        };
        return gainOf == null ? fresh("groupNorm", y, backward, x, weight, bias)
                : fresh("groupNorm", y, backward, x, weight, bias, gainOf, offsetOf);
    }

    private static long[] checkGroupNorm(Tensor x, int groups, Tensor weight, Tensor bias) {
        long[] s = x.shape;
        if (s.length < 3 || groups <= 0 || s[1] % groups != 0 || !Arrays.equals(weight.shape, new long[] {s[1]})
                || !Arrays.equals(bias.shape, new long[] {s[1]})) {
            throw new IllegalArgumentException("groupNorm needs x [N, C, ...] with C divisible by " + groups
                    + " groups and weight, bias [C]: got " + Arrays.toString(s) + ", " + Arrays.toString(weight.shape)
                    + ", " + Arrays.toString(bias.shape));
        }
        return s;
    }

    /** The values of {@code a} (any layout) in C order. */
    private static double[] values(INDArray a) {
        INDArray d = a.castTo(DataType.DOUBLE).dup('c');
        return d.data().asDouble();
    }

    /**
     * {@code g *= silu'(x * scale + shift)} in place: the pre-activation is recomputed from x (one pass) instead of
     * being kept since the forward, then oneDNN's swish backward (ND4J's derivative off oneDNN).
     */
    private void siluBackward(INDArray x, INDArray g, double[] scale, double[] shift) {
        INDArray pre = affine(x, scale, shift, false);
        if (oneDnn && pre.dataType() == DataType.FLOAT) {
            Dnnl.swishBackward(pre, g);
        } else {
            Nd4j.exec(new SwishDerivative(pre, pre));
            g.muli(pre);
        }
        free(pre);
    }

    /**
     * GroupNorm's backward on dense C-order {@code x} and {@code dy} ({@code [N, C, len]} elements) with the
     * per-(sample, channel) weight {@code w}: returns {@code {sum(dy), sum(dy * xhat)}} per (sample, channel) and,
     * with {@code writeDx}, overwrites {@code dy} with dx. Each (sample, group) block is read once into scratch
     * arrays and handled by one task, so the sums and dx take two passes over memory that stays in cache.
     */
    private static double[][] groupNormGrad(INDArray x, INDArray dy, GroupStats st, double[] w, long len,
            boolean writeDx) {
        if (dy.dataType() != x.dataType()) {
            throw new IllegalStateException("groupNorm gradient is " + dy.dataType() + " but x is " + x.dataType());
        }
        int nc = st.n() * st.c();
        double[] sumDy = new double[nc], sumDyXhat = new double[nc];
        if (x.dataType() == DataType.FLOAT) {
            groupNormGradFloat(x.data().asNioFloat(), dy.data().asNioFloat(), st, w, (int) len, writeDx, sumDy,
                    sumDyXhat);
        } else {
            groupNormGradDouble(x.data().asNioDouble(), dy.data().asNioDouble(), st, w, (int) len, writeDx, sumDy,
                    sumDyXhat);
        }
        return new double[][] {sumDy, sumDyXhat};
    }

    /** {@link #groupNormGrad} on float64 data (the gradient checks): plain double loops. */
    private static void groupNormGradDouble(DoubleBuffer xd, DoubleBuffer gd, GroupStats st, double[] w, int len,
            boolean writeDx, double[] sumDy, double[] sumDyXhat) {
        int n = st.n(), c = st.c(), groups = st.groups(), cg = c / groups, block = cg * len;
        IntStream.range(0, n * groups).parallel().forEach(k -> {
            int i = k / groups, gi = k % groups, start = k * block;
            double[] xs = new double[block], gs = new double[block];
            xd.get(start, xs);
            gd.get(start, gs);
            double mean = st.mean()[k], rstd = st.rstd()[k];
            double sa = 0, sb = 0;
            for (int cc = 0; cc < cg; cc++) {
                int ch = gi * cg + cc;
                double s = 0, sx = 0;
                for (int j = cc * len, to = j + len; j < to; j++) {
                    s += gs[j];
                    sx += gs[j] * xs[j];
                }
                double dxhat = (sx - mean * s) * rstd;   // sum(dy * xhat)
                sumDy[i * c + ch] = s;
                sumDyXhat[i * c + ch] = dxhat;
                sa += w[i * c + ch] * dxhat;
                sb += w[i * c + ch] * s;
            }
            if (!writeDx) {
                return;
            }
            double m = block;
            double cb = -rstd * rstd * sa / m;
            double c0 = (mean * rstd * rstd * sa - rstd * sb) / m;
            for (int cc = 0; cc < cg; cc++) {
                double ca = w[i * c + gi * cg + cc] * rstd;
                for (int j = cc * len, to = j + len; j < to; j++) {
                    gs[j] = gs[j] * ca + xs[j] * cb + c0;
                }
            }
            gd.put(start, gs);
        });
    }

    /**
     * {@link #groupNormGrad} on float32 data: each (sample, group) block is read into float arrays, the sums run in
     * four interleaved double accumulators (independent chains the core overlaps) and dx is written in float, a loop
     * the JIT vectorises.
     */
    private static void groupNormGradFloat(FloatBuffer xf, FloatBuffer gf, GroupStats st, double[] w, int len,
            boolean writeDx, double[] sumDy, double[] sumDyXhat) {
        int n = st.n(), c = st.c(), groups = st.groups(), cg = c / groups, block = cg * len;
        IntStream.range(0, n * groups).parallel().forEach(k -> {
            int i = k / groups, gi = k % groups, start = k * block;
            float[] xs = new float[block], gs = new float[block];
            xf.get(start, xs);
            gf.get(start, gs);
            double mean = st.mean()[k], rstd = st.rstd()[k];
            double sa = 0, sb = 0;
            for (int cc = 0; cc < cg; cc++) {
                int ch = gi * cg + cc, from = cc * len, to = from + len;
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0, x0 = 0, x1 = 0, x2 = 0, x3 = 0;
                int j = from;
                for (; j + 3 < to; j += 4) {
                    double g0 = gs[j], g1 = gs[j + 1], g2 = gs[j + 2], g3 = gs[j + 3];
                    s0 += g0;
                    s1 += g1;
                    s2 += g2;
                    s3 += g3;
                    x0 += g0 * xs[j];
                    x1 += g1 * xs[j + 1];
                    x2 += g2 * xs[j + 2];
                    x3 += g3 * xs[j + 3];
                }
                for (; j < to; j++) {
                    s0 += gs[j];
                    x0 += gs[j] * xs[j];
                }
                double sum = s0 + s1 + s2 + s3, sumX = x0 + x1 + x2 + x3;
                double dxhat = (sumX - mean * sum) * rstd;   // sum(dy * xhat)
                sumDy[i * c + ch] = sum;
                sumDyXhat[i * c + ch] = dxhat;
                sa += w[i * c + ch] * dxhat;
                sb += w[i * c + ch] * sum;
            }
            if (!writeDx) {
                return;
            }
            double m = block;
            float cb = (float) (-rstd * rstd * sa / m);
            float c0 = (float) ((mean * rstd * rstd * sa - rstd * sb) / m);
            for (int cc = 0; cc < cg; cc++) {
                float ca = (float) (w[i * c + gi * cg + cc] * rstd);
                for (int j = cc * len, to = j + len; j < to; j++) {
                    gs[j] = gs[j] * ca + xs[j] * cb + c0;
                }
            }
            gf.put(start, gs);
        });
    }

    /** Per-group mean and 1/sqrt(var + eps), computed in double. */
    private record GroupStats(int n, int c, int groups, double[] mean, double[] rstd) {
        /** {@code rstd * w} per (sample, channel), for per-(sample, channel) weights {@code w}. */
        double[] scale(double[] w) {
            double[] m = new double[n * c];
            int cg = c / groups;
            for (int i = 0; i < n * c; i++) {
                m[i] = rstd[(i / c) * groups + (i % c) / cg] * w[i];
            }
            return m;
        }

        /** {@code b - mean * rstd * w} per (sample, channel). */
        double[] shift(double[] w, double[] b) {
            double[] m = new double[n * c];
            int cg = c / groups;
            for (int i = 0; i < n * c; i++) {
                int k = (i / c) * groups + (i % c) / cg;
                m[i] = b[i] - mean[k] * rstd[k] * w[i];
            }
            return m;
        }
    }

    private static GroupStats groupStats(INDArray x, int n, int c, int groups, long len, double eps) {
        INDArray d = dense(x);
        long groupLen = len * (c / groups);
        double[] mean = new double[n * groups];
        double[] rstd = new double[n * groups];
        boolean isFloat = d.dataType() == DataType.FLOAT;
        FloatBuffer fb = isFloat ? d.data().asNioFloat() : null;
        DoubleBuffer db = isFloat ? null : d.castTo(DataType.DOUBLE).data().asNioDouble();
        if (isFloat) {
            OneDnnKernels.groupStatistics(fb, n * groups, groupLen, eps, mean, rstd);
        } else {
            // two passes: the variance as the mean of squared deviations (sumSq - m^2 loses digits for the
            // float64 gradient checks)
            IntStream.range(0, n * groups).parallel().forEach(gi -> {
                long start = gi * groupLen;
                double sum = 0;
                for (long i = 0; i < groupLen; i++) {
                    sum += db.get((int) (start + i));
                }
                double m = sum / groupLen, acc = 0;
                for (long i = 0; i < groupLen; i++) {
                    double v = db.get((int) (start + i)) - m;
                    acc += v * v;
                }
                mean[gi] = m;
                rstd[gi] = 1.0 / Math.sqrt(acc / groupLen + eps);
            });
        }
        if (d != x) {
            free(d);
        }
        return new GroupStats(n, c, groups, mean, rstd);
    }

    /**
     * {@code act(x * scale + shift)} with per-(sample, channel) {@code scale, shift} ({@code N * C} values, C order)
     * broadcast over the remaining axes.
     */
    private INDArray affine(INDArray x, double[] scale, double[] shift, boolean silu) {
        DataType dt = x.dataType();
        long[] s = x.shape();
        INDArray y = ArrayPool.uninitialized(dt, s);
        INDArray sc = table(scale, dt, s[0], s[1]), sh = table(shift, dt, s[0], s[1]);
        if (oneDnn && dt == DataType.FLOAT) {
            INDArray xd = dense(x);
            Dnnl.scaleShift(xd, sc, sh, y, silu);
            if (xd != x) {
                free(xd);
            }
        } else {
            long[] per = perChannel(s);
            Nd4j.exec(new MulOp(x, sc.reshape('c', per), y));
            Nd4j.exec(new AddOp(y, sh.reshape('c', per), y));
            if (silu) {
                Nd4j.exec(new Swish(y, y));
            }
        }
        free(sc);
        free(sh);
        return y;
    }

    /** {@code v} as an {@code [n, c]} array of type {@code dt}, written in one bulk copy for float32. */
    private static INDArray table(double[] v, DataType dt, long n, long c) {
        if (dt != DataType.FLOAT) {
            return Nd4j.createFromArray(v).castTo(dt).reshape('c', n, c);
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        INDArray t = ArrayPool.uninitialized(DataType.FLOAT, n, c);
        t.data().asNioFloat().put(f);
        return t;
    }

    private static long[] perChannel(long[] s) {
        long[] per = new long[s.length];
        Arrays.fill(per, 1);
        per[0] = s[0];
        per[1] = s[1];
        return per;
    }

    // ---- shape ----------------------------------------------------------------------------------------------

    @Override
    public Tensor reshape(Tensor x, long... shape) {
        long[] s = Shapes.resolveReshape(x.shape, shape);
        INDArray v = x.value();
        Tensor.Backward bw = (g, out) -> pass(x, reshapeOwned(g, x.shape));
        if (Shapes.cContiguous(v.shape(), v.stride())) {
            return record("reshape", viewAs(v, s), null, bw, x);
        }
        INDArray copy = v.dup('c');
        return record("reshape", viewAs(copy, s), copy, bw, x);
    }

    @Override
    public Tensor permute(Tensor x, int... axes) {
        Shapes.permute(x.shape, axes);
        int[] inverse = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            inverse[axes[i]] = i;
        }
        // a permuted array shares its buffer: closing the permuted gradient frees the gradient's memory
        return record("permute", x.value().permute(axes), null, (g, out) -> pass(x, g.permute(inverse)), x);
    }

    @Override
    public Tensor concat(int axis, List<Tensor> xs) {
        List<INDArray> values = new ArrayList<>();
        for (Tensor t : xs) {
            values.add(t.value());
        }
        INDArray y = eager.concat(axis, values);
        int ax = axis < 0 ? axis + y.rank() : axis;
        return fresh("concat", y, (g, out) -> {
            long from = 0;
            for (Tensor t : xs) {
                long to = from + t.shape[ax];
                if (t.requiresGrad) {
                    pass(t, g.get(range(g.rank(), ax, from, to)).dup('c'));
                }
                from = to;
            }
            free(g);
        }, xs.toArray(new Tensor[0]));
    }

    @Override
    public Tensor slice(Tensor x, int axis, long from, long to) {
        INDArray v = eager.slice(x.value(), axis, from, to);
        return record("slice", v, null, (g, out) -> {
            INDArray z = ArrayPool.zeros(g.dataType(), x.shape);
            z.get(range(x.shape.length, axis, from, to)).assign(g);
            free(g);
            pass(x, z);
        }, x);
    }

    private static INDArrayIndex[] range(int rank, int axis, long from, long to) {
        INDArrayIndex[] idx = new INDArrayIndex[rank];
        for (int i = 0; i < rank; i++) {
            idx[i] = i == axis ? NDArrayIndex.interval(from, to) : NDArrayIndex.all();
        }
        return idx;
    }

    // ---- reductions and nn ----------------------------------------------------------------------------------

    /** Mean over {@code axes} (over every axis when none are given, as ND4J's mean). */
    @Override
    public Tensor mean(Tensor x, boolean keepDims, int... axes) {
        int rank = x.shape.length;
        int[] ax = axes.length == 0 ? IntStream.range(0, rank).toArray()
                : Arrays.stream(axes).map(a -> a < 0 ? a + rank : a).toArray();
        long[] keep = Shapes.reduce(x.shape, true, ax);
        long count = Shapes.length(x.shape) / Shapes.length(keep);
        INDArray y = eager.mean(x.value(), keepDims, ax);
        return fresh("mean", y, (g, out) -> {
            INDArray gk = reshapeOwned(g, keep);
            if (Arrays.equals(keep, x.shape)) {
                pass(x, gk.muli(1.0 / count));
                return;
            }
            // zeros plus the broadcast gradient: two light passes (ND4J's broadcast() tiles, several times slower)
            INDArray full = ArrayPool.zeros(gk.dataType(), x.shape);
            Nd4j.exec(new AddOp(full, gk.muli(1.0 / count), full));
            free(gk);
            pass(x, full);
        }, x);
    }

    /** Backward {@code y * (g - sum(g * y))} along the axis. */
    @Override
    public Tensor softmax(Tensor x, int axis) {
        int ax = axis < 0 ? axis + x.shape.length : axis;
        return fresh("softmax", eager.softmax(x.value(), axis), (g, out) -> pass(x, softmaxBackward(out, g, ax)), x);
    }

    /** Softmax's backward {@code y (g - sum(g y))} along {@code axis}, consuming {@code g}. */
    private INDArray softmaxBackward(INDArray y, INDArray g, int axis) {
        if (oneDnn && y.dataType() == DataType.FLOAT && axis == y.rank() - 1 && denseOwn(y)) {
            INDArray gd = dense(g);
            INDArray dx = ArrayPool.uninitialized(DataType.FLOAT, y.shape());
            Dnnl.softmaxBackward(y, gd, dx);
            if (gd != g) {
                free(gd);
            }
            free(g);
            return dx;
        }
        INDArray gy = g.mul(y);
        INDArray s = gy.sum(true, axis);
        free(gy);
        Nd4j.exec(new SubOp(g, s, g));
        free(s);
        return g.muli(y);
    }

    /**
     * One node for {@code softmax((q s)^T (k s))}: the scores and the scaled q, k are temporaries (the scores of a
     * 16x16 attention layer at batch 16 are 25 MB), and backward recomputes the scaled q, k from q, k. With
     * {@code dS = W (g - sum(g W))} the softmax's backward: {@code dq = s (k s) dS^T}, {@code dk = s (q s) dS}.
     */
    @Override
    public Tensor attentionWeights(Tensor q, Tensor k, double scale) {
        INDArray qs = eager.mul(q.value(), scale), ks = eager.mul(k.value(), scale);
        INDArray scores = eager.matmul(qs, ks, true, false);
        free(qs);
        free(ks);
        INDArray w = eager.softmax(scores, 2);
        free(scores);
        return fresh("attentionWeights", w, (g, out) -> {
            INDArray ds = softmaxBackward(out, g, 2);
            if (q.requiresGrad) {
                INDArray ks2 = eager.mul(k.value(), scale);
                pass(q, eager.matmul(ks2, ds, false, true).muli(scale));
                free(ks2);
            }
            if (k.requiresGrad) {
                INDArray qs2 = eager.mul(q.value(), scale);
                pass(k, eager.matmul(qs2, ds, false, false).muli(scale));
                free(qs2);
            }
            free(ds);
        }, q, k);
    }

    /** Backward: the sum over each 2x2 block (4 x the average pool). */
    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return fresh("upsampleNearest2x", eager.upsampleNearest2x(x.value()), (g, out) -> {
            INDArray d = eager.avgPool2x2(g).muli(4.0);
            free(g);
            pass(x, d);
        }, x);
    }

    /** Backward: a quarter of the gradient to each of the 2x2 inputs (a trailing odd row / column gets none). */
    @Override
    public Tensor avgPool2x2(Tensor x) {
        return fresh("avgPool2x2", eager.avgPool2x2(x.value()), (g, out) -> {
            INDArray up = eager.upsampleNearest2x(g).muli(0.25);
            free(g);
            if (!Arrays.equals(up.shape(), x.shape)) {
                INDArray z = ArrayPool.zeros(up.dataType(), x.shape);
                z.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, up.size(2)),
                        NDArrayIndex.interval(0, up.size(3))).assign(up);
                free(up);
                up = z;
            }
            pass(x, up);
        }, x);
    }

    /**
     * Row lookup; backward is a scatter-add of the rows' gradients (repeated ids add up), straight into a trainable
     * table's accumulator: no {@code [K, V]} one-hot product and no table-sized temporary.
     */
    @Override
    public Tensor gatherRows(Tensor table, Tensor indices) {
        long[] ts = table.shape;
        long[] is = indices.shape;
        if (ts.length != 2 || is.length != 1) {
            throw new IllegalArgumentException("gatherRows needs a [V, D] table and [K] indices, got "
                    + Arrays.toString(ts) + " and " + Arrays.toString(is));
        }
        INDArray y = eager.gatherRows(table.value(), indices.value());
        return fresh("gatherRows", y, (g, out) -> {
            INDArray gd = dense(g);
            if (table.kind == Tensor.Kind.PARAM) {
                INDArray acc = into.get(table.key);
                ScatterAdd op = new ScatterAdd(acc, indices.value(), gd);
                op.addOutputArgument(acc);
                Nd4j.exec(op);
            } else {
                INDArray z = ArrayPool.zeros(gd.dataType(), ts);
                ScatterAdd op = new ScatterAdd(z, indices.value(), gd);
                op.addOutputArgument(z);
                Nd4j.exec(op);
                pass(table, z);
            }
            if (gd != g) {
                free(gd);
            }
            free(g);
        }, table);
    }

    /**
     * Inverted dropout (torch's nn.Dropout) while training: keep with probability 1-p, scale by 1/(1-p). The mask
     * comes from the seed and the call's index, so backward regenerates it instead of keeping it.
     */
    @Override
    public Tensor dropout(Tensor x, double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        if (!training || p == 0.0) {
            return x;
        }
        long seed = mix(dropoutSeed, dropoutCalls++);
        double keepScale = 1.0 / (1.0 - p);
        if (x.value().dataType() == DataType.FLOAT) {
            INDArray xd = dense(x.value());
            INDArray y = ArrayPool.uninitialized(DataType.FLOAT, x.shape);
            dropMasked(xd, y, seed, 1.0 - p, (float) keepScale);
            if (xd != x.value()) {
                free(xd);
            }
            return fresh("dropout", y, (g, out) -> {
                INDArray gd = ownDense(g);
                dropMasked(gd, gd, seed, 1.0 - p, (float) keepScale);
                pass(x, gd);
            }, x);
        }
        INDArray mask = mask(seed, 1.0 - p, x.value().dataType(), x.shape);
        INDArray y = eager.mul(x.value(), mask).muli(keepScale);
        free(mask);
        return fresh("dropout", y, (g, out) -> {
            INDArray m = mask(seed, 1.0 - p, g.dataType(), x.shape);
            g.muli(m).muli(keepScale);
            free(m);
            pass(x, g);
        }, x);
    }

    /**
     * {@code to = from * mask * scale} for dense C-order float32 arrays of the same length ({@code to} may be
     * {@code from}), the 0/1 keep mask drawn on the fly from {@code seed} with {@link PortableRandom} (the same in
     * every process; ND4J's seeded generators are not): no mask array in the forward or the backward.
     */
    private static void dropMasked(INDArray from, INDArray to, long seed, double keep, float scale) {
        FloatBuffer in = from.data().asNioFloat(), out = to.data().asNioFloat();
        PortableRandom random = new PortableRandom(seed);
        // two elements per 64-bit draw: each kept when its 32 bits fall below keep * 2^32
        long threshold = (long) (keep * 0x1.0p32);
        int n = Math.toIntExact(from.length());
        float[] chunk = new float[Math.min(n + (n & 1), 1 << 14)];   // even: the two halves of a draw stay paired
        for (int pos = 0; pos < n; pos += chunk.length) {
            int m = Math.min(chunk.length, n - pos);
            in.get(pos, chunk, 0, m);
            for (int i = 0; i < m; i += 2) {
                long bits = random.nextLong();
                chunk[i] = (bits >>> 32) < threshold ? chunk[i] * scale : 0f;
                if (i + 1 < m) {
                    chunk[i + 1] = (bits & 0xFFFFFFFFL) < threshold ? chunk[i + 1] * scale : 0f;
                }
            }
            out.put(pos, chunk, 0, m);
        }
    }

    /** The 0/1 keep mask {@link #dropMasked} applies, as an array (the float64 path). */
    private static INDArray mask(long seed, double keep, DataType type, long[] shape) {
        INDArray m = Nd4j.ones(DataType.FLOAT, shape);
        dropMasked(m, m, seed, keep, 1f);
        if (type == DataType.FLOAT) {
            return m;
        }
        INDArray cast = m.castTo(type);
        m.close();
        return cast;
    }

    /** SplitMix64's finaliser of {@code seed + i}: independent-looking seeds for consecutive dropout calls. */
    private static long mix(long seed, long i) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
