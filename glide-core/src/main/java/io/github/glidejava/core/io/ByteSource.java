package io.github.glidejava.core.io;

import java.nio.ByteBuffer;

/** Random access to little-endian bytes (a file, or an inflated record) in slices of bounded length. */
interface ByteSource {
    long size();

    /** The largest length {@link #slice} accepts; a multiple of 8. */
    long maxSlice();

    /** A little-endian buffer of {@code length <= maxSlice()} bytes at {@code offset} (a view or a copy). */
    ByteBuffer slice(long offset, int length);

    /** Fills {@code dst}'s remaining bytes from {@code offset}, advancing its position (any length). */
    default void copyTo(long offset, ByteBuffer dst) {
        while (dst.hasRemaining()) {
            int n = (int) Math.min(maxSlice(), dst.remaining());
            dst.put(slice(offset, n));
            offset += n;
        }
    }

    /** A source over a whole buffer (e.g. inflated data), at most 2 GiB. */
    static ByteSource of(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return new ByteSource() {
            @Override
            public long size() {
                return b.capacity();
            }

            @Override
            public long maxSlice() {
                return 1L << 30;
            }

            @Override
            public ByteBuffer slice(long offset, int length) {
                return b.slice((int) offset, length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            }
        };
    }
}
