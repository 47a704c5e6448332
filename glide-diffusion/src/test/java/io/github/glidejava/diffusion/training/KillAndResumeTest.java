package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.glidejava.diffusion.cli.GlideCli;

/**
 * A real {@code glide train} process is killed with SIGKILL at a random step; {@code glide train --resume} then
 * finishes the run, and its losses equal those of an uninterrupted run with the same seed, step for step.
 */
class KillAndResumeTest {
    private static final int STEPS = 7;

    static List<String> args(Path data, Path out, Path config, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "--output", out.toString(),
                "--model", config.toString(), "--steps", String.valueOf(STEPS), "--batch-size", "4",
                "--checkpoint-every", "2", "--seed", "5", "--lr", "1e-3", "--ema-rate", "0.9"));
        a.addAll(List.of(extra));
        return a;
    }

    static int runInProcess(List<String> args) {
        java.io.StringWriter sink = new java.io.StringWriter();
        return GlideCli.run(args.toArray(String[]::new), new java.io.PrintWriter(sink),
                new java.io.PrintWriter(sink), false);
    }

    @Test
    void aKilledRunResumesExactly(@TempDir Path dir) throws Exception {
        Path data = ShapesDataset.write(dir.resolve("shapes"), 12, 16, 3);
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, GlideTrainerTest.tiny().toJson());

        Path whole = dir.resolve("whole");
        assertEquals(0, runInProcess(args(data, whole, config)));

        Path killed = dir.resolve("killed");
        int killAfter = 3 + new Random().nextInt(STEPS - 3); // a step in [3, STEPS)
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), GlideCli.class.getName()));
        cmd.addAll(args(data, killed, config));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("killed.log").toFile()).start();
        Path log = killed.resolve(GlideTrainer.METRICS_FILE);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (lines(log) < killAfter && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the training process ended before it could be killed: "
                + Files.readString(dir.resolve("killed.log")));
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        p.waitFor(1, TimeUnit.MINUTES);
        assertTrue(lines(log) < STEPS, "killed too late");

        assertEquals(0, runInProcess(args(data, killed, config, "--resume")));
        assertEquals(GlideTrainerTest.losses(whole), GlideTrainerTest.losses(killed),
                "losses of the resumed run (killed after step " + killAfter + ") differ from the uninterrupted run's");
    }

    private static int lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        return (int) Files.readAllLines(file).stream().filter(l -> l.endsWith("}")).count();
    }
}
