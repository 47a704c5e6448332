package io.github.glidejava.diffusion.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.io.SafeTensors;

/**
 * The checkpoints of one training run: {@code OUTPUT/checkpoints/step-000001200/}, each written whole into a
 * temporary sibling, flushed to disk and renamed into place, so a checkpoint directory either exists complete or not
 * at all (a run killed while writing leaves only a {@code .tmp-} directory, removed by the next run; a write that
 * fails, e.g. on a full disk, removes its own). Each carries {@code checksums.sha256} (the SHA-256 of every other
 * file, in {@code sha256sum} format, so {@code sha256sum -c checksums.sha256} checks it by hand too), which
 * {@link #verify} checks before a run resumes from it. The newest {@code keep} are kept.
 */
final class CheckpointDirectory {
    private static final Pattern NAME = Pattern.compile("step-(\\d{9})");
    private static final String TMP_PREFIX = ".tmp-step-";
    static final String CHECKSUMS_FILE = "checksums.sha256";
    /** What a checkpoint that failed {@link #verify} is renamed to (followed by the time), out of the way of resuming. */
    static final String DAMAGED_SUFFIX = ".damaged-";

    private final Path root;

    CheckpointDirectory(Path outputDir) {
        this.root = outputDir.resolve("checkpoints");
    }

    Path root() {
        return root;
    }

    /**
     * Writes one checkpoint with {@code writer} filling a fresh directory; returns the final directory. When any
     * part of the write fails, the partial directory is removed and the IOException says which step failed, why,
     * and which earlier checkpoint is still intact; existing checkpoints are never touched before the new one is
     * complete.
     */
    Path write(long step, Writer writer) throws IOException {
        Path target = root.resolve(name(step));
        Path tmp = root.resolve(TMP_PREFIX + String.format(Locale.ROOT, "%09d", step) + "-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(root);
            removeTemporaries();
            deleteTree(tmp);
            Files.createDirectories(tmp);
            writer.writeInto(tmp);
            writeChecksums(tmp);
            try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
                for (Path f : files) {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                }
            }
            if (Files.exists(target)) {
                deleteTree(target);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            syncDirectory(root);
            return target;
        } catch (IOException e) {
            try {
                deleteTree(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            Optional<Path> previous = latest();
            throw new IOException("could not write the checkpoint of step " + step + " to " + target + ": "
                    + describe(e) + "; " + previous.map(p -> "the previous checkpoint " + p + " is intact, and"
                    + " glide train --resume continues from it once the cause is fixed (e.g. space freed)")
                    .orElse("no earlier checkpoint exists"), e);
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            m = f.getFile() + ": " + f.getReason();
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }

    /** {@code checksums.sha256}: {@code <sha-256 hex>  <file name>} for every file of {@code dir}, sorted by name. */
    private static void writeChecksums(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().equals(CHECKSUMS_FILE))
                    .sorted().toList();
        }
        StringBuilder sb = new StringBuilder();
        for (Path f : files) {
            sb.append(sha256(f)).append("  ").append(f.getFileName()).append('\n');
        }
        Files.writeString(dir.resolve(CHECKSUMS_FILE), sb.toString(), StandardCharsets.UTF_8);
    }

    /**
     * What is wrong with {@code checkpoint}, or empty when every file its {@code checksums.sha256} lists is there
     * with that content. A checkpoint without the file (one written before checksums existed) is accepted when its
     * {@code trainer.json} parses and its safetensors files open (which checks their length against the header).
     */
    static Optional<String> verify(Path checkpoint) {
        Path sums = checkpoint.resolve(CHECKSUMS_FILE);
        try {
            if (!Files.exists(sums)) {
                new ObjectMapper().readTree(Files.readString(checkpoint.resolve(GlideTrainer.STATE_FILE)));
                try (Stream<Path> s = Files.list(checkpoint)) {
                    for (Path f : (Iterable<Path>) s::iterator) {
                        if (f.getFileName().toString().endsWith(".safetensors")) {
                            SafeTensors.open(f).close();
                        }
                    }
                }
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(sums, StandardCharsets.UTF_8);
            if (lines.isEmpty()) {
                return Optional.of(sums + " is empty");
            }
            for (String line : lines) {
                Matcher m = CHECKSUM_LINE.matcher(line);
                if (!m.matches()) {
                    return Optional.of(sums + " has a malformed line '" + line + "' (expected '<sha-256 hex>  <file>')");
                }
                Path f = checkpoint.resolve(m.group(2));
                if (!f.normalize().startsWith(checkpoint.normalize()) || !Files.isRegularFile(f)) {
                    return Optional.of(f + " is missing (listed in " + CHECKSUMS_FILE + ")");
                }
                String actual = sha256(f);
                if (!actual.equals(m.group(1))) {
                    return Optional.of(f + " is damaged: its SHA-256 is " + actual + ", " + CHECKSUMS_FILE
                            + " says " + m.group(1) + " (" + Files.size(f) + " bytes; truncated or overwritten?)");
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.of(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private static final Pattern CHECKSUM_LINE = Pattern.compile("([0-9a-f]{64})  ([^/\\\\]+)");

    /** Renames a checkpoint that failed {@link #verify} so that it is neither resumed from nor pruned; returns it. */
    Path setAside(Path checkpoint) throws IOException {
        Path aside = checkpoint.resolveSibling(checkpoint.getFileName() + DAMAGED_SUFFIX + System.currentTimeMillis());
        Files.move(checkpoint, aside);
        return aside;
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-256, which every Java SE must have", e);
        }
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Makes the rename durable; file systems that cannot open a directory for syncing are left as they are. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // the checkpoint is complete either way; only its survival of a power cut depends on this
        }
    }

    /** Removes all but the newest {@code keep} checkpoints. */
    void prune(int keep) throws IOException {
        List<Path> all = list();
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
    }

    /** The newest complete checkpoint, if any. */
    Optional<Path> latest() throws IOException {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Complete checkpoints, oldest first. */
    List<Path> list() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)).forEach(out::add);
        }
        out.sort(Comparator.comparingLong(CheckpointDirectory::step));
        return out;
    }

    static long step(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException(checkpoint + " is not a checkpoint directory (step-NNNNNNNNN)");
        }
        return Long.parseLong(m.group(1));
    }

    static String name(long step) {
        return String.format(Locale.ROOT, "step-%09d", step);
    }

    private void removeTemporaries() throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.getFileName().toString().startsWith(TMP_PREFIX)) {
                    deleteTree(p);
                }
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @FunctionalInterface
    interface Writer {
        void writeInto(Path dir) throws IOException;
    }
}
