package io.github.glidejava.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.RestrictedUnpickler.Storage;
import io.github.glidejava.core.io.RestrictedUnpickler.TensorRef;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reader of PyTorch state dicts saved by {@code torch.save} (the zip format of torch >= 1.6), by positional reads
 * ({@link FileBytes}) and without running any Python semantics: {@code data.pkl} is read by a restricted unpickler that only accepts the
 * globals a state dict needs (anything else raises {@link UnsafePickleException}), and tensors are rebuilt from
 * their storage records ({@code data/<key>}) by offset, size and stride.
 *
 * <p>Records are located through the zip central directory (torch writes sizes only there and in data descriptors)
 * and read at the offset given by each local header's own name and extra-field lengths. Records are normally
 * STORED; DEFLATE-compressed records (an archive re-zipped by another tool) are inflated into off-heap memory.
 * CRC-32s are verified on first use unless stored as 0 (torch can be told to skip them).
 *
 * <p>Checks: every storage's byte length equals the element count declared in the pickle times the element size;
 * every tensor view lies inside its storage; storages shared by several tensors and non-contiguous strides are
 * supported (the result is always a new dense C-order array). A view of a shared storage is copied, not aliased.
 * A view with more elements than its storage (overlapping strides such as stride 0) is refused above
 * {@link #MAX_OVERLAPPING_VIEW_ELEMENTS} elements, so a tiny file cannot demand a huge allocation.
 *
 * <p>The top-level pickle object must be a dict (or OrderedDict) of string keys to tensors. Legacy (pre-1.6,
 * non-zip) checkpoints are rejected with a clear message.
 */
public final class TorchCheckpoint implements AutoCloseable {
    static {
        GlideBackend.init();
    }

    /** data.pkl is metadata only; a state dict of 100k tensors pickles to a few MB. */
    static final long MAX_PICKLE_BYTES = 256L << 20;

    /**
     * The most elements a view may have when it has more than its storage (overlapping strides, e.g. stride 0 from
     * {@code expand()}): such a view is read as a dense copy, so without a cap a file of a few bytes could make the
     * reader allocate gigabytes. 2^24 elements (64 MiB of float32) is far above any broadcast a state dict holds.
     */
    static final long MAX_OVERLAPPING_VIEW_ELEMENTS = 1L << 24;

    private final Path file;
    private final FileBytes bytes;
    private final ZipDirectory zip;
    private final String prefix;
    private final Map<String, TensorRef> tensors;
    private final Set<String> verified = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private TorchCheckpoint(Path file, FileBytes bytes, ZipDirectory zip, String prefix,
                            Map<String, TensorRef> tensors) {
        this.file = file;
        this.bytes = bytes;
        this.zip = zip;
        this.prefix = prefix;
        this.tensors = tensors;
    }

    public static TorchCheckpoint open(Path file) throws IOException {
        return open(file, FileBytes.DEFAULT_STEP);
    }

    static TorchCheckpoint open(Path file, long chunk) throws IOException {
        TensorBytes.requireLittleEndianHost();
        FileBytes bytes = FileBytes.open(file, chunk);
        try {
            if (bytes.size() >= 2) {
                ByteBuffer head = bytes.read(0, 2);
                if ((head.get(0) & 0xff) == 0x80 && head.get(1) >= 2 && head.get(1) <= 5) {
                    throw new TorchCheckpointFormatException(file, CheckpointFormat.LEGACY_MESSAGE);
                }
            }
            ZipDirectory zip = ZipDirectory.read(file, bytes);
            List<ZipDirectory.Entry> entries = zip.entries();
            if (entries.isEmpty()) {
                throw new TorchCheckpointFormatException(file, "empty zip archive: not a torch.save checkpoint");
            }
            String first = entries.get(0).name();
            int slash = first.indexOf('/');
            if (slash <= 0) {
                throw new TorchCheckpointFormatException(file, "zip entry '" + first + "' is not inside a top folder:"
                        + " not a torch.save checkpoint (expected <folder>/data.pkl)");
            }
            String prefix = first.substring(0, slash + 1);
            TorchCheckpoint ckpt = new TorchCheckpoint(file, bytes, zip, prefix, Map.of());
            ZipDirectory.Entry pkl = zip.get(prefix + "data.pkl");
            if (pkl == null) {
                throw new TorchCheckpointFormatException(file, "zip archive has no '" + prefix + "data.pkl' record:"
                        + " not a torch.save checkpoint (entries: " + summarize(entries) + ")");
            }
            ZipDirectory.Entry byteorder = zip.get(prefix + "byteorder");
            if (byteorder != null) {
                String order = new String(ckpt.smallRecord(byteorder, 64), StandardCharsets.US_ASCII).trim();
                if (!order.equals("little")) {
                    throw new TorchCheckpointFormatException(file, "record '" + byteorder.name() + "' says '" + order
                            + "'; only little-endian checkpoints are supported");
                }
            }
            byte[] pickle = ckpt.smallRecord(pkl, MAX_PICKLE_BYTES);
            RestrictedUnpickler unpickler = new RestrictedUnpickler(file, pkl.name(), pickle);
            Object root = unpickler.load();
            Map<String, TensorRef> tensors = ckpt.stateDict(root);
            ckpt.checkStorages(unpickler.storages(), tensors);
            return new TorchCheckpoint(file, bytes, zip, prefix, tensors);
        } catch (IOException | RuntimeException e) {
            bytes.close();
            throw e;
        }
    }

    private static String summarize(List<ZipDirectory.Entry> entries) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(5, entries.size()); i++) {
            sb.append(i == 0 ? "" : ", ").append(entries.get(i).name());
        }
        return entries.size() > 5 ? sb + ", ... " + entries.size() + " in all" : sb.toString();
    }

    private Map<String, TensorRef> stateDict(Object root) throws TorchCheckpointFormatException {
        if (!(root instanceof Map<?, ?> map)) {
            throw new TorchCheckpointFormatException(file, "data.pkl holds a " + RestrictedUnpickler.typeName(root)
                    + ", not a state dict (a dict of name -> tensor)");
        }
        Map<String, TensorRef> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new TorchCheckpointFormatException(file, "state dict key " + RestrictedUnpickler.typeName(
                        e.getKey()) + " is not a string");
            }
            if (!(e.getValue() instanceof TensorRef t)) {
                throw new TorchCheckpointFormatException(file, "state dict entry '" + key + "' is a "
                        + RestrictedUnpickler.typeName(e.getValue()) + ", not a tensor (only plain state dicts of"
                        + " tensors are read)");
            }
            out.put(key, t);
        }
        return Collections.unmodifiableMap(out);
    }

    /** Storage records exist with exactly the declared byte length; every view lies inside its storage. */
    private void checkStorages(Map<String, Storage> storages, Map<String, TensorRef> tensors)
            throws TorchCheckpointFormatException {
        for (Storage s : storages.values()) {
            ZipDirectory.Entry rec = zip.get(prefix + "data/" + s.key());
            if (rec == null) {
                throw new TorchCheckpointFormatException(file, "storage '" + s.key() + "' has no record '" + prefix
                        + "data/" + s.key() + "'");
            }
            long expected;
            try {
                expected = Math.multiplyExact(s.numel(), s.dtype().byteSize());
            } catch (ArithmeticException e) {
                expected = -1;
            }
            if (rec.size() != expected) {
                throw new TorchCheckpointFormatException(file, "storage '" + s.key() + "': the pickle declares "
                        + s.numel() + " " + s.dtype() + " elements (" + expected + " bytes) but record '" + rec.name()
                        + "' holds " + rec.size() + " bytes");
            }
        }
        for (Map.Entry<String, TensorRef> e : tensors.entrySet()) {
            TensorRef t = e.getValue();
            String name = e.getKey();
            if (t.size().length != t.stride().length) {
                throw new TorchCheckpointFormatException(file, "tensor '" + name + "': size " + Arrays.toString(
                        t.size()) + " and stride " + Arrays.toString(t.stride()) + " differ in rank");
            }
            try {
                long numel = 1;
                long last = t.offset();
                for (int i = 0; i < t.size().length; i++) {
                    if (t.size()[i] < 0 || t.stride()[i] < 0) {
                        throw new TorchCheckpointFormatException(file, "tensor '" + name + "': negative size or"
                                + " stride " + Arrays.toString(t.size()) + " / " + Arrays.toString(t.stride()));
                    }
                    numel = Math.multiplyExact(numel, t.size()[i]);
                    if (t.size()[i] > 0) {
                        last = Math.addExact(last, Math.multiplyExact(t.size()[i] - 1, t.stride()[i]));
                    }
                }
                long storageNumel = t.storage().numel();
                boolean inside = t.offset() >= 0 && (numel == 0 ? t.offset() <= storageNumel : last < storageNumel);
                if (!inside) {
                    throw new TorchCheckpointFormatException(file, "tensor '" + name + "': view (offset "
                            + t.offset() + ", size " + Arrays.toString(t.size()) + ", stride " + Arrays.toString(
                            t.stride()) + ") reaches element " + last + " outside storage '" + t.storage().key()
                            + "' of " + storageNumel + " elements");
                }
                if (numel > storageNumel && numel > MAX_OVERLAPPING_VIEW_ELEMENTS) {
                    throw new TorchCheckpointFormatException(file, "tensor '" + name + "': view (size "
                            + Arrays.toString(t.size()) + ", stride " + Arrays.toString(t.stride()) + ") has " + numel
                            + " elements but its storage '" + t.storage().key() + "' only " + storageNumel
                            + "; reading such an overlapping (e.g. stride-0, expanded) view makes a dense copy, and"
                            + " views of more than " + MAX_OVERLAPPING_VIEW_ELEMENTS + " elements that way are refused"
                            + " (re-save the tensor with .contiguous() or .clone())");
                }
            } catch (ArithmeticException ex) {
                throw new TorchCheckpointFormatException(file, "tensor '" + name + "': size/stride overflow 64 bits");
            }
        }
    }

    public Path file() {
        return file;
    }

    /** The archive's top folder, e.g. {@code "archive/"}. */
    public String archivePrefix() {
        return prefix;
    }

    /** State-dict keys in saved order. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** dtype (from the storage type) and shape of {@code name}. */
    public TensorInfo info(String name) {
        TensorRef t = tensor(name);
        return new TensorInfo(t.storage().dtype(), t.size());
    }

    /** A new dense C-order array of {@code name} in its natural ND4J type, outside any workspace. */
    public INDArray get(String name) {
        return read(name, false);
    }

    /** {@code name} as FLOAT: float16 and bfloat16 decoded exactly, float64 rounded; integer types are refused. */
    public INDArray getFloat(String name) {
        TensorRef t = tensor(name);
        if (!t.storage().dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + file + " has dtype " + t.storage().dtype()
                    + "; getFloat converts floating-point tensors only (use get)");
        }
        return read(name, true);
    }

    private INDArray read(String name, boolean toFloat) {
        TensorRef t = tensor(name);
        Storage s = t.storage();
        DType type = s.dtype();
        int es = type.byteSize();
        ZipDirectory.Entry rec = zip.get(prefix + "data/" + s.key());
        try {
            ByteSource src;
            long base;
            if (rec.method() == ZipDirectory.METHOD_STORED) {
                verifyCrc(rec);
                src = bytes;
                base = rec.dataOffset();
            } else {
                src = ByteSource.of(inflate(rec, Long.MAX_VALUE));
                base = 0;
            }
            if (isContiguous(t.size(), t.stride())) {
                return TensorBytes.read(src, base + t.offset() * es, type, t.size(), toFloat);
            }
            ByteBuffer dense = gather(src, base, t, es);
            return TensorBytes.read(ByteSource.of(dense), 0, type, t.size(), toFloat);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) {
                return size[i] == 0;
            }
            expected *= size[i];
        }
        return true;
    }

    /** Copies a strided view element by element (rows at once when the last stride is 1) into a dense buffer. */
    private ByteBuffer gather(ByteSource src, long base, TensorRef t, int es) throws TorchCheckpointFormatException {
        long[] size = t.size();
        long[] stride = t.stride();
        long numel = 1;
        for (long d : size) {
            numel *= d;
        }
        if (numel * es > Integer.MAX_VALUE) {
            throw new TorchCheckpointFormatException(file, "non-contiguous tensor of " + numel * es
                    + " bytes: views above 2 GiB are not supported");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) (numel * es)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (numel == 0) {
            return out;
        }
        int rank = size.length;
        boolean rowCopy = rank > 0 && stride[rank - 1] == 1;
        long rowLen = rowCopy ? size[rank - 1] : 1;
        int outer = rowCopy ? rank - 1 : rank;
        long[] idx = new long[outer];
        long maxRowBytes = src.maxSlice() / es * es;
        while (true) {
            long elem = t.offset();
            for (int i = 0; i < outer; i++) {
                elem += idx[i] * stride[i];
            }
            long bytes = rowLen * es;
            for (long done = 0; done < bytes; ) {
                int n = (int) Math.min(maxRowBytes, bytes - done);
                out.put(src.slice(base + elem * es + done, n));
                done += n;
            }
            int d = outer - 1;
            while (d >= 0 && ++idx[d] == size[d]) {
                idx[d] = 0;
                d--;
            }
            if (d < 0) {
                break;
            }
        }
        return out.flip();
    }

    private void verifyCrc(ZipDirectory.Entry rec) throws TorchCheckpointFormatException {
        if (rec.crc() == 0 || verified.contains(rec.name())) {
            return;
        }
        CRC32 crc = new CRC32();
        long chunk = bytes.maxSlice();
        for (long off = 0; off < rec.size(); off += chunk) {
            crc.update(bytes.slice(rec.dataOffset() + off, (int) Math.min(chunk, rec.size() - off)));
        }
        checkCrc(rec, crc.getValue());
        verified.add(rec.name());
    }

    private void checkCrc(ZipDirectory.Entry rec, long actual) throws TorchCheckpointFormatException {
        if (rec.crc() != 0 && actual != rec.crc()) {
            throw new TorchCheckpointFormatException(file, "record '" + rec.name() + "' fails its CRC-32 check"
                    + " (stored 0x" + Long.toHexString(rec.crc()) + ", computed 0x" + Long.toHexString(actual)
                    + "): the file is corrupted");
        }
    }

    /** A record of at most {@code limit} bytes onto the heap (data.pkl, byteorder). */
    private byte[] smallRecord(ZipDirectory.Entry rec, long limit) throws TorchCheckpointFormatException {
        if (rec.size() > limit) {
            throw new TorchCheckpointFormatException(file, "record '" + rec.name() + "' is " + rec.size()
                    + " bytes, above the limit of " + limit);
        }
        ByteBuffer b;
        if (rec.method() == ZipDirectory.METHOD_STORED) {
            verifyCrc(rec);
            b = bytes.read(rec.dataOffset(), (int) rec.size());
        } else {
            b = inflate(rec, limit);
        }
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    /** DEFLATE cannot expand data more than about 1032:1; a larger declared size is a lie (a zip bomb). */
    static final long MAX_DEFLATE_RATIO = 1032;

    /** Inflates a DEFLATE record into off-heap memory, checking size and CRC. */
    private ByteBuffer inflate(ZipDirectory.Entry rec, long limit) throws TorchCheckpointFormatException {
        if (rec.method() != ZipDirectory.METHOD_DEFLATED) {
            throw new TorchCheckpointFormatException(file, "record '" + rec.name() + "' uses zip compression method "
                    + rec.method() + "; only STORED (0) and DEFLATED (8) are supported");
        }
        if (rec.size() > Math.min(limit, Integer.MAX_VALUE - 8)) {
            throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name() + "' inflates to "
                    + rec.size() + " bytes; compressed records above 2 GiB are not supported (store it uncompressed)");
        }
        if (rec.size() > rec.compressedSize() * MAX_DEFLATE_RATIO + 64) {
            throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name() + "' declares "
                    + rec.size() + " bytes from " + rec.compressedSize() + " compressed bytes, more than DEFLATE can"
                    + " produce");
        }
        ByteBuffer out = ByteBuffer.allocateDirect((int) rec.size()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        Inflater inf = new Inflater(true);
        try {
            long chunk = bytes.maxSlice();
            long fed = 0;
            while (!inf.finished()) {
                if (inf.needsInput()) {
                    if (fed >= rec.compressedSize()) {
                        throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name()
                                + "' ends early (truncated or corrupted)");
                    }
                    int n = (int) Math.min(chunk, rec.compressedSize() - fed);
                    inf.setInput(bytes.slice(rec.dataOffset() + fed, n));
                    fed += n;
                }
                long readBefore = inf.getBytesRead();
                int written;
                if (out.hasRemaining()) {
                    written = inf.inflate(out);
                } else {
                    // the declared size is reached: the stream must end here
                    written = inf.inflate(ByteBuffer.allocate(1));
                    if (written > 0) {
                        throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name()
                                + "' inflates to more than its declared " + rec.size() + " bytes");
                    }
                }
                if (inf.needsDictionary()) {
                    throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name()
                            + "' needs a preset dictionary");
                }
                if (written == 0 && !inf.finished() && !inf.needsInput() && inf.getBytesRead() == readBefore) {
                    throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name()
                            + "' makes no progress (corrupted)");
                }
            }
        } catch (DataFormatException e) {
            throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name() + "' is corrupted: "
                    + e.getMessage(), e);
        } finally {
            inf.end();
        }
        if (out.position() != rec.size()) {
            throw new TorchCheckpointFormatException(file, "compressed record '" + rec.name() + "' inflates to "
                    + out.position() + " bytes, not its declared " + rec.size());
        }
        out.flip();
        CRC32 crc = new CRC32();
        crc.update(out.duplicate());
        checkCrc(rec, crc.getValue());
        return out;
    }

    private TensorRef tensor(String name) {
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        TensorRef t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + file + " (" + tensors.size()
                    + " tensors)");
        }
        return t;
    }

    @Override
    public void close() {
        closed = true;
        try {
            bytes.close();
        } catch (IOException ignored) {
            // read-only
        }
    }

    @Override
    public String toString() {
        return "TorchCheckpoint[" + file + ", " + tensors.size() + " tensors]";
    }
}
