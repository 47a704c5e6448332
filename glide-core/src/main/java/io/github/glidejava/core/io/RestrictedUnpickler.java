package io.github.glidejava.core.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle interpreter for PyTorch state dicts that can only build data: None, bools, ints, floats, strings,
 * bytes, tuples, lists, dicts, and the few torch globals a state dict needs, as inert Java values. Any other global
 * is refused with {@link UnsafePickleException} when the GLOBAL opcode names it, before anything else happens.
 * Nothing is looked up by name, called or instantiated reflectively.
 *
 * <p>Bounded: stack, memo and tuple nesting have caps, and every length read from the pickle is checked against
 * the bytes that remain before anything is allocated.
 */
final class RestrictedUnpickler {
    static final int MAX_STACK = 1 << 22;
    static final int MAX_MEMO = 1 << 22;
    static final int MAX_TUPLE_DEPTH = 64;
    static final int MAX_GLOBAL_NAME = 512;

    /** The globals a state dict may name; all else is refused. */
    enum Global {
        ORDERED_DICT("collections", "OrderedDict"),
        REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2"),
        REBUILD_TENSOR("torch._utils", "_rebuild_tensor"),
        REBUILD_PARAMETER("torch._utils", "_rebuild_parameter"),
        REBUILD_PARAMETER_WITH_STATE("torch._utils", "_rebuild_parameter_with_state"),
        FLOAT_STORAGE("torch", "FloatStorage", DType.F32),
        HALF_STORAGE("torch", "HalfStorage", DType.F16),
        BFLOAT16_STORAGE("torch", "BFloat16Storage", DType.BF16),
        DOUBLE_STORAGE("torch", "DoubleStorage", DType.F64),
        LONG_STORAGE("torch", "LongStorage", DType.I64),
        INT_STORAGE("torch", "IntStorage", DType.I32),
        SHORT_STORAGE("torch", "ShortStorage", DType.I16),
        CHAR_STORAGE("torch", "CharStorage", DType.I8),
        BYTE_STORAGE("torch", "ByteStorage", DType.U8),
        BOOL_STORAGE("torch", "BoolStorage", DType.BOOL);

        final String module;
        final String name;
        /** Element type of a storage class; null for functions. */
        final DType storageType;

        Global(String module, String name) {
            this(module, name, null);
        }

        Global(String module, String name, DType storageType) {
            this.module = module;
            this.name = name;
            this.storageType = storageType;
        }

        static Global find(String module, String name) {
            for (Global g : values()) {
                if (g.module.equals(module) && g.name.equals(name)) {
                    return g;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /**
     * A Python tuple: immutable, hashable when its items are. Hashability and the hash are worked out once, when the
     * tuple is made, from its items' own: a pickle can nest shared tuples (DUP, then TUPLE2, again and again), and
     * walking such a structure item by item would cost time exponential in its depth.
     */
    record Tuple(List<Object> items, int depth, boolean hashable, int hash) {
        Object get(int i) {
            return items.get(i);
        }

        int size() {
            return items.size();
        }

        @Override
        public boolean equals(Object o) {
            return this == o || o instanceof Tuple t && t.hash == hash && t.items.equals(items);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** A storage record referenced by persistent id {@code ('storage', type, key, location, numel)}. */
    record Storage(String key, DType dtype, long numel, String location) {
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, ...)}: a strided view of a storage. */
    record TensorRef(Storage storage, long offset, long[] size, long[] stride) {
    }

    private final Path file;
    private final String record;
    private final ByteBuffer in;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private final Map<String, Storage> storages = new LinkedHashMap<>();

    RestrictedUnpickler(Path file, String record, byte[] pickle) {
        this.file = file;
        this.record = record;
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Storages referenced by the pickle, by key, in first-reference order. */
    Map<String, Storage> storages() {
        return storages;
    }

    Object load() throws TorchCheckpointFormatException {
        while (true) {
            if (!in.hasRemaining()) {
                throw error("ends without a STOP opcode (truncated)");
            }
            int pos = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v < 2 || v > 5) {
                        throw error("unsupported pickle protocol " + v + " (2..5 are read)");
                    }
                }
                case 0x95 -> { // FRAME: a length hint only
                    long n = in.getLong(need(8));
                    if (n < 0 || n > in.remaining()) {
                        throw error("FRAME of " + n + " bytes exceeds the " + in.remaining() + " bytes left");
                    }
                }
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw error("STOP with " + stack.size() + " values on the stack and " + marks.size()
                                + " open marks (expected exactly one value)");
                    }
                    return stack.get(0);
                }
                case '(' -> marks.add(stack.size()); // MARK
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in.getInt(need(4))); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (in.getShort(need(2)) & 0xffff)); // BININT2
                case 0x8a -> push(readLong(u8())); // LONG1
                case 0x8b -> push(readLong(length(in.getInt(need(4)) & 0xffffffffL))); // LONG4
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong(need(8))))); // BINFLOAT (big-endian)
                case 'X' -> push(utf8(length(in.getInt(need(4)) & 0xffffffffL))); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(length(in.getLong(need(8))))); // BINUNICODE8
                case 'T' -> push(latin1(length(in.getInt(need(4)) & 0xffffffffL))); // BINSTRING
                case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
                case 'B' -> push(bytes(length(in.getInt(need(4)) & 0xffffffffL))); // BINBYTES
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x8e -> push(bytes(length(in.getLong(need(8))))); // BINBYTES8
                case ')' -> push(tuple(List.of())); // EMPTY_TUPLE
                case 0x85 -> push(tuple(Collections.singletonList(pop()))); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = pop();
                    Object a = pop();
                    push(tuple(Arrays.asList(a, b)));
                }
                case 0x87 -> { // TUPLE3
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    push(tuple(Arrays.asList(a, b, c)));
                }
                case 't' -> push(tuple(popMark())); // TUPLE
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'a' -> { // APPEND
                    Object v = pop();
                    list(peek(), "APPEND").add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(peek(), "APPENDS").addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 'd' -> { // DICT
                    List<Object> items = popMark();
                    Map<Object, Object> d = new LinkedHashMap<>();
                    putAll(d, items, "DICT");
                    push(d);
                }
                case 's' -> { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    putAll(dict(peek(), "SETITEM"), Arrays.asList(k, v), "SETITEM");
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putAll(dict(peek(), "SETITEMS"), items, "SETITEMS");
                }
                case 'c' -> { // GLOBAL
                    String module = line();
                    String name = line();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two strings, found " + typeName(module) + " and "
                                + typeName(name));
                    }
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(call(callable, args, "REDUCE"));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args), only OrderedDict
                    Object args = pop();
                    Object cls = pop();
                    if (cls != Global.ORDERED_DICT) {
                        throw error("NEWOBJ of " + typeName(cls) + " is not supported");
                    }
                    push(call(cls, args, "NEWOBJ"));
                }
                case 'b' -> { // BUILD: only the _metadata attribute torch sets on a state dict, ignored
                    Object state = pop();
                    Object target = peek();
                    if (!(target instanceof Map) || !(state == null || state instanceof Map || state instanceof Tuple)) {
                        throw error("BUILD of " + typeName(target) + " with " + typeName(state) + " is not supported");
                    }
                }
                case 'Q' -> push(persistent(pop())); // BINPERSID
                case 'q' -> memoPut(u8()); // BINPUT
                case 'r' -> memoPut(in.getInt(need(4)) & 0xffffffffL); // LONG_BINPUT
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'h' -> push(memoGet(u8())); // BINGET
                case 'j' -> push(memoGet(in.getInt(need(4)) & 0xffffffffL)); // LONG_BINGET
                default -> throw error("unsupported pickle opcode 0x" + Integer.toHexString(op) + " at byte " + pos
                        + " (a PyTorch state dict does not need it)");
            }
        }
    }

    // ------------------------------------------------------------------------------------------ semantics

    private Object global(String module, String name) throws TorchCheckpointFormatException {
        Global g = Global.find(module, name);
        if (g == null) {
            String qualified = module + "." + name;
            throw new UnsafePickleException(file, qualified, "record '" + record + "' names the global '" + qualified
                    + "', which is not allowed in a checkpoint (only collections.OrderedDict, torch._utils"
                    + "._rebuild_tensor[_v2], torch._utils._rebuild_parameter and torch.*Storage are); refusing"
                    + " to load it");
        }
        return g;
    }

    private Object call(Object callable, Object argsObj, String op) throws TorchCheckpointFormatException {
        if (!(callable instanceof Global g)) {
            throw error(op + " calls a " + typeName(callable) + ", not an allowed global");
        }
        if (!(argsObj instanceof Tuple t)) {
            throw error(op + " of " + g + " needs an argument tuple, found " + typeName(argsObj));
        }
        List<Object> args = t.items();
        switch (g) {
            case ORDERED_DICT -> {
                Map<Object, Object> d = new LinkedHashMap<>();
                if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                    for (Object p : pairs) {
                        if (!(p instanceof Tuple kv) || kv.size() != 2) {
                            throw error("OrderedDict(...) needs (key, value) pairs, found " + typeName(p));
                        }
                        putAll(d, kv.items(), "OrderedDict");
                    }
                } else if (!args.isEmpty()) {
                    throw error("OrderedDict(...) with " + args.size() + " arguments is not supported");
                }
                return d;
            }
            case REBUILD_TENSOR_V2, REBUILD_TENSOR -> {
                int min = g == Global.REBUILD_TENSOR ? 4 : 6;
                if (args.size() < min || args.size() > 7) {
                    throw error(g + " takes " + min + ".." + "7 arguments, found " + args.size());
                }
                if (!(args.get(0) instanceof Storage s)) {
                    throw error(g + " argument 0 must be a storage, found " + typeName(args.get(0)));
                }
                long offset = integer(args.get(1), g + " storage_offset");
                long[] size = longs(args.get(2), g + " size");
                long[] stride = longs(args.get(3), g + " stride");
                return new TensorRef(s, offset, size, stride);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                if (args.size() < 3 || !(args.get(0) instanceof TensorRef data)) {
                    throw error(g + " needs (tensor, requires_grad, backward_hooks[, state]), found "
                            + args.size() + " arguments");
                }
                return data;
            }
            default -> throw error(g + " cannot be called");
        }
    }

    private Storage persistent(Object pid) throws TorchCheckpointFormatException {
        if (!(pid instanceof Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw error("persistent id must be ('storage', type, key, location, numel), found " + typeName(pid)
                    + (pid instanceof Tuple t2 ? " of " + t2.size() + " items" : ""));
        }
        if (!(t.get(1) instanceof Global g) || g.storageType == null) {
            throw error("persistent id names " + typeName(t.get(1)) + ", not a torch storage type");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)) {
            throw error("persistent id key and location must be strings");
        }
        long numel = integer(t.get(4), "storage '" + key + "' numel");
        if (numel < 0) {
            throw error("storage '" + key + "' has negative size " + numel);
        }
        Storage s = new Storage(key, g.storageType, numel, location);
        Storage previous = storages.putIfAbsent(key, s);
        if (previous != null) {
            if (previous.dtype() != s.dtype() || previous.numel() != s.numel()) {
                throw error("storage '" + key + "' is referenced as " + previous.dtype() + "[" + previous.numel()
                        + "] and as " + s.dtype() + "[" + s.numel() + "]");
            }
            return previous;
        }
        return s;
    }

    private void putAll(Map<Object, Object> d, List<Object> items, String op) throws TorchCheckpointFormatException {
        if (items.size() % 2 != 0) {
            throw error(op + " needs key/value pairs, found " + items.size() + " items");
        }
        for (int i = 0; i < items.size(); i += 2) {
            Object k = items.get(i);
            if (!hashable(k)) {
                throw error(op + " uses an unhashable " + typeName(k) + " as a dict key");
            }
            d.put(k, items.get(i + 1));
        }
    }

    private static boolean hashable(Object k) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double
                || k instanceof Global) {
            return true;
        }
        if (k instanceof Tuple t) {
            return t.hashable();
        }
        return false;
    }

    private Tuple tuple(List<Object> items) throws TorchCheckpointFormatException {
        int depth = 1;
        for (Object o : items) {
            if (o instanceof Tuple t) {
                depth = Math.max(depth, t.depth() + 1);
            }
        }
        if (depth > MAX_TUPLE_DEPTH) {
            throw error("tuples nested deeper than " + MAX_TUPLE_DEPTH);
        }
        boolean hashable = true;
        for (Object o : items) {
            hashable &= hashable(o);
        }
        // not List.copyOf: tuples may hold None (null). The hash is List.hashCode's over the items' own (cached for
        // tuples), and only for a hashable tuple: a list may hold itself (APPEND of a DUP), and hashing it would
        // never end; an unhashable tuple is never a dict key, so it needs no hash
        List<Object> copy = Collections.unmodifiableList(new ArrayList<>(items));
        return new Tuple(copy, depth, hashable, hashable ? copy.hashCode() : 0);
    }

    private long integer(Object o, String what) throws TorchCheckpointFormatException {
        if (o instanceof Long l) {
            return l;
        }
        throw error(what + " must be an int, found " + typeName(o));
    }

    private long[] longs(Object o, String what) throws TorchCheckpointFormatException {
        if (!(o instanceof Tuple t)) {
            throw error(what + " must be a tuple of ints, found " + typeName(o));
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(t.get(i), what + "[" + i + "]");
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, String op) throws TorchCheckpointFormatException {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw error(op + " on a " + typeName(o) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, String op) throws TorchCheckpointFormatException {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error(op + " on a " + typeName(o) + ", not a dict");
    }

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Global g) {
            return g.toString();
        }
        if (o instanceof Long) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof List) {
            return "list";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof Storage) {
            return "storage";
        }
        if (o instanceof TensorRef) {
            return "tensor";
        }
        return o.getClass().getSimpleName();
    }

    // ------------------------------------------------------------------------------------------ machinery

    private void push(Object o) throws TorchCheckpointFormatException {
        if (stack.size() >= MAX_STACK) {
            throw error("stack exceeds " + MAX_STACK + " entries");
        }
        stack.add(o);
    }

    private Object pop() throws TorchCheckpointFormatException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw error("stack underflow at byte " + (in.position() - 1));
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws TorchCheckpointFormatException {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw error("stack underflow at byte " + (in.position() - 1));
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws TorchCheckpointFormatException {
        if (marks.isEmpty()) {
            throw error("no MARK on the stack at byte " + (in.position() - 1));
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private void memoPut(long index) throws TorchCheckpointFormatException {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw error("memo exceeds " + MAX_MEMO + " entries");
        }
        memo.put(index, peek());
    }

    private Object memoGet(long index) throws TorchCheckpointFormatException {
        if (!memo.containsKey(index)) {
            throw error("memo index " + index + " is read before it is written");
        }
        return memo.get(index);
    }

    /** Position of {@code n} bytes to read with an absolute get; advances past them. */
    private int need(int n) throws TorchCheckpointFormatException {
        if (in.remaining() < n) {
            throw error("truncated: opcode at byte " + (in.position() - 1) + " needs " + n + " more bytes");
        }
        int p = in.position();
        in.position(p + n);
        return p;
    }

    private int u8() throws TorchCheckpointFormatException {
        return in.get(need(1)) & 0xff;
    }

    /** A length read from the pickle, checked against the bytes that remain before anything is allocated. */
    private int length(long n) throws TorchCheckpointFormatException {
        if (n < 0 || n > in.remaining()) {
            throw error("length " + n + " at byte " + in.position() + " exceeds the " + in.remaining()
                    + " bytes that remain");
        }
        return (int) n;
    }

    private byte[] bytes(int n) throws TorchCheckpointFormatException {
        byte[] b = new byte[length(n)];
        in.get(b);
        return b;
    }

    private String utf8(int n) throws TorchCheckpointFormatException {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String latin1(int n) throws TorchCheckpointFormatException {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    /** Two's-complement little-endian integer of {@code n} bytes (LONG1/LONG4); must fit in 64 bits. */
    private Long readLong(int n) throws TorchCheckpointFormatException {
        byte[] b = bytes(n);
        if (n == 0) {
            return 0L;
        }
        // bytes beyond the 8th must be pure sign extension
        for (int i = 8; i < n; i++) {
            int ext = b[Math.min(7, n - 1)] < 0 ? 0xff : 0;
            if ((b[i] & 0xff) != ext) {
                throw error("integer of " + n + " bytes does not fit in 64 bits");
            }
        }
        long v = b[Math.min(n, 8) - 1] < 0 ? -1L : 0L;
        for (int i = Math.min(n, 8) - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    private String line() throws TorchCheckpointFormatException {
        int start = in.position();
        int limit = Math.min(in.limit(), start + MAX_GLOBAL_NAME + 1);
        for (int p = start; p < limit; p++) {
            if (in.get(p) == '\n') {
                byte[] b = new byte[p - start];
                in.get(b);
                in.get();
                return new String(b, StandardCharsets.UTF_8);
            }
        }
        throw error("GLOBAL name at byte " + start + " is unterminated or longer than " + MAX_GLOBAL_NAME + " bytes");
    }

    private TorchCheckpointFormatException error(String message) {
        return new TorchCheckpointFormatException(file, "record '" + record + "': invalid or unsupported pickle: "
                + message);
    }
}
