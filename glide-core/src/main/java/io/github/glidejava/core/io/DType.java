package io.github.glidejava.core.io;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Element types of safetensors files and PyTorch storages, with their size in bytes and the ND4J data type an
 * array of that type is read into. Names are the safetensors dtype strings.
 */
public enum DType {
    F64(8, DataType.DOUBLE, true),
    F32(4, DataType.FLOAT, true),
    F16(2, DataType.HALF, true),
    BF16(2, DataType.BFLOAT16, true),
    I64(8, DataType.LONG, false),
    I32(4, DataType.INT, false),
    I16(2, DataType.SHORT, false),
    I8(1, DataType.BYTE, false),
    U64(8, DataType.UINT64, false),
    U32(4, DataType.UINT32, false),
    U16(2, DataType.UINT16, false),
    U8(1, DataType.UBYTE, false),
    /** One byte per element, 0 or 1. */
    BOOL(1, DataType.BOOL, false);

    private final int byteSize;
    private final DataType nd4j;
    private final boolean floatingPoint;

    DType(int byteSize, DataType nd4j, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.nd4j = nd4j;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The ND4J data type holding this type's values unchanged. */
    public DataType nd4jType() {
        return nd4j;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The safetensors dtype for a name such as {@code "F32"}, or null when the name is not supported. */
    public static DType fromSafeTensorsName(String name) {
        if (name == null) {
            return null;
        }
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** The dtype whose ND4J data type is {@code type}. */
    public static DType of(DataType type) {
        for (DType t : values()) {
            if (t.nd4j == type) {
                return t;
            }
        }
        throw new IllegalArgumentException("ND4J data type " + type + " has no safetensors equivalent; supported: "
                + supportedNames());
    }

    static String supportedNames() {
        StringBuilder sb = new StringBuilder();
        for (DType t : values()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(t.name());
        }
        return sb.toString();
    }
}
