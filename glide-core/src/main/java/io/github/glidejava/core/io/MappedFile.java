package io.github.glidejava.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A read-only memory mapping of a whole file of any size. A MappedByteBuffer holds at most 2 GiB, so the file is
 * mapped as overlapping windows: window k starts at {@code k * step} and spans {@code 2 * step} bytes, so every
 * region of at most {@code step} bytes lies inside one window and is returned as a slice without copying.
 * Nothing is read onto the Java heap; pages are loaded by the OS on access.
 */
final class MappedFile implements ByteSource, AutoCloseable {
    /** 512 MiB: windows of 1 GiB, well under the 2 GiB limit of a MappedByteBuffer. */
    static final long DEFAULT_STEP = 1L << 29;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final long step;
    private final MappedByteBuffer[] windows;

    private MappedFile(Path path, FileChannel channel, long step) throws IOException {
        if (step < 8 || step % 8 != 0 || 2 * step > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("step " + step);
        }
        this.path = path;
        this.channel = channel;
        this.size = channel.size();
        this.step = step;
        long count = (size + step - 1) / step;
        this.windows = new MappedByteBuffer[(int) count];
        for (int k = 0; k < count; k++) {
            long start = k * step;
            windows[k] = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(2 * step, size - start));
        }
    }

    static MappedFile open(Path path) throws IOException {
        return open(path, DEFAULT_STEP);
    }

    /** {@code step} is configurable so tests can exercise the windowing on small files. */
    static MappedFile open(Path path, long step) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new MappedFile(path, ch, step);
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

    /**
     * A little-endian read-only view of {@code length} bytes at {@code offset}; {@code length <= maxSlice()}.
     * Thread-safe: the shared windows are never repositioned.
     */
    @Override
    public ByteBuffer slice(long offset, int length) {
        if (offset < 0 || length < 0 || length > step || offset + length > size) {
            throw new IndexOutOfBoundsException("region [" + offset + ", " + (offset + length) + ") of " + path
                    + " (" + size + " bytes, max slice " + step + ")");
        }
        if (length == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        int k = (int) (offset / step);
        return windows[k].slice((int) (offset - k * step), length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * {@code length} bytes at {@code offset} as a little-endian buffer: a slice when it fits in one window, else a
     * heap copy. For bounded metadata (zip headers, pickles), never for tensor data.
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
        for (int done = 0; done < dst.length; ) {
            int n = (int) Math.min(step, dst.length - done);
            slice(offset + done, n).get(dst, done, n);
            done += n;
        }
    }

    @Override
    public void close() throws IOException {
        // The JDK unmaps the windows when they become unreachable; Java 17 has no supported explicit unmap.
        channel.close();
    }
}
