package io.github.glidejava.core.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.github.glidejava.core.image.RgbImage;

/** One listed item before its picture is decoded: where the picture is, its captions and labels. */
record DatasetItem(String id, Source source, List<String> captions, Map<String, String> labels) {
    DatasetItem {
        captions = List.copyOf(captions);
        labels = Map.copyOf(labels);
    }

    /** The bytes of a picture, and a key that changes whenever they may have changed (for the disk cache). */
    interface Source {
        byte[] read() throws IOException;

        /** Null when the picture is not to be cached. */
        String cacheKey() throws IOException;

        default BufferedImage decode(String id) throws IOException {
            return RgbImage.decode(read(), id);
        }
    }

    /** A picture already decoded (never cached on disk). */
    static Source image(BufferedImage image) {
        return new Source() {
            @Override
            public byte[] read() {
                throw new UnsupportedOperationException("an in-memory picture has no file bytes");
            }

            @Override
            public String cacheKey() {
                return null;
            }

            @Override
            public BufferedImage decode(String id) {
                return image;
            }
        };
    }

    static Source file(Path file) {
        return new Source() {
            @Override
            public byte[] read() throws IOException {
                if (!Files.exists(file)) {
                    throw new NoSuchFileException(file.toString(), null, "listed but absent");
                }
                return Files.readAllBytes(file);
            }

            @Override
            public String cacheKey() throws IOException {
                Path abs = file.toAbsolutePath().normalize();
                return "file:" + abs + "|" + Files.size(abs) + "|" + Files.getLastModifiedTime(abs).toMillis();
            }
        };
    }

    static Source bytes(byte[] data, String cacheKey) {
        return new Source() {
            @Override
            public byte[] read() {
                return data;
            }

            @Override
            public String cacheKey() {
                return cacheKey;
            }
        };
    }
}
