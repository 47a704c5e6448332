package io.github.glidejava.nn.ops.kernels;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.HashMap;
import java.util.Map;

import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * 2-d convolutions as oneDNN primitives, forward and both backward passes, on C-order NCHW float32 arrays with
 * GLIDE's {@code [kH, kW, in, out]} weights (oneDNN's {@code hwio}). oneDNN picks the layouts its JIT kernels run
 * fastest on (channel-blocked activations and weights); the arrays are reordered into them and back on every call
 * through per-thread scratch buffers, and the primitives are made once per shape and kept per thread.
 *
 * <p>{@link Algorithm#DIRECT} is exact to float32 summation order. {@link Algorithm#WINOGRAD} (3x3, stride 1) does
 * fewer multiplications at a small extra rounding error; {@link Algorithm#BF16} rounds the input and weights to
 * bfloat16 (8-bit mantissa, float32 accumulation; native on CPUs with AVX-512 BF16). Both are opt-in.
 */
public final class DnnlConv {
    /** How the forward convolution computes. */
    public enum Algorithm {
        /** float32, direct: the default, exact to summation order. */
        DIRECT,
        /** float32, Winograd F(4x4, 3x3) where oneDNN has it for the shape (3x3, stride 1), else direct. */
        WINOGRAD,
        /** bfloat16 input and weights, float32 accumulation and output. */
        BF16
    }

    private static final ThreadLocal<Map<String, Conv>> CACHE = ThreadLocal.withInitial(HashMap::new);
    /** Per-thread scratch for the reordered operands: slot 0 input side, 1 weights, 2 output side. */
    private static final ThreadLocal<INDArray[]> SCRATCH = ThreadLocal.withInitial(() -> new INDArray[3]);

    private DnnlConv() {
    }

    /** A convolution primitive with a reorder into (or out of) its layout for each operand that needs one. */
    private static final class Conv {
        final Dnnl.Prim primitive;
        /** Reorders user -> primitive for operands 0 and 1, primitive -> user for operand 2; null if not needed. */
        final Dnnl.Prim[] reorders = new Dnnl.Prim[3];
        final long[] scratchBytes = new long[3];

        Conv(Dnnl.Prim primitive) {
            this.primitive = primitive;
        }
    }

    /**
     * {@code y = conv(x, weight) + bias} into {@code y} (all C-order float32; bias may be null). False when oneDNN
     * has no implementation for this case (then nothing was written).
     */
    public static boolean forward(INDArray x, INDArray weight, INDArray bias, int stride, int padding, INDArray y,
            Algorithm algorithm) {
        long[] xs = x.shape(), ws = weight.shape(), ys = y.shape();
        String key = "f:" + dims(xs) + ":" + dims(ws) + ":" + stride + ":" + padding + ":" + (bias != null) + ":"
                + algorithm;
        Conv c = CACHE.get().computeIfAbsent(key, k -> {
            Conv made = createForward(xs, ws, ys, bias != null, stride, padding, algorithm);
            return made == null && algorithm == Algorithm.WINOGRAD
                    ? createForward(xs, ws, ys, bias != null, stride, padding, Algorithm.DIRECT)
                    : made;
        });
        if (c == null) {
            return false;
        }
        Pointer src = in(c, 0, x);
        Pointer wei = in(c, 1, weight);
        Pointer dst = out(c, y);
        if (bias == null) {
            c.primitive.run(src, wei, dst);
        } else {
            c.primitive.run(src, wei, Gemm.address(bias, 0), dst);
        }
        writeBack(c, dst, y);
        return true;
    }

    /**
     * {@code dx = conv_backward_data(g, weight)} into {@code dx}, in bfloat16 for {@link Algorithm#BF16} and direct
     * float32 otherwise; false when oneDNN has no implementation. (oneDNN 2.5's Winograd backward primitives crashed
     * the process on some shapes that they accepted, so {@link Algorithm#WINOGRAD} runs the direct backward.)
     */
    public static boolean backwardData(INDArray g, INDArray weight, int stride, int padding, INDArray dx,
            Algorithm algorithm) {
        long[] xs = dx.shape(), ws = weight.shape(), ys = g.shape();
        Algorithm a = backwardAlgorithm(algorithm);
        String key = "bd:" + dims(xs) + ":" + dims(ws) + ":" + stride + ":" + padding + ":" + a;
        Conv c = CACHE.get().computeIfAbsent(key, k -> createBackwardData(xs, ws, ys, stride, padding, a));
        if (c == null) {
            return false;
        }
        Pointer diffDst = in(c, 0, g);
        Pointer wei = in(c, 1, weight);
        Pointer diffSrc = out(c, dx);
        c.primitive.run(diffDst, wei, diffSrc);
        writeBack(c, diffSrc, dx);
        return true;
    }

    /**
     * {@code dw} (and {@code db} if not null) of the convolution of {@code x} given the output gradient {@code g},
     * overwritten, computed as {@link #backwardData} says; false when oneDNN has no implementation.
     */
    public static boolean backwardWeights(INDArray x, INDArray g, int stride, int padding, INDArray dw, INDArray db,
            Algorithm algorithm) {
        long[] xs = x.shape(), ws = dw.shape(), ys = g.shape();
        Algorithm a = backwardAlgorithm(algorithm);
        String key = "bw:" + dims(xs) + ":" + dims(ws) + ":" + stride + ":" + padding + ":" + (db != null) + ":" + a;
        Conv c = CACHE.get().computeIfAbsent(key,
                k -> createBackwardWeights(xs, ws, ys, db != null, stride, padding, a));
        if (c == null) {
            return false;
        }
        Pointer src = in(c, 0, x);
        Pointer diffDst = in(c, 1, g);
        Pointer diffWei = out(c, dw);
        if (db == null) {
            c.primitive.run(src, diffDst, diffWei);
        } else {
            c.primitive.run(src, diffDst, diffWei, Gemm.address(db, 0));
        }
        writeBack(c, diffWei, dw);
        return true;
    }

    // ---- primitive construction -------------------------------------------------------------------------------

    private static Conv createForward(long[] xs, long[] ws, long[] ys, boolean bias, int stride, int padding,
            Algorithm algorithm) {
        int type = inputType(algorithm);
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        int status = dnnl_convolution_forward_desc_init(cd, dnnl_forward_inference,
                algorithm == Algorithm.WINOGRAD ? dnnl_convolution_winograd : dnnl_convolution_direct,
                any(type, xs), any(type, oihw(ws)), bias ? plain(dnnl_f32, dnnl_x, ws[3]) : null,
                any(dnnl_f32, ys), new long[] {stride, stride}, new long[] {padding, padding},
                new long[] {padding, padding});
        dnnl_primitive_desc pd = primitiveDesc(status, cd, null);
        if (pd == null) {
            return null;
        }
        dnnl_memory_desc_t src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        dnnl_memory_desc_t wei = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        dnnl_memory_desc_t dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        Conv c = bias
                ? new Conv(new Dnnl.Prim(pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
                        new dnnl_memory_desc_t[] {src, wei, plain(dnnl_f32, dnnl_x, ws[3]), dst}))
                : new Conv(new Dnnl.Prim(pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                        new dnnl_memory_desc_t[] {src, wei, dst}));
        reorders(c, new dnnl_memory_desc_t[] {plain(dnnl_f32, dnnl_nchw, xs), plain(dnnl_f32, dnnl_hwio, oihw(ws)),
                plain(dnnl_f32, dnnl_nchw, ys)}, new dnnl_memory_desc_t[] {src, wei, dst});
        dnnl_primitive_desc_destroy(pd);
        return c;
    }

    private static Conv createBackwardData(long[] xs, long[] ws, long[] ys, int stride, int padding,
            Algorithm algorithm) {
        dnnl_primitive_desc hint = forwardHint(xs, ws, ys, false, stride, padding, algorithm);
        if (hint == null) {
            return null;
        }
        int type = inputType(algorithm);
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        int status = dnnl_convolution_backward_data_desc_init(cd, dnnl_convolution_direct, any(dnnl_f32, xs),
                any(type, oihw(ws)), any(type, ys), new long[] {stride, stride},
                new long[] {padding, padding}, new long[] {padding, padding});
        dnnl_primitive_desc pd = primitiveDesc(status, cd, hint);
        dnnl_primitive_desc_destroy(hint);
        if (pd == null) {
            return null;
        }
        dnnl_memory_desc_t diffDst = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0);
        dnnl_memory_desc_t wei = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        dnnl_memory_desc_t diffSrc = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_src_md, 0);
        Conv c = new Conv(new Dnnl.Prim(pd, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
                new dnnl_memory_desc_t[] {diffDst, wei, diffSrc}));
        reorders(c, new dnnl_memory_desc_t[] {plain(dnnl_f32, dnnl_nchw, ys), plain(dnnl_f32, dnnl_hwio, oihw(ws)),
                plain(dnnl_f32, dnnl_nchw, xs)}, new dnnl_memory_desc_t[] {diffDst, wei, diffSrc});
        dnnl_primitive_desc_destroy(pd);
        return c;
    }

    private static Conv createBackwardWeights(long[] xs, long[] ws, long[] ys, boolean bias, int stride,
            int padding, Algorithm algorithm) {
        dnnl_primitive_desc hint = forwardHint(xs, ws, ys, bias, stride, padding, algorithm);
        if (hint == null) {
            return null;
        }
        int type = inputType(algorithm);
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        int status = dnnl_convolution_backward_weights_desc_init(cd, dnnl_convolution_direct, any(type, xs),
                any(dnnl_f32, oihw(ws)), bias ? plain(dnnl_f32, dnnl_x, ws[3]) : null, any(type, ys),
                new long[] {stride, stride}, new long[] {padding, padding}, new long[] {padding, padding});
        dnnl_primitive_desc pd = primitiveDesc(status, cd, hint);
        dnnl_primitive_desc_destroy(hint);
        if (pd == null) {
            return null;
        }
        dnnl_memory_desc_t src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        dnnl_memory_desc_t diffDst = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0);
        dnnl_memory_desc_t diffWei = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0);
        Conv c = bias
                ? new Conv(new Dnnl.Prim(pd,
                        new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS},
                        new dnnl_memory_desc_t[] {src, diffDst, diffWei, plain(dnnl_f32, dnnl_x, ws[3])}))
                : new Conv(new Dnnl.Prim(pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS},
                        new dnnl_memory_desc_t[] {src, diffDst, diffWei}));
        reorders(c, new dnnl_memory_desc_t[] {plain(dnnl_f32, dnnl_nchw, xs), plain(dnnl_f32, dnnl_nchw, ys),
                plain(dnnl_f32, dnnl_hwio, oihw(ws))}, new dnnl_memory_desc_t[] {src, diffDst, diffWei});
        dnnl_primitive_desc_destroy(pd);
        return c;
    }

    /** The forward primitive descriptor a backward one is made against (oneDNN requires it as a hint). */
    private static dnnl_primitive_desc forwardHint(long[] xs, long[] ws, long[] ys, boolean bias, int stride,
            int padding, Algorithm algorithm) {
        int type = inputType(algorithm);
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        int status = dnnl_convolution_forward_desc_init(cd, dnnl_forward_training, dnnl_convolution_direct,
                any(type, xs), any(type, oihw(ws)), bias ? plain(dnnl_f32, dnnl_x, ws[3]) : null,
                any(dnnl_f32, ys), new long[] {stride, stride}, new long[] {padding, padding},
                new long[] {padding, padding});
        return primitiveDesc(status, cd, null);
    }

    /** The type the primitives read the input, weights and output gradient in: bfloat16 for BF16, else float32. */
    private static int inputType(Algorithm algorithm) {
        return algorithm == Algorithm.BF16 ? dnnl_bf16 : dnnl_f32;
    }

    private static Algorithm backwardAlgorithm(Algorithm algorithm) {
        return algorithm == Algorithm.BF16 ? Algorithm.BF16 : Algorithm.DIRECT;
    }

    private static dnnl_primitive_desc primitiveDesc(int descStatus, dnnl_convolution_desc_t cd,
            dnnl_primitive_desc hint) {
        if (descStatus != dnnl_success) {
            return null;
        }
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        int status = dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(cd), null, Dnnl.ENGINE, hint);
        if (status == dnnl_unimplemented) {
            return null;
        }
        Dnnl.check(status, "convolution primitive descriptor");
        return pd;
    }

    /**
     * For each operand, a reorder between the user's plain layout and the primitive's when they differ (operands 0
     * and 1 into the primitive, operand 2 out of it).
     */
    private static void reorders(Conv c, dnnl_memory_desc_t[] user, dnnl_memory_desc_t[] prim) {
        for (int i = 0; i < 3; i++) {
            if (dnnl_memory_desc_equal(user[i], prim[i]) != 0) {
                continue;
            }
            dnnl_memory_desc_t from = i < 2 ? user[i] : prim[i];
            dnnl_memory_desc_t to = i < 2 ? prim[i] : user[i];
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            Dnnl.check(dnnl_reorder_primitive_desc_create(pd, from, Dnnl.ENGINE, to, Dnnl.ENGINE, null),
                    "reorder primitive descriptor");
            c.reorders[i] = new Dnnl.Prim(pd, new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
                    new dnnl_memory_desc_t[] {from, to});
            dnnl_primitive_desc_destroy(pd);
            c.scratchBytes[i] = dnnl_memory_desc_get_size(prim[i]);
        }
    }

    // ---- buffers and descriptors ------------------------------------------------------------------------------

    /** Operand {@code slot} in the primitive's layout: the array itself, or its reorder into scratch. */
    private static Pointer in(Conv c, int slot, INDArray a) {
        if (c.reorders[slot] == null) {
            return Gemm.address(a, 0);
        }
        Pointer p = scratch(slot, c.scratchBytes[slot]);
        c.reorders[slot].run(Gemm.address(a, 0), p);
        return p;
    }

    /** Where the primitive writes operand 2: the array itself, or scratch that {@link #writeBack} reorders from. */
    private static Pointer out(Conv c, INDArray a) {
        return c.reorders[2] == null ? Gemm.address(a, 0) : scratch(2, c.scratchBytes[2]);
    }

    /** Reorders the primitive's output from scratch into {@code a}, if {@link #out} gave scratch. */
    private static void writeBack(Conv c, Pointer written, INDArray a) {
        if (c.reorders[2] != null) {
            c.reorders[2].run(written, Gemm.address(a, 0));
        }
    }

    /** At least {@code bytes} of this thread's scratch slot, grown (never shrunk) as needed. */
    private static Pointer scratch(int slot, long bytes) {
        INDArray[] s = SCRATCH.get();
        long floats = (bytes + 3) / 4;
        if (s[slot] == null || s[slot].length() < floats) {
            s[slot] = Nd4j.createUninitializedDetached(DataType.FLOAT, Math.max(floats, 1));
        }
        return Gemm.address(s[slot], 0);
    }

    /** oneDNN's logical weight dims (O, I, kH, kW) of a {@code [kH, kW, in, out]} weight. */
    private static long[] oihw(long[] ws) {
        return new long[] {ws[3], ws[2], ws[0], ws[1]};
    }

    private static dnnl_memory_desc_t any(int type, long[] dims) {
        dnnl_memory_desc_t d = new dnnl_memory_desc_t();
        Dnnl.check(dnnl_memory_desc_init_by_tag(d, dims.length, dims, type, dnnl_format_tag_any), "memory desc");
        return d;
    }

    private static dnnl_memory_desc_t plain(int type, int tag, long... dims) {
        dnnl_memory_desc_t d = new dnnl_memory_desc_t();
        Dnnl.check(dnnl_memory_desc_init_by_tag(d, dims.length, dims, type, tag), "memory desc");
        return d;
    }

    private static String dims(long[] s) {
        StringBuilder b = new StringBuilder();
        for (long v : s) {
            b.append(v).append('x');
        }
        return b.toString();
    }
}
