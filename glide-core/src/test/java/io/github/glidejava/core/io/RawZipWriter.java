package io.github.glidejava.core.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes zip archives byte by byte the way PyTorch's writer does (flag 0x0808, zero sizes and CRC in the local
 * header, data descriptors, data aligned to 64 bytes by an "FB" extra field in the local header only, a ZIP64 end
 * record), optionally with every size and offset moved into ZIP64 extra fields, and with hooks to make it lie.
 */
final class RawZipWriter {
    private record Rec(String name, byte[] data, boolean deflate, Long declaredSize) {
    }

    private final List<Rec> records = new ArrayList<>();
    private boolean zip64Fields;
    private Long declaredCount;

    RawZipWriter add(String name, byte[] data) {
        records.add(new Rec(name, data, false, null));
        return this;
    }

    RawZipWriter addDeflated(String name, byte[] data, Long declaredSize) {
        records.add(new Rec(name, data, true, declaredSize));
        return this;
    }

    /** Put sizes and local header offsets into ZIP64 extended-information fields (0xFFFFFFFF in the headers). */
    RawZipWriter zip64Fields() {
        zip64Fields = true;
        return this;
    }

    RawZipWriter declaredCount(long count) {
        declaredCount = count;
        return this;
    }

    byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<long[]> meta = new ArrayList<>(); // crc, csize, usize, lho, method
        List<byte[]> names = new ArrayList<>();
        for (Rec r : records) {
            byte[] name = r.name.getBytes(StandardCharsets.UTF_8);
            byte[] payload = r.deflate ? deflate(r.data) : r.data;
            CRC32 crc = new CRC32();
            crc.update(r.data);
            long lho = out.size();
            int extraLen = 4;
            long dataStart = lho + 30 + name.length + extraLen;
            int pad = (int) ((64 - dataStart % 64) % 64);
            extraLen += pad;
            ByteBuffer h = le(30 + name.length + extraLen);
            h.putInt(0x04034b50).putShort((short) 45).putShort((short) 0x0808).putShort((short) (r.deflate ? 8 : 0))
                    .putShort((short) 0).putShort((short) 0x21).putInt(0).putInt(0).putInt(0)
                    .putShort((short) name.length).putShort((short) extraLen).put(name)
                    .putShort((short) 0x4246).putShort((short) pad).put(new byte[pad]);
            out.writeBytes(h.array());
            out.writeBytes(payload);
            ByteBuffer dd = le(24).putInt(0x08074b50).putInt((int) crc.getValue()).putLong(payload.length)
                    .putLong(r.data.length);
            out.writeBytes(dd.array());
            long usize = r.declaredSize != null ? r.declaredSize : r.data.length;
            meta.add(new long[] {crc.getValue(), payload.length, usize, lho, r.deflate ? 8 : 0});
            names.add(name);
        }
        long cdStart = out.size();
        for (int i = 0; i < records.size(); i++) {
            long[] m = meta.get(i);
            byte[] name = names.get(i);
            int extraLen = zip64Fields ? 4 + 24 : 0;
            ByteBuffer c = le(46 + name.length + extraLen);
            c.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0x0808)
                    .putShort((short) m[4]).putShort((short) 0).putShort((short) 0x21).putInt((int) m[0])
                    .putInt(zip64Fields ? -1 : (int) m[1]).putInt(zip64Fields ? -1 : (int) m[2])
                    .putShort((short) name.length).putShort((short) extraLen).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt(zip64Fields ? -1 : (int) m[3]).put(name);
            if (zip64Fields) {
                c.putShort((short) 1).putShort((short) 24).putLong(m[2]).putLong(m[1]).putLong(m[3]);
            }
            out.writeBytes(c.array());
        }
        long cdSize = out.size() - cdStart;
        long count = declaredCount != null ? declaredCount : records.size();
        long eocd64 = out.size();
        ByteBuffer z = le(56).putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0)
                .putInt(0).putLong(count).putLong(count).putLong(cdSize).putLong(cdStart);
        out.writeBytes(z.array());
        out.writeBytes(le(20).putInt(0x07064b50).putInt(0).putLong(eocd64).putInt(1).array());
        out.writeBytes(le(22).putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1)
                .putShort((short) -1).putInt(-1).putInt(-1).putShort((short) 0).array());
        return out.toByteArray();
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
        d.setInput(data);
        d.finish();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!d.finished()) {
            o.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return o.toByteArray();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
