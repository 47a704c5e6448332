package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint directories: checksums written and checked, and a write that fails in the middle. */
class CheckpointDirectoryTest {
    private static CheckpointDirectory.Writer files(String content) {
        return dir -> {
            Files.writeString(dir.resolve("model.safetensors"), content.repeat(100));
            Files.writeString(dir.resolve(GlideTrainer.STATE_FILE), "{\"step\": 1}");
        };
    }

    @Test
    void aCheckpointCarriesChecksumsOfEveryFile(@TempDir Path out) throws IOException {
        CheckpointDirectory c = new CheckpointDirectory(out);
        Path p = c.write(2, files("a"));
        List<String> lines = Files.readAllLines(p.resolve(CheckpointDirectory.CHECKSUMS_FILE));
        assertEquals(2, lines.size());
        assertTrue(lines.get(0).endsWith("  model.safetensors"), lines.get(0));
        assertEquals(CheckpointDirectory.sha256(p.resolve("model.safetensors")), lines.get(0).substring(0, 64));
        assertEquals(Optional.empty(), CheckpointDirectory.verify(p));
    }

    @Test
    void truncatedFlippedOrMissingFilesAreNamed(@TempDir Path out) throws IOException {
        CheckpointDirectory c = new CheckpointDirectory(out);
        Path p = c.write(4, files("b"));
        Path model = p.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(model, StandardOpenOption.WRITE)) {
            ch.truncate(50);
        }
        String truncated = CheckpointDirectory.verify(p).orElseThrow();
        assertTrue(truncated.contains(model.toString()) && truncated.contains("damaged")
                && truncated.contains("50 bytes"), truncated);

        Files.writeString(model, "b".repeat(99) + "c");
        assertTrue(CheckpointDirectory.verify(p).orElseThrow().contains("SHA-256"));

        Files.delete(model);
        String missing = CheckpointDirectory.verify(p).orElseThrow();
        assertTrue(missing.contains(model + " is missing"), missing);

        Files.writeString(p.resolve(CheckpointDirectory.CHECKSUMS_FILE), "not a checksum line\n");
        assertTrue(CheckpointDirectory.verify(p).orElseThrow().contains("malformed"));
    }

    @Test
    void aFailedWriteLeavesThePreviousCheckpointAndNoDebris(@TempDir Path out) throws IOException {
        CheckpointDirectory c = new CheckpointDirectory(out);
        Path previous = c.write(2, files("a"));
        IOException e = assertThrows(IOException.class, () -> c.write(4, dir -> {
            Files.writeString(dir.resolve("model.safetensors"), "half a model");
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().contains("could not write the checkpoint of step 4")
                && e.getMessage().contains("No space left on device")
                && e.getMessage().contains("the previous checkpoint " + previous + " is intact"), e.getMessage());
        assertEquals(List.of(previous), c.list());
        assertEquals(Optional.empty(), CheckpointDirectory.verify(previous));
        try (Stream<Path> s = Files.list(c.root())) {
            assertEquals(List.of(previous), s.toList(), "the partial checkpoint was not removed");
        }
    }

    @Test
    void aDamagedCheckpointIsSetAsideOutOfTheList(@TempDir Path out) throws IOException {
        CheckpointDirectory c = new CheckpointDirectory(out);
        Path two = c.write(2, files("a"));
        Path four = c.write(4, files("b"));
        Path aside = c.setAside(four);
        assertFalse(Files.exists(four));
        assertTrue(Files.isDirectory(aside) && aside.getFileName().toString().startsWith("step-000000004.damaged-"));
        assertEquals(List.of(two), c.list());
        c.prune(1);
        assertTrue(Files.isDirectory(aside), "pruning removed a set-aside checkpoint");
    }
}
