package io.github.glidejava.core.io;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The central directory of a zip archive (with ZIP64 support), read from the file. PyTorch's zip writer
 * sets flag bit 3 (sizes and CRC only in data descriptors and the central directory, zeros in the local headers)
 * and pads record data to 64 bytes with an extra field present only in the local header, so sizes come from the
 * central directory and each record's data offset from its local header's own name and extra lengths.
 */
final class ZipDirectory {
    static final int METHOD_STORED = 0;
    static final int METHOD_DEFLATED = 8;

    private static final int EOCD_SIG = 0x06054b50;
    private static final int EOCD64_SIG = 0x06064b50;
    private static final int EOCD64_LOCATOR_SIG = 0x07064b50;
    private static final int CEN_SIG = 0x02014b50;
    private static final int LOC_SIG = 0x04034b50;
    private static final int EOCD_LEN = 22;
    private static final int CEN_LEN = 46;
    private static final int LOC_LEN = 30;

    record Entry(String name, int method, int flags, long crc, long compressedSize, long size,
                 long localHeaderOffset, long dataOffset) {
    }

    private final Map<String, Entry> entries;

    private ZipDirectory(Map<String, Entry> entries) {
        this.entries = entries;
    }

    /** Entries in central-directory order. */
    List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    Entry get(String name) {
        return entries.get(name);
    }

    static ZipDirectory read(Path file, FileBytes map) throws TorchCheckpointFormatException {
        long size = map.size();
        if (size < EOCD_LEN) {
            throw new TorchCheckpointFormatException(file, "file is " + size + " bytes: too short for a zip archive");
        }
        long eocd = findEocd(map, size);
        if (eocd < 0) {
            throw new TorchCheckpointFormatException(file, "no zip end-of-central-directory record: not a zip"
                    + " archive, or truncated");
        }
        ByteBuffer e = map.read(eocd, EOCD_LEN);
        int disk = u16(e, 4);
        int cdDisk = u16(e, 6);
        long count = u16(e, 10);
        long cdSize = u32(e, 12);
        long cdOffset = u32(e, 16);
        if (eocd >= 20 && map.read(eocd - 20, 4).getInt(0) == EOCD64_LOCATOR_SIG) {
            ByteBuffer loc = map.read(eocd - 20, 20);
            long eocd64 = loc.getLong(8);
            if (eocd64 < 0 || eocd64 > eocd - 20 - 56) {
                throw new TorchCheckpointFormatException(file, "ZIP64 end-of-central-directory offset " + eocd64
                        + " is outside the file");
            }
            ByteBuffer z = map.read(eocd64, 56);
            if (z.getInt(0) != EOCD64_SIG) {
                throw new TorchCheckpointFormatException(file, "no ZIP64 end-of-central-directory record at offset "
                        + eocd64);
            }
            disk = z.getInt(16);
            cdDisk = z.getInt(20);
            count = z.getLong(32);
            cdSize = z.getLong(40);
            cdOffset = z.getLong(48);
        }
        if (disk != 0 || cdDisk != 0) {
            throw new TorchCheckpointFormatException(file, "multi-volume zip archives are not supported");
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > eocd || cdSize > eocd - cdOffset) {
            throw new TorchCheckpointFormatException(file, "central directory [" + cdOffset + ", +" + cdSize
                    + ") lies outside the file (" + size + " bytes; truncated?)");
        }
        if (count < 0 || count > cdSize / CEN_LEN) {
            throw new TorchCheckpointFormatException(file, "central directory claims " + count + " entries in "
                    + cdSize + " bytes");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        long p = cdOffset;
        long cdEnd = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (p + CEN_LEN > cdEnd) {
                throw new TorchCheckpointFormatException(file, "central directory entry " + i + " runs past its end");
            }
            ByteBuffer c = map.read(p, CEN_LEN);
            if (c.getInt(0) != CEN_SIG) {
                throw new TorchCheckpointFormatException(file, "bad central directory entry signature at offset " + p);
            }
            int flags = u16(c, 8);
            int method = u16(c, 10);
            long crc = u32(c, 16);
            long csize = u32(c, 20);
            long usize = u32(c, 24);
            int nameLen = u16(c, 28);
            int extraLen = u16(c, 30);
            int commentLen = u16(c, 32);
            long lho = u32(c, 42);
            if (p + CEN_LEN + nameLen + extraLen + commentLen > cdEnd) {
                throw new TorchCheckpointFormatException(file, "central directory entry " + i + " runs past its end");
            }
            byte[] nameBytes = new byte[nameLen];
            map.get(p + CEN_LEN, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            // ZIP64 extended information: the 0xFFFFFFFF fields, in the order usize, csize, lho
            ByteBuffer extra = map.read(p + CEN_LEN + nameLen, extraLen);
            for (int x = 0; x + 4 <= extraLen; ) {
                int id = u16(extra, x);
                int len = u16(extra, x + 2);
                if (x + 4 + len > extraLen) {
                    throw new TorchCheckpointFormatException(file, "entry '" + name + "': malformed extra field");
                }
                if (id == 0x0001) {
                    int q = x + 4;
                    if (usize == 0xffffffffL && q + 8 <= x + 4 + len) {
                        usize = extra.getLong(q);
                        q += 8;
                    }
                    if (csize == 0xffffffffL && q + 8 <= x + 4 + len) {
                        csize = extra.getLong(q);
                        q += 8;
                    }
                    if (lho == 0xffffffffL && q + 8 <= x + 4 + len) {
                        lho = extra.getLong(q);
                    }
                }
                x += 4 + len;
            }
            if ((flags & 1) != 0) {
                throw new TorchCheckpointFormatException(file, "entry '" + name + "' is encrypted");
            }
            if (usize < 0 || csize < 0 || lho < 0 || lho > cdOffset - LOC_LEN) {
                throw new TorchCheckpointFormatException(file, "entry '" + name + "': local header offset " + lho
                        + " or sizes are out of range");
            }
            ByteBuffer l = map.read(lho, LOC_LEN);
            if (l.getInt(0) != LOC_SIG) {
                throw new TorchCheckpointFormatException(file, "entry '" + name + "': no local file header at offset "
                        + lho);
            }
            int locNameLen = u16(l, 26);
            int locExtraLen = u16(l, 28);
            long dataOffset = lho + LOC_LEN + locNameLen + locExtraLen;
            if (locNameLen != nameLen || dataOffset > cdOffset || csize > cdOffset - dataOffset) {
                throw new TorchCheckpointFormatException(file, "entry '" + name + "': data [" + dataOffset + ", +"
                        + csize + ") does not fit before the central directory at " + cdOffset
                        + " or the local header disagrees with the central directory");
            }
            byte[] locName = new byte[locNameLen];
            map.get(lho + LOC_LEN, locName);
            if (!java.util.Arrays.equals(locName, nameBytes)) {
                throw new TorchCheckpointFormatException(file, "entry '" + name + "': local header names '"
                        + new String(locName, StandardCharsets.UTF_8) + "'");
            }
            if (method == METHOD_STORED && csize != usize) {
                throw new TorchCheckpointFormatException(file, "stored entry '" + name + "' has compressed size "
                        + csize + " != size " + usize);
            }
            if (entries.put(name, new Entry(name, method, flags, crc, csize, usize, lho, dataOffset)) != null) {
                throw new TorchCheckpointFormatException(file, "duplicate zip entry '" + name + "'");
            }
            p += CEN_LEN + nameLen + extraLen + commentLen;
        }
        return new ZipDirectory(Collections.unmodifiableMap(entries));
    }

    /** The end-of-central-directory record: scanning back over a comment of at most 65535 bytes. */
    private static long findEocd(FileBytes map, long size) {
        long lowest = Math.max(0, size - EOCD_LEN - 0xffff);
        for (long p = size - EOCD_LEN; p >= lowest; p--) {
            ByteBuffer b = map.read(p, EOCD_LEN);
            if (b.getInt(0) == EOCD_SIG && p + EOCD_LEN + u16(b, 20) == size) {
                return p;
            }
        }
        return -1;
    }

    static int u16(ByteBuffer b, int at) {
        return b.getShort(at) & 0xffff;
    }

    static long u32(ByteBuffer b, int at) {
        return b.getInt(at) & 0xffffffffL;
    }
}
