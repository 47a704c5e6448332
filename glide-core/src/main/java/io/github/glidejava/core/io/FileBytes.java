package io.github.glidejava.core.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Random access to the bytes of a file of any size by positional reads, never by memory mapping: the pages of a
 * mapped multi-gigabyte checkpoint count in the process's resident memory on top of the loaded weights until the
 * mapping is collected, while reads through the page cache do not. {@link #slice} returns a copy of at most
 * {@link #maxSlice()} bytes on the Java heap; {@link #copyTo} reads straight into a caller's buffer (for tensor data
 * going to ND4J's off-heap memory). Thread-safe: positional reads do not move the channel.
 */
final class FileBytes implements ByteSource, AutoCloseable {
    /** 1 MiB: slices are heap copies, small enough to die young. */
    static final long DEFAULT_STEP = 1L << 20;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final long step;

    private FileBytes(Path path, FileChannel channel, long step) throws IOException {
        if (step < 8 || step % 8 != 0 || step > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("step " + step);
        }
        this.path = path;
        this.channel = channel;
        this.size = channel.size();
        this.step = step;
    }

    static FileBytes open(Path path) throws IOException {
        return open(path, DEFAULT_STEP);
    }

    /** {@code step} is configurable so tests can exercise the chunking on small files. */
    static FileBytes open(Path path, long step) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new FileBytes(path, ch, step);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    /** The largest region {@link #slice} returns in one piece. */
    @Override
    public long maxSlice() {
        return step;
    }

    /** A little-endian copy of {@code length <= maxSlice()} bytes at {@code offset}. */
    @Override
    public ByteBuffer slice(long offset, int length) {
        if (offset < 0 || length < 0 || length > step || offset + length > size) {
            throw new IndexOutOfBoundsException("region [" + offset + ", " + (offset + length) + ") of " + path
                    + " (" + size + " bytes, max slice " + step + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(length);
        copyTo(offset, b);
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Fills {@code dst}'s remaining bytes from {@code offset}, advancing its position (any length). */
    @Override
    public void copyTo(long offset, ByteBuffer dst) {
        if (offset < 0 || offset + dst.remaining() > size) {
            throw new IndexOutOfBoundsException("region [" + offset + ", " + (offset + dst.remaining()) + ") of "
                    + path + " (" + size + " bytes)");
        }
        try {
            for (long at = offset; dst.hasRemaining(); ) {
                int n = channel.read(dst, at);
                if (n < 0) {
                    throw new EOFException(path + " ended at " + at + " (" + size + " bytes when opened)");
                }
                at += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path + " at " + offset, e);
        }
    }

    /**
     * {@code length} bytes at {@code offset} as a little-endian buffer of any length (a heap copy). For bounded
     * metadata (zip headers, pickles), never for tensor data.
     */
    ByteBuffer read(long offset, int length) {
        if (length <= step) {
            return slice(offset, length);
        }
        byte[] b = new byte[length];
        get(offset, b);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Copies {@code dst.length} bytes at {@code offset} into {@code dst} (for small bounded regions like headers). */
    void get(long offset, byte[] dst) {
        copyTo(offset, ByteBuffer.wrap(dst));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
