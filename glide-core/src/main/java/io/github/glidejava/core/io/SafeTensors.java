package io.github.glidejava.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.GlideBackend;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reader of the safetensors format (8-byte little-endian header length N, N bytes of UTF-8 JSON, then the raw
 * little-endian C-contiguous tensor data): tensor bytes are read from the file straight into ND4J's off-heap
 * memory ({@link FileBytes}), never through the Java heap and never memory-mapped.
 *
 * <p>{@link #open} validates the whole header against the format's rules before anything is read: the header
 * length against the file size, the JSON, every dtype and shape, and that the data offsets tile the data section
 * exactly (contiguous, no overlap, no gap, nothing past the end). A violation raises
 * {@link SafeTensorsFormatException} naming the file, the tensor and what was expected.
 *
 * <p>An instance is safe for concurrent {@link #get} calls. Arrays returned stay valid after {@link #close}.
 */
public final class SafeTensors implements AutoCloseable {
    static {
        GlideBackend.init();
    }

    /** Same limit as the reference (Rust) implementation: a header above 100 MB is rejected as absurd. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;
    private final FileBytes bytes;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private record Entry(String name, TensorInfo info, long begin, long end) {
    }

    private SafeTensors(Path file, FileBytes bytes, long dataStart, Map<String, Entry> entries,
                        Map<String, String> metadata) {
        this.file = file;
        this.bytes = bytes;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Maps {@code file} and validates its header. */
    public static SafeTensors open(Path file) throws IOException {
        return open(file, FileBytes.DEFAULT_STEP);
    }

    static SafeTensors open(Path file, long chunk) throws IOException {
        FileBytes bytes = FileBytes.open(file, chunk);
        try {
            long size = bytes.size();
            if (size < 8) {
                throw new SafeTensorsFormatException(file, "file is " + size
                        + " bytes, shorter than the 8-byte header length prefix (truncated or not a safetensors file)");
            }
            long headerLen = bytes.slice(0, 8).getLong(0);
            if (headerLen < 0 || headerLen > size - 8) {
                throw new SafeTensorsFormatException(file, "header length " + Long.toUnsignedString(headerLen)
                        + " exceeds the " + (size - 8) + " bytes after the length prefix (truncated file or not a"
                        + " safetensors file)");
            }
            if (headerLen > MAX_HEADER_BYTES) {
                throw new SafeTensorsFormatException(file, "header length " + headerLen + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            if (headerLen < 2) {
                throw new SafeTensorsFormatException(file, "header length " + headerLen
                        + " is too short for a JSON object");
            }
            byte[] header = new byte[(int) headerLen];
            bytes.get(8, header);
            long dataStart = 8 + headerLen;
            ParsedHeader parsed = parseHeader(file, header, size - dataStart);
            return new SafeTensors(file, bytes, dataStart, parsed.entries, parsed.metadata);
        } catch (IOException | RuntimeException e) {
            bytes.close();
            throw e;
        }
    }

    private record ParsedHeader(Map<String, Entry> entries, Map<String, String> metadata) {
    }

    private static ParsedHeader parseHeader(Path file, byte[] header, long dataLen) throws SafeTensorsFormatException {
        if (header[0] != '{') {
            throw new SafeTensorsFormatException(file, "header does not start with '{' (first byte 0x"
                    + Integer.toHexString(header[0] & 0xff) + "): not a safetensors file");
        }
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JsonProcessingException e) {
            throw new SafeTensorsFormatException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new SafeTensorsFormatException(file, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsFormatException(file, "header is not a JSON object");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = Collections.emptyMap();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (METADATA_KEY.equals(name)) {
                metadata = parseMetadata(file, value);
            } else {
                entries.put(name, parseEntry(file, name, value));
            }
        }
        checkOffsets(file, entries, dataLen);
        return new ParsedHeader(Collections.unmodifiableMap(entries), metadata);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode value) throws SafeTensorsFormatException {
        if (!value.isObject()) {
            throw new SafeTensorsFormatException(file, METADATA_KEY + " must be a JSON object of strings, found "
                    + value.getNodeType());
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (!f.getValue().isTextual()) {
                throw new SafeTensorsFormatException(file, METADATA_KEY + " value of '" + f.getKey()
                        + "' must be a string, found " + f.getValue().getNodeType());
            }
            m.put(f.getKey(), f.getValue().textValue());
        }
        return Collections.unmodifiableMap(m);
    }

    private static Entry parseEntry(Path file, String name, JsonNode value) throws SafeTensorsFormatException {
        if (!value.isObject()) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "': expected an object with dtype, shape"
                    + " and data_offsets, found " + value.getNodeType());
        }
        JsonNode dtypeNode = value.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "': missing or non-string 'dtype'");
        }
        DType dtype = DType.fromSafeTensorsName(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "': unknown or unsupported dtype '"
                    + dtypeNode.textValue() + "' (supported: " + DType.supportedNames() + ")");
        }
        long[] shape = longArray(file, name, "shape", value.get("shape"), -1);
        for (long d : shape) {
            if (d < 0) {
                throw new SafeTensorsFormatException(file, "tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
        }
        long[] offsets = longArray(file, name, "data_offsets", value.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "': data_offsets " + Arrays.toString(offsets)
                    + " must satisfy 0 <= begin <= end");
        }
        TensorInfo info;
        long bytes;
        try {
            info = new TensorInfo(dtype, shape);
            bytes = info.byteSize();
        } catch (ArithmeticException e) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " has more elements than a 64-bit size can hold");
        }
        if (end - begin != bytes) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "': dtype " + dtype + " shape "
                    + Arrays.toString(shape) + " needs " + bytes + " bytes but data_offsets " + Arrays.toString(offsets)
                    + " span " + (end - begin));
        }
        return new Entry(name, info, begin, end);
    }

    private static long[] longArray(Path file, String tensor, String field, JsonNode node, int requiredLength)
            throws SafeTensorsFormatException {
        if (node == null || !node.isArray()) {
            throw new SafeTensorsFormatException(file, "tensor '" + tensor + "': missing or non-array '" + field + "'");
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw new SafeTensorsFormatException(file, "tensor '" + tensor + "': '" + field + "' must have "
                    + requiredLength + " elements, found " + node.size());
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode n = node.get(i);
            if (!n.isIntegralNumber() || !n.canConvertToLong()) {
                throw new SafeTensorsFormatException(file, "tensor '" + tensor + "': '" + field + "' element " + i
                        + " is not a 64-bit integer: " + n);
            }
            out[i] = n.longValue();
        }
        return out;
    }

    /** The data offsets must tile [0, dataLen) exactly, in some order. */
    private static void checkOffsets(Path file, Map<String, Entry> entries, long dataLen)
            throws SafeTensorsFormatException {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.end > dataLen) {
                throw new SafeTensorsFormatException(file, "tensor '" + e.name + "': data_offsets [" + e.begin + ", "
                        + e.end + "] reach past the end of the data section (" + dataLen + " bytes; truncated file?)");
            }
            if (e.begin < expected) {
                throw new SafeTensorsFormatException(file, "tensor '" + e.name + "': data_offsets [" + e.begin + ", "
                        + e.end + "] overlap tensor '" + previous.name + "' [" + previous.begin + ", " + previous.end
                        + "]");
            }
            if (e.begin > expected) {
                throw new SafeTensorsFormatException(file, "tensor '" + e.name + "': data_offsets [" + e.begin + ", "
                        + e.end + "] leave bytes [" + expected + ", " + e.begin + ") of the data section unused;"
                        + " offsets must be contiguous");
            }
            expected = e.end;
            previous = e;
        }
        if (expected != dataLen) {
            throw new SafeTensorsFormatException(file, "the tensors cover " + expected + " bytes but the data section"
                    + " holds " + dataLen + " bytes; offsets must cover it exactly");
        }
    }

    /** The file this reader maps. */
    public Path file() {
        return file;
    }

    /** Tensor names in header order ({@code __metadata__} excluded). */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The {@code __metadata__} map; empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** dtype and shape of {@code name}. */
    public TensorInfo info(String name) {
        return entry(name).info;
    }

    /**
     * A new C-order array of {@code name} in its natural ND4J type (F32 -> FLOAT, F16 -> HALF, BF16 -> BFLOAT16,
     * I64 -> LONG, I32 -> INT, U8 -> UBYTE, BOOL -> BOOL, ...), created outside any workspace.
     */
    public INDArray get(String name) {
        Entry e = entry(name);
        return TensorBytes.read(bytes, dataStart + e.begin, e.info.dtype(), e.info.shape(), false);
    }

    /** {@code name} as FLOAT: F32 unchanged, F16 and BF16 decoded exactly, F64 rounded to nearest. */
    public INDArray getFloat(String name) {
        Entry e = entry(name);
        if (!e.info.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + file + " has dtype " + e.info.dtype()
                    + "; getFloat converts floating-point tensors only (use get)");
        }
        return TensorBytes.read(bytes, dataStart + e.begin, e.info.dtype(), e.info.shape(), true);
    }

    /** Byte offset of {@code name}'s data within the file. */
    long fileOffset(String name) {
        return dataStart + entry(name).begin;
    }

    private Entry entry(String name) {
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + file + " (" + entries.size()
                    + " tensors)");
        }
        return e;
    }

    @Override
    public void close() {
        closed = true;
        try {
            bytes.close();
        } catch (IOException ignored) {
            // closing a read-only channel cannot lose data
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** {@link #write(Path, Map, Map)} without metadata. */
    public static void write(Path file, Map<String, ? extends INDArray> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes {@code tensors} in the map's iteration order (pass a LinkedHashMap to choose it) with their own data
     * types (see {@link DType}), C order, and {@code metadata} as {@code __metadata__} (omitted when empty). The
     * header is padded with spaces to a multiple of 8 bytes and the data offsets are contiguous in order.
     *
     * <p>Atomic: the file is written to a temporary file in the same directory, forced to disk and renamed over
     * {@code file}; readers never see a partial file, and a reader that has the old file open keeps its content.
     */
    public static void write(Path file, Map<String, ? extends INDArray> tensors, Map<String, String> metadata)
            throws IOException {
        TensorBytes.requireLittleEndianHost();
        if (tensors == null) {
            throw new IllegalArgumentException("tensors must not be null");
        }
        List<String> names = new ArrayList<>(tensors.size());
        List<INDArray> arrays = new ArrayList<>(tensors.size());
        List<TensorInfo> infos = new ArrayList<>(tensors.size());
        for (Map.Entry<String, ? extends INDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            INDArray a = e.getValue();
            if (name == null) {
                throw new IllegalArgumentException("tensor name must not be null");
            }
            if (METADATA_KEY.equals(name)) {
                throw new IllegalArgumentException("'" + METADATA_KEY + "' is reserved for metadata and cannot name a"
                        + " tensor");
            }
            if (a == null) {
                throw new IllegalArgumentException("tensor '" + name + "' is null");
            }
            DType dtype;
            try {
                dtype = DType.of(a.dataType());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("tensor '" + name + "': " + ex.getMessage(), ex);
            }
            names.add(name);
            arrays.add(a);
            infos.add(new TensorInfo(dtype, a.shape()));
        }
        byte[] header = headerBytes(names, infos, metadata == null ? Map.of() : metadata);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        // not Files.createTempFile: its owner-only permissions would carry over to the result; CREATE_NEW applies
        // the umask like any new file
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(System.nanoTime())
                + Integer.toHexString(ThreadLocalRandom.current().nextInt()) + ".tmp");
        FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
        boolean done = false;
        try {
            try (FileChannel ch = channel) {
                ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, prefix);
                writeFully(ch, ByteBuffer.wrap(header));
                for (int i = 0; i < arrays.size(); i++) {
                    writeTensor(ch, arrays.get(i), infos.get(i));
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static byte[] headerBytes(List<String> names, List<TensorInfo> infos, Map<String, String> metadata)
            throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(METADATA_KEY);
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    if (m.getKey() == null || m.getValue() == null) {
                        throw new IllegalArgumentException("metadata keys and values must not be null (key "
                                + m.getKey() + ")");
                    }
                    g.writeStringField(m.getKey(), m.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (int i = 0; i < names.size(); i++) {
                TensorInfo info = infos.get(i);
                long end = Math.addExact(offset, info.byteSize());
                g.writeObjectFieldStart(names.get(i));
                g.writeStringField("dtype", info.dtype().name());
                g.writeArrayFieldStart("shape");
                for (long d : info.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(end);
                g.writeEndArray();
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        }
        int padded = (out.size() + 7) & ~7;
        while (out.size() < padded) {
            out.write(' ');
        }
        return out.toByteArray();
    }

    private static void writeTensor(FileChannel ch, INDArray array, TensorInfo info) throws IOException {
        long bytes = info.byteSize();
        if (bytes == 0) {
            return;
        }
        INDArray a = TensorBytes.isDenseC(array) ? array : TensorBytes.denseCopy(array);
        long chunk = 1L << 30;
        for (long off = 0; off < bytes; off += chunk) {
            int n = (int) Math.min(chunk, bytes - off);
            writeFully(ch, TensorBytes.window(a, off, n));
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    @Override
    public String toString() {
        return "SafeTensors[" + file + ", " + entries.size() + " tensors]";
    }
}
