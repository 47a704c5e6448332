package io.github.glidejava.core.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes byte by byte, to build test pickles (valid and hostile) without Python. */
final class PickleBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBuilder op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleBuilder raw(byte... bytes) {
        out.writeBytes(bytes);
        return this;
    }

    PickleBuilder proto(int v) {
        return op(0x80).op(v);
    }

    PickleBuilder global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    PickleBuilder stackGlobal(String module, String name) {
        return shortStr(module).shortStr(name).op(0x93);
    }

    PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        out.writeBytes(le32(b.length));
        out.writeBytes(b);
        return this;
    }

    PickleBuilder shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c).op(b.length);
        out.writeBytes(b);
        return this;
    }

    /** The shortest int opcode for {@code v}, as Python's pickler chooses it. */
    PickleBuilder integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').op((int) v);
        }
        if (v >= 0 && v < 65536) {
            return op('M').op((int) (v & 0xff)).op((int) (v >>> 8));
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            out.writeBytes(le32((int) v));
            return this;
        }
        op(0x8a).op(8);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        return this;
    }

    PickleBuilder mark() {
        return op('(');
    }

    PickleBuilder tuple() {
        return op('t');
    }

    PickleBuilder emptyTuple() {
        return op(')');
    }

    PickleBuilder ints(long... values) {
        mark();
        for (long v : values) {
            integer(v);
        }
        return tuple();
    }

    PickleBuilder put(int memo) {
        return op('q').op(memo);
    }

    PickleBuilder get(int memo) {
        return op('h').op(memo);
    }

    PickleBuilder reduce() {
        return op('R');
    }

    PickleBuilder stop() {
        return op('.');
    }

    PickleBuilder orderedDict() {
        return global("collections", "OrderedDict").emptyTuple().reduce();
    }

    /** {@code ('storage', torch.<type>, key, 'cpu', numel)} BINPERSID. */
    PickleBuilder storage(String storageType, String key, long numel) {
        return mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).tuple().op('Q');
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}. */
    PickleBuilder tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        storage(storageType, key, numel).integer(offset).ints(size).ints(stride).op(0x89).orderedDict();
        return tuple().reduce();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
