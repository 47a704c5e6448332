package io.github.glidejava.nn.ops.kernels;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.HashMap;
import java.util.Map;

import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_binary_desc_t;
import org.bytedeco.dnnl.dnnl_eltwise_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_softmax_desc_t;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * oneDNN element-wise primitives (JIT-compiled for the CPU at hand) on INDArray buffers, through oneDNN's C API:
 * {@code y = swish(x * scale + shift)} with per-(sample, channel) scale and shift in ONE pass (a binary multiply with
 * a binary-add and a swish post-op; GroupNorm's affine and SiLU fused), and a plain swish. Primitives are created
 * once per shape and kept per thread; each call only points their memories at the arrays.
 */
public final class Dnnl {
    static {
        Loader.load(org.bytedeco.dnnl.global.dnnl.class);
    }

    static final dnnl_engine ENGINE = createEngine();
    static final ThreadLocal<dnnl_stream> STREAM = ThreadLocal.withInitial(() -> {
        dnnl_stream s = new dnnl_stream();
        check(dnnl_stream_create(s, ENGINE, dnnl_stream_default_flags), "stream");
        return s;
    });
    private static final ThreadLocal<Map<String, Prim>> CACHE = ThreadLocal.withInitial(HashMap::new);

    private Dnnl() {
    }

    private static dnnl_engine createEngine() {
        dnnl_engine e = new dnnl_engine();
        check(dnnl_engine_create(e, dnnl_cpu, 0), "engine");
        return e;
    }

    static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN " + what + " failed with status " + status);
        }
    }

    /** A primitive with its memories (no buffers of their own) and its argument list. */
    static final class Prim {
        final dnnl_primitive primitive = new dnnl_primitive();
        final dnnl_memory[] memories;
        final dnnl_exec_arg_t args;

        Prim(dnnl_primitive_desc pd, int[] argIds, dnnl_memory_desc_t[] mds) {
            check(dnnl_primitive_create(primitive, pd), "primitive");
            memories = new dnnl_memory[argIds.length];
            args = new dnnl_exec_arg_t(argIds.length);
            for (int i = 0; i < argIds.length; i++) {
                memories[i] = new dnnl_memory();
                check(dnnl_memory_create(memories[i], mds[i], ENGINE, null), "memory");
                args.position(i).arg(argIds[i]).memory(memories[i]);
            }
            args.position(0);
        }

        void run(org.bytedeco.javacpp.Pointer... buffers) {
            for (int i = 0; i < buffers.length; i++) {
                check(dnnl_memory_set_data_handle(memories[i], buffers[i]), "set_data_handle");
            }
            dnnl_stream s = STREAM.get();
            check(dnnl_primitive_execute(primitive, s, memories.length, args), "execute");
            check(dnnl_stream_wait(s), "stream wait");
        }
    }

    private static dnnl_memory_desc_t md(long... dims) {
        dnnl_memory_desc_t d = new dnnl_memory_desc_t();
        int tag = dims.length == 1 ? dnnl_a : dims.length == 2 ? dnnl_ab : dnnl_abc;
        check(dnnl_memory_desc_init_by_tag(d, dims.length, dims, dnnl_f32, tag), "memory desc");
        return d;
    }

    /**
     * {@code y[n, c, i] = act(x[n, c, i] * scale[n, c] + shift[n, c])}, act = swish (x * sigmoid(x)) or identity,
     * for contiguous C-order {@code x, y [N, C, ...]} and {@code scale, shift [N, C]}.
     */
    public static void scaleShift(INDArray x, INDArray scale, INDArray shift, INDArray y, boolean swish) {
        long n = x.size(0), c = x.size(1), len = x.length() / (n * c);
        // one primitive over the whole batch: its N*C (sample, channel) pairs as the channels of one sample, the
        // per-channel broadcast oneDNN has a JIT kernel for (its [N, C, 1] broadcast runs a reference kernel, 10x
        // slower)
        long rows = n * c;
        Prim p = CACHE.get().computeIfAbsent("ss:" + rows + ":" + len + ":" + swish,
                k -> scaleShiftPrimitive(rows, len, swish));
        p.run(Gemm.address(x, 0), Gemm.address(scale, 0), Gemm.address(shift, 0), Gemm.address(y, 0));
    }

    private static Prim scaleShiftPrimitive(long c, long len, boolean swish) {
        dnnl_memory_desc_t data = md(1, c, len);
        dnnl_memory_desc_t perChannel = md(1, c, 1);
        dnnl_binary_desc_t bd = new dnnl_binary_desc_t();
        check(dnnl_binary_desc_init(bd, dnnl_binary_mul, data, perChannel, data), "binary desc");
        dnnl_post_ops po = new dnnl_post_ops();
        check(dnnl_post_ops_create(po), "post ops");
        check(dnnl_post_ops_append_binary(po, dnnl_binary_add, perChannel), "binary post-op");
        if (swish) {
            check(dnnl_post_ops_append_eltwise(po, 1f, dnnl_eltwise_swish, 1f, 0f), "swish post-op");
        }
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "attr");
        check(dnnl_primitive_attr_set_post_ops(attr, po), "set post ops");
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(bd), attr, ENGINE, null), "binary pd");
        Prim prim = new Prim(pd, new int[] {DNNL_ARG_SRC_0, DNNL_ARG_SRC_1,
                DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE | DNNL_ARG_SRC_1, DNNL_ARG_DST},
                new dnnl_memory_desc_t[] {data, perChannel, perChannel, data});
        dnnl_primitive_desc_destroy(pd);
        dnnl_primitive_attr_destroy(attr);
        dnnl_post_ops_destroy(po);
        return prim;
    }

    /**
     * Swish's backward in place: {@code g *= swish'(x)} for contiguous C-order float32 arrays of the same length
     * ({@code x} is swish's input).
     */
    public static void swishBackward(INDArray x, INDArray g) {
        long len = x.length();
        Prim p = CACHE.get().computeIfAbsent("swish-bwd:" + len, k -> {
            dnnl_memory_desc_t data = md(len);
            dnnl_eltwise_desc_t fd = new dnnl_eltwise_desc_t();
            check(dnnl_eltwise_forward_desc_init(fd, dnnl_forward_training, dnnl_eltwise_swish, data, 1f, 0f),
                    "eltwise desc");
            dnnl_eltwise_desc_t bd = new dnnl_eltwise_desc_t();
            check(dnnl_eltwise_backward_desc_init(bd, dnnl_eltwise_swish, data, data, 1f, 0f), "eltwise bwd desc");
            return backwardPrimitive(fd, bd, DNNL_ARG_SRC, data);
        });
        p.run(Gemm.address(x, 0), Gemm.address(g, 0), Gemm.address(g, 0));
    }

    /**
     * Softmax's backward over the last axis: {@code dx = y (g - sum(g y))} for contiguous C-order float32 arrays of
     * the same shape ({@code y} is the softmax's output), written into {@code dx}.
     */
    public static void softmaxBackward(INDArray y, INDArray g, INDArray dx) {
        long cols = y.size(y.rank() - 1), rows = y.length() / cols;
        Prim p = CACHE.get().computeIfAbsent("softmax-bwd:" + rows + ":" + cols, k -> {
            dnnl_memory_desc_t data = md(rows, cols);
            dnnl_softmax_desc_t fd = new dnnl_softmax_desc_t();
            check(dnnl_softmax_forward_desc_init(fd, dnnl_forward_training, data, 1), "softmax desc");
            dnnl_softmax_desc_t bd = new dnnl_softmax_desc_t();
            check(dnnl_softmax_backward_desc_init(bd, data, data, 1), "softmax bwd desc");
            return backwardPrimitive(fd, bd, DNNL_ARG_DST, data);
        });
        p.run(Gemm.address(y, 0), Gemm.address(g, 0), Gemm.address(dx, 0));
    }

    /**
     * A backward primitive made against its forward's descriptor (oneDNN requires it as a hint), taking
     * {@code forwardArg} (the forward's input or output it reads), the output gradient and the input gradient, all
     * laid out as {@code data}.
     */
    private static Prim backwardPrimitive(Pointer forwardDesc, Pointer backwardDesc, int forwardArg,
            dnnl_memory_desc_t data) {
        dnnl_primitive_desc hint = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(hint, new const_dnnl_op_desc_t(forwardDesc), null, ENGINE, null),
                "forward pd");
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(backwardDesc), null, ENGINE, hint),
                "backward pd");
        Prim prim = new Prim(pd, new int[] {forwardArg, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC},
                new dnnl_memory_desc_t[] {data, data, data});
        dnnl_primitive_desc_destroy(pd);
        dnnl_primitive_desc_destroy(hint);
        return prim;
    }

    /** {@code y = x * sigmoid(x)} for contiguous C-order arrays of the same length. */
    public static void swish(INDArray x, INDArray y) {
        long len = x.length();
        Prim p = CACHE.get().computeIfAbsent("swish:" + len, k -> {
            dnnl_memory_desc_t data = md(len);
            dnnl_eltwise_desc_t ed = new dnnl_eltwise_desc_t();
            check(dnnl_eltwise_forward_desc_init(ed, dnnl_forward_inference, dnnl_eltwise_swish, data, 1f, 0f),
                    "eltwise desc");
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(ed), null, ENGINE, null), "eltwise pd");
            Prim prim = new Prim(pd, new int[] {DNNL_ARG_SRC, DNNL_ARG_DST}, new dnnl_memory_desc_t[] {data, data});
            dnnl_primitive_desc_destroy(pd);
            return prim;
        });
        p.run(Gemm.address(x, 0), Gemm.address(y, 0));
    }
}
