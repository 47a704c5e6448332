package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.glidejava.diffusion.cli.GlideCli;

/**
 * Checkpoints that cannot be written or come back damaged: a {@code glide train} whose checkpoint write fails (the
 * process runs under a file-size limit, {@code ulimit -f}, so the kernel refuses the write as a full disk would)
 * stops with a message naming the step, the cause and the intact previous checkpoint; damaged checkpoints are named
 * on resume, set aside, and the run continues from the newest intact one. Either way the finished run's losses
 * equal an uninterrupted run's.
 */
class CheckpointFaultsTest {
    @TempDir
    static Path dir;
    private static Path data;
    private static Path config;
    private static List<Double> expected;

    @BeforeAll
    static void uninterruptedRun() throws IOException {
        data = ShapesDataset.write(dir.resolve("shapes"), 12, 16, 3);
        config = KillAndResumeTest.tinyConfig(dir);
        Path whole = dir.resolve("whole");
        assertEquals(0, KillAndResumeTest.runInProcess(KillAndResumeTest.args(data, whole, config)));
        expected = GlideTrainerTest.losses(whole);
    }

    @Test
    void aCheckpointWriteRefusedByTheFileSystemStopsTheRunAndKeepsThePreviousOne() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash for ulimit");
        Path out = dir.resolve("full");
        CheckpointDirectory checkpoints = new CheckpointDirectory(out);
        // first life: killed once step 3 is logged, so step-2 is the newest checkpoint
        Process first = KillAndResumeTest.start(KillAndResumeTest.args(data, out, config), dir.resolve("full-1.log"));
        while (first.isAlive() && KillAndResumeTest.lines(out.resolve(GlideTrainer.METRICS_FILE)) < 3) {
            Thread.sleep(10);
        }
        first.destroyForcibly();
        assertTrue(first.waitFor(1, TimeUnit.MINUTES));
        Path previous = checkpoints.latest().orElseThrow();
        long modelBytes = Files.size(previous.resolve(GlideTrainer.MODEL_FILE));
        assertTrue(modelBytes > 256 << 10, "the model file (" + modelBytes + " bytes) must exceed the limit");

        // second life: no file may grow past half the model's size, so the next checkpoint cannot be written
        long blocks = modelBytes / 2 / 1024;
        Path log = dir.resolve("full-2.log");
        Process limited = KillAndResumeTest.start(KillAndResumeTest.args(data, out, config, "--resume"), log,
                "/bin/bash", "-c", "ulimit -f " + blocks + " && exec \"$@\"", "bash");
        assertTrue(limited.waitFor(5, TimeUnit.MINUTES));
        String said = Files.readString(log);
        assertNotEquals(0, limited.exitValue(), said);
        assertTrue(said.contains("could not write the checkpoint of step")
                && said.contains("File too large")
                && said.contains("the previous checkpoint " + previous + " is intact"), said);
        assertFalse(said.contains("\tat "), "a stack trace instead of a message: " + said);
        assertEquals(previous, checkpoints.latest().orElseThrow(), "a checkpoint after the failed write");
        assertEquals(Optional.empty(), CheckpointDirectory.verify(previous));
        try (Stream<Path> s = Files.list(checkpoints.root())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "partial checkpoint left");
        }

        // third life, space back: it resumes from the intact checkpoint and finishes as if nothing happened
        assertEquals(0, KillAndResumeTest.runInProcess(KillAndResumeTest.args(data, out, config, "--resume")));
        GlideTrainerTest.assertSameLosses(expected, GlideTrainerTest.losses(out), "resumed run");
    }

    @Test
    void damagedCheckpointsAreNamedSetAsideAndThePreviousIntactOneIsUsed() throws IOException {
        Path out = dir.resolve("damaged");
        assertEquals(0, KillAndResumeTest.runInProcess(KillAndResumeTest.args(data, out, config)));
        CheckpointDirectory checkpoints = new CheckpointDirectory(out);
        List<Path> all = checkpoints.list(); // the last three: steps 10, 12 and the final 14
        assertEquals(List.of(10L, 12L, 14L), all.stream().map(CheckpointDirectory::step).toList());
        Path truncated = all.get(2).resolve(GlideTrainer.MODEL_FILE);
        try (FileChannel ch = FileChannel.open(truncated, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 3);
        }
        Path flipped = all.get(1).resolve(Optimisation.OPTIMIZER_FILE);
        byte[] bytes = Files.readAllBytes(flipped);
        bytes[bytes.length - 7] ^= 0x10; // one bit of one AdamW moment: only the checksum can tell
        Files.write(flipped, bytes);

        StringWriter said = new StringWriter();
        int exit = GlideCli.run(KillAndResumeTest.args(data, out, config, "--resume").toArray(String[]::new),
                new PrintWriter(said), new PrintWriter(said), false);
        assertEquals(0, exit, said.toString());
        String s = said.toString();
        assertTrue(s.contains("checkpoint " + all.get(2) + " is damaged") && s.contains(truncated.toString()),
                s);
        assertTrue(s.contains("checkpoint " + all.get(1) + " is damaged") && s.contains(flipped.toString())
                && s.contains("SHA-256"), s);
        assertTrue(s.contains("resumed at step 10"), s);
        GlideTrainerTest.assertSameLosses(expected, GlideTrainerTest.losses(out), "resumed run");
        try (Stream<Path> st = Files.list(checkpoints.root())) {
            assertEquals(2, st.filter(p -> p.getFileName().toString().contains(CheckpointDirectory.DAMAGED_SUFFIX))
                    .count(), "the damaged checkpoints are kept aside for inspection");
        }
    }

    @Test
    void whenNoCheckpointIsIntactTheRunRefusesToStartOver() throws IOException {
        Path out = dir.resolve("all-damaged");
        assertEquals(0, KillAndResumeTest.runInProcess(KillAndResumeTest.args(data, out, config)));
        for (Path c : new CheckpointDirectory(out).list()) {
            Files.delete(c.resolve(GlideTrainer.STATE_FILE));
        }
        StringWriter said = new StringWriter();
        int exit = GlideCli.run(KillAndResumeTest.args(data, out, config, "--resume").toArray(String[]::new),
                new PrintWriter(said), new PrintWriter(said), false);
        assertNotEquals(0, exit);
        assertTrue(said.toString().contains("no intact checkpoint to resume from")
                && said.toString().contains(GlideTrainer.STATE_FILE + " is missing"), said.toString());
    }
}
