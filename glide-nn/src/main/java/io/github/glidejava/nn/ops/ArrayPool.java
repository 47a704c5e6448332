package io.github.glidejava.nn.ops;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reuses the memory of arrays that are no longer needed. In ND4J 1.0.0-M2.1 on glibc, {@code INDArray.close()} hands
 * a buffer back to malloc, but a new array of the same size rarely gets it again: the small allocations ND4J makes in
 * between split the freed block. So each new array is fresh memory, faulted in page by page and zeroed (about 2 ms
 * for 4 MiB on a Zen 4 core), and the process grows: 200 arrays of 4 MiB made and closed one after the other added
 * 800 MiB of resident memory (measured on this project's machine). The training tape frees gigabytes of activations
 * and gradients per step, so it hands them here ({@link #recycle}) and its kernels take their outputs from here
 * ({@link #uninitialized}): an array of the same type and length reuses a buffer that was given back.
 *
 * <p>One pool per thread (a tape is used by one thread), holding at most {@code glide.arrayPool.maxBytes} bytes
 * (system property, default 4 GiB) and trimmed by {@link #trim()} to what was in use at once; {@link #clear()} lets
 * the garbage collector have them all. Inside an ND4J workspace nothing is taken from the pool: arrays made there
 * belong to the workspace.
 */
public final class ArrayPool {
    private static final long MAX_BYTES = Long.getLong("glide.arrayPool.maxBytes", 4L << 30);
    private static final ThreadLocal<Pool> POOL = ThreadLocal.withInitial(Pool::new);

    private static final class Pool {
        final Map<Long, Size> sizes = new HashMap<>();
        long bytes;
    }

    /** The buffers of one (type, length) given back, most recent last (warm in cache), and the demand for them. */
    private static final class Size {
        final ArrayDeque<DataBuffer> free = new ArrayDeque<>();
        /** Arrays of this size handed out and not yet given back (at least 0: ND4J's own arrays come back too). */
        int live;
        /** The most {@link #live} since the last {@link #trim()}: how many buffers of this size a unit of work needs. */
        int peak;
    }

    private ArrayPool() {
    }

    private static long key(DataType type, long length) {
        return length * 64 + type.ordinal();
    }

    /**
     * A C-order array of {@code shape} with unspecified contents: a buffer given back on this thread if one of the
     * same type and length is there, else a new array (in the current workspace, if one is active).
     */
    public static INDArray uninitialized(DataType type, long... shape) {
        if (Nd4j.getMemoryManager().getCurrentWorkspace() == null) {
            Pool p = POOL.get();
            Size size = p.sizes.computeIfAbsent(key(type, Shapes.length(shape)), k -> new Size());
            size.peak = Math.max(size.peak, ++size.live);
            DataBuffer b = size.free.pollLast();
            if (b != null) {
                p.bytes -= b.length() * type.width();
                return Nd4j.create(b, shape, Nd4j.getStrides(shape, 'c'), 0, 'c');
            }
        }
        return Nd4j.createUninitialized(type, shape);
    }

    /** {@link #uninitialized} filled with zeros. */
    public static INDArray zeros(DataType type, long... shape) {
        return uninitialized(type, shape).assign(0);
    }

    /**
     * Gives {@code a}'s buffer to this thread's pool: the caller must not use {@code a}, nor any view of it, again.
     * False, with nothing kept, when {@code a} does not own its whole buffer (a view, an array in a workspace, a
     * closed array) or the pool is full; the caller then closes it as usual.
     */
    public static boolean recycle(INDArray a) {
        if (a == null || a.wasClosed() || a.isAttached() || a.offset() != 0) {
            return false;
        }
        DataBuffer b = a.data();
        if (b.length() != a.length() || b.originalDataBuffer() != null || b.isConstant()) {
            return false;
        }
        long bytes = b.length() * b.dataType().width();
        Pool p = POOL.get();
        if (p.bytes + bytes > MAX_BYTES) {
            return false;
        }
        Size size = p.sizes.computeIfAbsent(key(b.dataType(), b.length()), k -> new Size());
        size.free.addLast(b);
        size.live = Math.max(0, size.live - 1);
        p.bytes += bytes;
        return true;
    }

    /** Bytes held by this thread's pool. */
    public static long bytes() {
        return POOL.get().bytes;
    }

    /**
     * Keeps, of each size, only as many buffers as were in use at once since the last trim and drops the rest (the
     * garbage collector frees them). Called once per repeated unit of work (a training step), it bounds the pool by
     * what one unit holds at its peak: the arrays ND4J's ops make inside themselves come back too, and would
     * otherwise pile up.
     */
    public static void trim() {
        Pool p = POOL.get();
        long dropped = 0;
        for (Size size : p.sizes.values()) {
            while (size.free.size() > size.peak) {
                DataBuffer b = size.free.pollFirst();
                dropped += b.length() * b.dataType().width();
            }
            // a unit of work ends with (almost) nothing of it in use; arrays never given back (the unit's result,
            // arrays closed elsewhere) must not count as in use forever
            size.peak = 0;
            size.live = 0;
        }
        p.sizes.values().removeIf(size -> size.free.isEmpty());
        p.bytes -= dropped;
    }

    /** Drops this thread's pooled buffers (the garbage collector frees them). */
    public static void clear() {
        Pool p = POOL.get();
        p.sizes.clear();
        p.bytes = 0;
    }
}
