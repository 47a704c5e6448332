package io.github.glidejava.core.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Moves raw little-endian tensor bytes between byte sources (files, inflated records) and ND4J's off-heap array memory,
 * in bounded chunks, without staging them on the Java heap; decodes float16 / bfloat16 / float64 to float32.
 */
final class TensorBytes {
    /** Elements per chunk are bounded so that a chunk of the widest type stays under the source's slice limit. */
    private static final int MAX_ELEMENT_BYTES = 8;

    private TensorBytes() {
    }

    static void requireLittleEndianHost() {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("tensor I/O needs a little-endian host (ND4J's native builds are"
                    + " little-endian); this host is " + ByteOrder.nativeOrder());
        }
    }

    /**
     * A new C-order array outside any active workspace (loaded weights outlive workspace scopes). Uninitialised:
     * every caller overwrites all of it.
     */
    static INDArray newArray(DataType type, long[] shape) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.createUninitialized(type, shape, 'c');
        }
    }

    /**
     * A little-endian view of {@code length} bytes of {@code array}'s memory starting {@code byteOffset} bytes after
     * its first element. The array must be contiguous in C order with offset 0 (freshly created, or a dup).
     */
    static ByteBuffer window(INDArray array, long byteOffset, int length) {
        Pointer base = array.data().addressPointer();
        BytePointer bytes = new BytePointer(base);
        bytes.position(byteOffset).limit(byteOffset + length);
        return bytes.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** True when {@code a}'s elements lie at offset 0 of its buffer in dense C order (no copy needed to write it). */
    static boolean isDenseC(INDArray a) {
        if (a.isEmpty()) {
            return true;
        }
        if (a.offset() != 0 || a.data().length() < a.length()) {
            return false;
        }
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** A dense C-order copy outside any workspace. */
    static INDArray denseCopy(INDArray a) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return a.dup('c');
        }
    }

    /**
     * Reads {@code numel} elements of type {@code type} from {@code src} at {@code offset} into a new C-order array
     * of {@code shape}: type's natural ND4J type, or FLOAT when {@code toFloat} (type must be floating point).
     */
    static INDArray read(ByteSource src, long offset, DType type, long[] shape, boolean toFloat) {
        requireLittleEndianHost();
        DataType target = toFloat ? DataType.FLOAT : type.nd4jType();
        if (toFloat && !type.isFloatingPoint()) {
            throw new IllegalArgumentException("cannot convert " + type + " to float32");
        }
        INDArray dst = newArray(target, shape);
        long numel = dst.length();
        if (numel == 0) {
            return dst;
        }
        long chunkElems = Math.max(1, Math.min(src.maxSlice(), Integer.MAX_VALUE) / MAX_ELEMENT_BYTES);
        int es = type.byteSize();
        int ds = target.width();
        for (long e = 0; e < numel; e += chunkElems) {
            int n = (int) Math.min(chunkElems, numel - e);
            ByteBuffer out = window(dst, e * ds, n * ds);
            if (target == type.nd4jType()) {
                src.copyTo(offset + e * es, out);
            } else {
                convertToFloat(type, src.slice(offset + e * es, n * es), out.asFloatBuffer(), n);
            }
        }
        return dst;
    }

    private static void convertToFloat(DType type, ByteBuffer in, FloatBuffer out, int n) {
        switch (type) {
            case F16 -> {
                ShortBuffer s = in.asShortBuffer();
                float[] table = HalfTable.TABLE;
                for (int i = 0; i < n; i++) {
                    out.put(i, table[s.get(i) & 0xffff]);
                }
            }
            case BF16 -> {
                ShortBuffer s = in.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    out.put(i, bfloat16ToFloat(s.get(i)));
                }
            }
            case F64 -> {
                DoubleBuffer d = in.asDoubleBuffer();
                for (int i = 0; i < n; i++) {
                    out.put(i, (float) d.get(i));
                }
            }
            case F32 -> out.put(in.asFloatBuffer());
            default -> throw new IllegalArgumentException("cannot convert " + type + " to float32");
        }
    }

    /** Exact IEEE 754 binary16 to binary32 (every half is representable), subnormals, infinities and NaN payloads. */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            // zero or subnormal: mant * 2^-24 is exact in float32
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** bfloat16 is the upper half of a float32. */
    static float bfloat16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }

    private static final class HalfTable {
        static final float[] TABLE = new float[1 << 16];

        static {
            for (int i = 0; i < TABLE.length; i++) {
                TABLE[i] = halfToFloat((short) i);
            }
        }
    }
}
