package io.github.glidejava.diffusion.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of one training run: {@code OUTPUT/checkpoints/step-000001200/}, each written whole into a
 * temporary sibling and renamed into place, so a checkpoint directory either exists complete or not at all (a run
 * killed while writing leaves only a {@code .tmp-} directory, removed by the next run). The newest {@code keep}
 * are kept.
 */
final class CheckpointDirectory {
    private static final Pattern NAME = Pattern.compile("step-(\\d{9})");
    private static final String TMP_PREFIX = ".tmp-step-";

    private final Path root;

    CheckpointDirectory(Path outputDir) {
        this.root = outputDir.resolve("checkpoints");
    }

    Path root() {
        return root;
    }

    /** Writes one checkpoint with {@code writer} filling a fresh directory; returns the final directory. */
    Path write(long step, Writer writer) throws IOException {
        Files.createDirectories(root);
        removeTemporaries();
        Path tmp = root.resolve(TMP_PREFIX + String.format(Locale.ROOT, "%09d", step) + "-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        writer.writeInto(tmp);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
            for (Path f : files) {
                try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
        }
        Path target = root.resolve(name(step));
        if (Files.exists(target)) {
            deleteTree(target);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target);
        }
        return target;
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
