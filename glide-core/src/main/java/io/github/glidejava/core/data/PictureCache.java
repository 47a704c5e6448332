package io.github.glidejava.core.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.core.image.RgbImage;

/**
 * Prepared pictures kept on disk between runs: one file per picture, named by a hash of where the picture came
 * from (path, size and modification time, or archive and entry) and of the preparation settings, so a changed
 * picture or setting is prepared again. A file that is unreadable or malformed counts as absent.
 */
final class PictureCache {
    private static final byte[] MAGIC = "GLIDERGB".getBytes(StandardCharsets.US_ASCII);
    /** Bumped whenever the preparation of pictures changes, so old cache files are not used. */
    private static final int VERSION = 1;

    private final Path dir;
    private final String settings;

    PictureCache(Path dir, DatasetOptions options) throws IOException {
        this.dir = dir;
        this.settings = "v" + VERSION + "|size=" + options.imageSize() + "|crop=" + options.crop()
                + "|bg=" + Integer.toHexString(options.background());
        Files.createDirectories(dir);
    }

    Optional<RgbImage> load(String key) {
        Path f = file(key);
        try {
            if (!Files.isRegularFile(f)) {
                return Optional.empty();
            }
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f));
            byte[] magic = new byte[MAGIC.length];
            if (b.remaining() < MAGIC.length + 8) {
                return Optional.empty();
            }
            b.get(magic);
            int h = b.getInt();
            int w = b.getInt();
            if (!java.util.Arrays.equals(magic, MAGIC) || h <= 0 || w <= 0 || (long) 3 * h * w != b.remaining()) {
                return Optional.empty();
            }
            byte[] data = new byte[b.remaining()];
            b.get(data);
            return Optional.of(new RgbImage(h, w, data));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    void store(String key, RgbImage img) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 8 + img.data().length);
        b.put(MAGIC).putInt(img.height()).putInt(img.width()).put(img.data());
        PngFiles.writeAtomically(file(key), b.array());
    }

    private Path file(String key) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((settings + "|" + key).getBytes(StandardCharsets.UTF_8));
            return dir.resolve(HexFormat.of().formatHex(h, 0, 20) + ".rgb");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
