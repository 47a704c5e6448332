package io.github.glidejava.core.io;

import java.nio.ByteBuffer;

/** Random access to little-endian bytes (a mapped file, or an inflated record) in slices of bounded length. */
interface ByteSource {
    long size();

    /** The largest length {@link #slice} accepts; a multiple of 8. */
    long maxSlice();

    /** A little-endian view of {@code length <= maxSlice()} bytes at {@code offset}, not copied. */
    ByteBuffer slice(long offset, int length);

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
