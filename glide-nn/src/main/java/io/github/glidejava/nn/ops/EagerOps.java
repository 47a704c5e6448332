package io.github.glidejava.nn.ops;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.function.Function;
import java.util.function.Supplier;

import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.DivOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.factory.ops.NDBase;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.kernels.OneDnnKernels;

/**
 * Eager back-end: every operation runs at once on INDArrays (float32). Intermediate arrays are allocated in ND4J
 * workspaces: {@link #run} opens one for a whole forward pass and each {@link #block} a nested scratch workspace
 * whose memory is reused from block to block, so repeated forwards do not grow memory.
 *
 * <p>Where oneDNN's Java API and natives are on the class path ({@link OneDnnKernels#available()}), batched
 * matmuls, convolutions, linear layers, GroupNorm and SiLU run as oneDNN sgemm / JIT primitives on the arrays'
 * buffers instead of ND4J's ops (base model forward 4.4 s -> 3.3 s); elsewhere, or with {@code -Dglide.kernels=nd4j},
 * everything is ND4J.
 */
public final class EagerOps implements TensorOps<INDArray> {
    private static final String BLOCK_WS = "glide-eager-block-";
    private static final WorkspaceConfiguration WS_CONF = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .overallocationLimit(0.2)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private final Function<String, INDArray> params;
    private final NDBase base = new NDBase();
    private final boolean oneDnn;
    private final Precision precision;
    private int depth;

    /**
     * The eager back-end with oneDNN's kernels where they are available.
     *
     * @param params the parameter lookup, e.g. {@code store::get} of a ParameterStore
     */
    public EagerOps(Function<String, INDArray> params) {
        this(params, true);
    }

    /**
     * @param params the parameter lookup
     * @param oneDnnKernels false for ND4J's ops only; true for oneDNN's kernels where they are available
     */
    public EagerOps(Function<String, INDArray> params, boolean oneDnnKernels) {
        this(params, oneDnnKernels, Precision.FP32);
    }

    /**
     * @param params        the parameter lookup
     * @param oneDnnKernels false for ND4J's ops only; true for oneDNN's kernels where they are available
     * @param precision     how convolutions compute with oneDNN's kernels ({@link Precision#FP32} is exact; the
     *                      others need the kernels and are ignored without them)
     */
    public EagerOps(Function<String, INDArray> params, boolean oneDnnKernels, Precision precision) {
        GlideBackend.init();
        this.params = params;
        this.oneDnn = oneDnnKernels && OneDnnKernels.available();
        this.precision = java.util.Objects.requireNonNull(precision, "precision");
    }

    /** How this instance's convolutions compute. */
    public Precision precision() {
        return precision;
    }

    /** Whether this instance runs matmul, conv2d, linear, groupNorm and silu through oneDNN. */
    public boolean usesOneDnnKernels() {
        return oneDnn;
    }

    /**
     * Runs {@code body} and returns its result outside any workspace. Blocks ({@link #block}) compute in this
     * thread's workspaces, reused from call to call; their outputs are ordinary arrays that {@link #release} frees.
     */
    public INDArray run(Supplier<INDArray> body) {
        return runAll(() -> java.util.Map.of("out", body.get())).get("out");
    }

    /** {@link #run} for several outputs: each is detached. */
    public java.util.Map<String, INDArray> runAll(Supplier<java.util.Map<String, INDArray>> body) {
        // a forward started inside another one (e.g. a callback) gets workspaces of its own
        int level = NESTING.get();
        NESTING.set(level + 1);
        String savedPrefix = wsPrefix;
        int savedDepth = depth;
        wsPrefix = level == 0 ? "" : "nested" + level + "-";
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            depth = 0;
            java.util.Map<String, INDArray> out = new java.util.LinkedHashMap<>();
            for (java.util.Map.Entry<String, INDArray> e : body.get().entrySet()) {
                out.put(e.getKey(), e.getValue().detach());
            }
            return out;
        } finally {
            wsPrefix = savedPrefix;
            depth = savedDepth;
            NESTING.set(level);
        }
    }

    private static final ThreadLocal<Integer> NESTING = ThreadLocal.withInitial(() -> 0);
    private String wsPrefix = "";

    /**
     * Bytes currently reserved by this thread's forward workspaces (one per block depth used so far);
     * stable from the second forward of the same shapes on.
     */
    public static long workspaceBytes() {
        var mgr = Nd4j.getWorkspaceManager();
        long total = 0;
        for (int d = 1; mgr.checkIfWorkspaceExists(BLOCK_WS + d); d++) {
            total += mgr.getWorkspaceForCurrentThread(BLOCK_WS + d).getCurrentSize();
        }
        return total;
    }

    // ---- parameters and constants ---------------------------------------------------------------------------

    @Override
    public INDArray param(String key) {
        return params.apply(key);
    }

    @Override
    public INDArray constant(INDArray value) {
        return value;
    }

    @Override
    public long[] shape(INDArray x) {
        return x.shape();
    }

    @Override
    public INDArray toFloat(INDArray x) {
        return x.dataType() == DataType.FLOAT ? x : x.castTo(DataType.FLOAT);
    }

    @Override
    public INDArray block(String name, Supplier<INDArray> body) {
        MemoryWorkspace parent = Nd4j.getMemoryManager().getCurrentWorkspace();
        depth++;
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WS_CONF, wsPrefix + BLOCK_WS + depth)) {
            INDArray out = body.get();
            // outermost blocks hand out ordinary arrays, which release() can free one by one (a workspace cannot)
            return parent == null ? out.detach() : out.leverageTo(parent.getId());
        } finally {
            depth--;
        }
    }

    /** Frees {@code x}'s memory now when it is an ordinary array of its own (not a view, not in a workspace). */
    @Override
    public void release(INDArray x) {
        if (x != null && !x.wasClosed() && !x.isAttached() && !x.isView() && x.closeable()) {
            x.close();
        }
    }

    // ---- linear algebra -------------------------------------------------------------------------------------

    @Override
    public INDArray conv2d(INDArray x, INDArray weight, INDArray bias, int stride, int padding) {
        Shapes.conv2d(x.shape(), weight.shape(), stride, padding);
        INDArray fast = oneDnn ? OneDnnKernels.conv2d(x, weight, bias, stride, padding, precision) : null;
        if (fast != null) {
            return fast;
        }
        Conv2DConfig cfg = Conv2DConfig.builder()
                .kH(weight.size(0)).kW(weight.size(1))
                .sH(stride).sW(stride).pH(padding).pW(padding).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID)
                .dataFormat(Conv2DConfig.NCHW)
                .weightsFormat(WeightsFormat.YXIO)
                .build();
        return bias == null ? Nd4j.cnn().conv2d(x, weight, cfg) : Nd4j.cnn().conv2d(x, weight, bias, cfg);
    }

    @Override
    public INDArray matmul(INDArray a, INDArray b, boolean transposeA, boolean transposeB) {
        Shapes.matmul(a.shape(), b.shape(), transposeA, transposeB);
        INDArray fast = oneDnn ? OneDnnKernels.matmul(a, b, transposeA, transposeB) : null;
        return fast != null ? fast : Nd4j.matmul(a, b, transposeA, transposeB, false);
    }

    @Override
    public INDArray linear(INDArray x, INDArray weight, INDArray bias) {
        INDArray fast = oneDnn ? OneDnnKernels.linear(x, weight, bias) : null;
        return fast != null ? fast : TensorOps.super.linear(x, weight, bias);
    }

    // ---- element-wise ---------------------------------------------------------------------------------------

    private static INDArray out(INDArray a, INDArray b) {
        return ArrayPool.uninitialized(a.dataType(), Shapes.broadcast(a.shape(), b.shape()));
    }

    @Override
    public INDArray add(INDArray a, INDArray b) {
        INDArray z = out(a, b);
        return Nd4j.exec(new AddOp(a, b, z))[0];
    }

    @Override
    public INDArray sub(INDArray a, INDArray b) {
        INDArray z = out(a, b);
        return Nd4j.exec(new SubOp(a, b, z))[0];
    }

    @Override
    public INDArray mul(INDArray a, INDArray b) {
        INDArray z = out(a, b);
        return Nd4j.exec(new MulOp(a, b, z))[0];
    }

    @Override
    public INDArray div(INDArray a, INDArray b) {
        INDArray z = out(a, b);
        return Nd4j.exec(new DivOp(a, b, z))[0];
    }

    @Override
    public INDArray add(INDArray a, double s) {
        return a.add(s);
    }

    @Override
    public INDArray mul(INDArray a, double s) {
        return a.mul(s);
    }

    @Override
    public INDArray exp(INDArray x) {
        return Transforms.exp(x, true);
    }

    @Override
    public INDArray log(INDArray x) {
        return Transforms.log(x, true);
    }

    @Override
    public INDArray sqrt(INDArray x) {
        return Transforms.sqrt(x, true);
    }

    @Override
    public INDArray rsqrt(INDArray x) {
        return Nd4j.math().rsqrt(x.dup()); // Nd4j.math() ops write into their argument
    }

    @Override
    public INDArray square(INDArray x) {
        return x.mul(x);
    }

    @Override
    public INDArray clampMin(INDArray x, double floor) {
        return Transforms.max(x, floor, true);
    }

    @Override
    public INDArray stopGradient(INDArray x) {
        return x;
    }

    @Override
    public INDArray erf(INDArray x) {
        return Nd4j.math().erf(x.dup()); // Nd4j.math() ops write into their argument
    }

    @Override
    public INDArray tanh(INDArray x) {
        return Transforms.tanh(x, true);
    }

    @Override
    public INDArray sigmoid(INDArray x) {
        return Transforms.sigmoid(x, true);
    }

    @Override
    public INDArray cos(INDArray x) {
        return Transforms.cos(x, true);
    }

    @Override
    public INDArray sin(INDArray x) {
        return Transforms.sin(x, true);
    }

    // ---- fused versions of composed functions ----

    /** One native swish pass instead of sigmoid then multiply. */
    @Override
    public INDArray silu(INDArray x) {
        INDArray fast = oneDnn ? OneDnnKernels.silu(x) : null;
        if (fast != null) {
            return fast;
        }
        return Nd4j.exec(new Swish(x, ArrayPool.uninitialized(x.dataType(), x.shape())));
    }

    /**
     * Group statistics in one pass over the data with double accumulators (ND4J's variance reduction is several
     * times slower than a plain loop), then one multiply-add per element with per-(sample, channel) scale
     * {@code rstd * weight} and shift {@code bias - mean * scale}, as PyTorch's CPU kernel computes it, and SiLU in
     * place.
     */
    @Override
    public INDArray groupNormScaleShiftSilu(INDArray x, int groups, double eps, INDArray weight, INDArray bias,
            INDArray scale, INDArray shift) {
        INDArray fast = oneDnn ? OneDnnKernels.groupNorm(x, groups, eps, weight, bias, scale, shift, true) : null;
        return fast != null ? fast : TensorOps.super.groupNormScaleShiftSilu(x, groups, eps, weight, bias, scale, shift);
    }

    @Override
    public INDArray groupNorm(INDArray x, int groups, double eps, INDArray weight, INDArray bias, boolean silu) {
        INDArray fast = oneDnn ? OneDnnKernels.groupNorm(x, groups, eps, weight, bias, silu) : null;
        if (fast != null) {
            return fast;
        }
        long[] s = x.shape();
        int n = (int) s[0], c = (int) s[1], cg = c / groups;
        // the statistics loop reads the raw buffer: it needs a dense float32 array that starts at its buffer
        if (x.dataType() != DataType.FLOAT || !Shapes.cContiguous(x.shape(), x.stride()) || x.offset() != 0) {
            x = x.dup('c');
        }
        long groupLen = x.length() / ((long) n * groups);
        double[] mean = new double[n * groups];
        double[] rstd = new double[n * groups];
        FloatBuffer buf = x.data().asNioFloat();
        long base = 0;
        IntStream.range(0, n * groups).parallel().forEach(gi -> {
            double sum = 0, sumSq = 0;
            long off = base + gi * groupLen;
            for (long i = 0; i < groupLen; i++) {
                double v = buf.get((int) (off + i));
                sum += v;
                sumSq += v * v;
            }
            double m = sum / groupLen;
            double var = Math.max(0.0, sumSq / groupLen - m * m);
            mean[gi] = m;
            rstd[gi] = 1.0 / Math.sqrt(var + eps);
        });
        float[] w = weight.toFloatVector();
        float[] b = bias.toFloatVector();
        float[][] scale = new float[n][c];
        float[][] shift = new float[n][c];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                int gi = i * groups + ch / cg;
                float sc = (float) (rstd[gi] * w[ch]);
                scale[i][ch] = sc;
                shift[i][ch] = (float) (b[ch] - mean[gi] * sc);
            }
        }
        long[] affine = new long[s.length];
        java.util.Arrays.fill(affine, 1);
        affine[0] = n;
        affine[1] = c;
        INDArray y = mul(x, Nd4j.createFromArray(scale).reshape('c', affine));
        Nd4j.exec(new AddOp(y, Nd4j.createFromArray(shift).reshape('c', affine), y));
        if (silu) {
            Nd4j.exec(new Swish(y, y));
        }
        return y;
    }

    // ---- shape ----------------------------------------------------------------------------------------------

    @Override
    public INDArray reshape(INDArray x, long... shape) {
        long[] s = Shapes.resolveReshape(x.shape(), shape);
        return x.reshape('c', s);
    }

    @Override
    public INDArray permute(INDArray x, int... axes) {
        Shapes.permute(x.shape(), axes);
        return x.permute(axes);
    }

    @Override
    public INDArray concat(int axis, java.util.List<INDArray> xs) {
        long[][] shapes = new long[xs.size()][];
        for (int i = 0; i < shapes.length; i++) {
            shapes[i] = xs.get(i).shape();
        }
        Shapes.concat(axis, shapes);
        return Nd4j.concat(axis, xs.toArray(new INDArray[0]));
    }

    @Override
    public INDArray slice(INDArray x, int axis, long from, long to) {
        if (from < 0 || to > x.size(axis) || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") of axis " + axis + " of shape "
                    + Arrays.toString(x.shape()));
        }
        INDArrayIndex[] idx = new INDArrayIndex[x.rank()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i == axis ? NDArrayIndex.interval(from, to) : NDArrayIndex.all();
        }
        return x.get(idx);
    }

    // ---- reductions and nn ----------------------------------------------------------------------------------

    @Override
    public INDArray mean(INDArray x, boolean keepDims, int... axes) {
        Shapes.reduce(x.shape(), keepDims, axes);
        return x.mean(keepDims, axes);
    }

    @Override
    public INDArray softmax(INDArray x, int axis) {
        return Nd4j.nn().softmax(x, axis);
    }

    @Override
    public INDArray upsampleNearest2x(INDArray x) {
        return Nd4j.cnn().upsampling2d(x, 2, 2, true);
    }

    @Override
    public INDArray avgPool2x2(INDArray x) {
        return Nd4j.cnn().avgPooling2d(x, AVG_POOL_2X2);
    }

    static final Pooling2DConfig AVG_POOL_2X2 = Pooling2DConfig.builder()
            .kH(2).kW(2).sH(2).sW(2).pH(0).pW(0).dH(1).dW(1)
            .type(Pooling2D.Pooling2DType.AVG)
            .divisor(Pooling2D.Divisor.INCLUDE_PADDING)
            .paddingMode(PaddingMode.VALID)
            .isNHWC(false)
            .build();

    @Override
    public INDArray gatherRows(INDArray table, INDArray indices) {
        return base.gather(table, indices, 0);
    }

    @Override
    public INDArray dropout(INDArray x, double p) {
        return x;
    }
}
