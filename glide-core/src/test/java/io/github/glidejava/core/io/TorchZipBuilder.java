package io.github.glidejava.core.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Builds small torch.save-style zip archives with java.util.zip for tests. */
final class TorchZipBuilder {
    private final String prefix;
    private final Map<String, byte[]> records = new LinkedHashMap<>();
    private final List<String> deflated = new ArrayList<>();

    TorchZipBuilder(String prefix) {
        this.prefix = prefix;
    }

    TorchZipBuilder pickle(byte[] pickle) {
        return record("data.pkl", pickle);
    }

    TorchZipBuilder pickle(PickleBuilder p) {
        return pickle(p.bytes());
    }

    TorchZipBuilder record(String name, byte[] data) {
        records.put(name, data);
        return this;
    }

    TorchZipBuilder floats(String key, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return record("data/" + key, b.array());
    }

    TorchZipBuilder deflate(String name) {
        deflated.add(name);
        return this;
    }

    Path write(Path file) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            if (!records.containsKey("version")) {
                records.put("version", "3\n".getBytes());
            }
            for (Map.Entry<String, byte[]> r : records.entrySet()) {
                ZipEntry e = new ZipEntry(prefix + r.getKey());
                byte[] data = r.getValue();
                if (deflated.contains(r.getKey())) {
                    e.setMethod(ZipEntry.DEFLATED);
                } else {
                    e.setMethod(ZipEntry.STORED);
                    e.setSize(data.length);
                    e.setCompressedSize(data.length);
                    CRC32 crc = new CRC32();
                    crc.update(data);
                    e.setCrc(crc.getValue());
                }
                zip.putNextEntry(e);
                zip.write(data);
                zip.closeEntry();
            }
        }
        return file;
    }
}
