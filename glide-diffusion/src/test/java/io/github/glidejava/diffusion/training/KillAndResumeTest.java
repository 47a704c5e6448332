package io.github.glidejava.diffusion.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.glidejava.diffusion.cli.GlideCli;

/**
 * A real {@code glide train} process is killed with SIGKILL again and again at random moments, half of them while
 * it writes a checkpoint; each time {@code glide train --resume} starts it again from the newest checkpoint (every
 * complete checkpoint on disk passes its checksums after every kill), and the finished run's losses equal those of
 * an uninterrupted run with the same seed, step for step. {@code -Dglide.kills=N} sets the number of kills
 * (default 6, about a minute with the tiny model); the random moments come from a seed printed in the test's
 * output ({@code -Dglide.killSeed=S} repeats them).
 */
class KillAndResumeTest {
    static final int STEPS = 14;
    private static final int KILLS = Integer.getInteger("glide.kills", 6);

    static List<String> args(Path data, Path out, Path config, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", data.toString(), "--output", out.toString(),
                "--model", config.toString(), "--steps", String.valueOf(STEPS), "--batch-size", "4",
                "--checkpoint-every", "2", "--keep-checkpoints", "3", "--seed", "5", "--lr", "1e-3",
                "--ema-rate", "0.9"));
        a.addAll(List.of(extra));
        return a;
    }

    static int runInProcess(List<String> args) {
        java.io.StringWriter sink = new java.io.StringWriter();
        return GlideCli.run(args.toArray(String[]::new), new java.io.PrintWriter(sink),
                new java.io.PrintWriter(sink), false);
    }

    /** {@code glide train ARGS} in a JVM of its own, its output going to {@code log}. */
    static Process start(List<String> args, Path log, String... shellPrefix) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(shellPrefix));
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
                "-cp", System.getProperty("java.class.path"), GlideCli.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        return pb.start();
    }

    static Path tinyConfig(Path dir) throws IOException {
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, GlideTrainerTest.tiny().toJson());
        return config;
    }

    @Test
    void aRunKilledAtRandomMomentsResumesExactly(@TempDir Path dir) throws Exception {
        Path data = ShapesDataset.write(dir.resolve("shapes"), 12, 16, 3);
        Path config = tinyConfig(dir);
        Path whole = dir.resolve("whole");
        assertEquals(0, runInProcess(args(data, whole, config)));

        long seed = Long.getLong("glide.killSeed", new Random().nextLong());
        System.out.println("kill seed " + seed + " (-Dglide.killSeed=" + seed + " repeats these kill moments)");
        Random rng = new Random(seed);
        Path killed = dir.resolve("killed");
        CheckpointDirectory checkpoints = new CheckpointDirectory(killed);
        Path log = killed.resolve(GlideTrainer.METRICS_FILE);
        int inWrite = 0;
        for (int k = 0; k < KILLS; k++) {
            boolean aimAtWrite = k % 2 == 1;
            int stale = lines(log);
            long resumeFrom = checkpoints.latest().map(CheckpointDirectory::step).orElse(0L);
            // a step this life must reach beyond anything an earlier life logged, and before the end
            int target = (int) Math.min(STEPS - 1, Math.max(stale, resumeFrom) + 1 + rng.nextInt(2));
            Process p = start(args(data, killed, config, k == 0 ? new String[0] : new String[] {"--resume"}),
                    dir.resolve("life-" + k + ".log"));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (p.isAlive() && System.nanoTime() < deadline) {
                if (aimAtWrite ? writing(checkpoints.root(), p.pid()) || lines(log) >= STEPS - 1 : lines(log) >= target
                        && lines(log) > resumeFrom) {
                    break;
                }
                Thread.sleep(aimAtWrite ? 0 : 5);
            }
            if (!aimAtWrite && target < STEPS - 1) {
                Thread.sleep(rng.nextInt(150)); // somewhere inside the next step, or the checkpoint after it
            }
            assertTrue(p.isAlive(), "life " + k + " ended before it could be killed: "
                    + Files.readString(dir.resolve("life-" + k + ".log")));
            p.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs
            assertTrue(p.waitFor(1, TimeUnit.MINUTES));
            if (writing(checkpoints.root(), p.pid())) {
                inWrite++;
            }
            for (Path c : checkpoints.list()) {
                assertEquals(Optional.empty(), CheckpointDirectory.verify(c), "after kill " + k + ", " + c);
            }
            System.out.printf("kill %d: %s, %d steps logged, newest checkpoint %s%n", k,
                    writing(checkpoints.root(), p.pid()) ? "inside a checkpoint write" : "between checkpoints",
                    lines(log), checkpoints.latest().map(c -> c.getFileName().toString()).orElse("none"));
        }
        assertEquals(0, runInProcess(args(data, killed, config, "--resume")));
        List<Double> expected = GlideTrainerTest.losses(whole);
        assertEquals(STEPS, expected.size());
        GlideTrainerTest.assertSameLosses(expected, GlideTrainerTest.losses(killed),
                "losses of the run killed " + KILLS + " times differ from the uninterrupted run's");
        System.out.printf("%d kills survived, %d of them inside a checkpoint write%n", KILLS, inWrite);
        assertTrue(inWrite >= 1 || KILLS < 2, "no kill landed inside a checkpoint write");
    }

    /** Whether process {@code pid} has a checkpoint write under way (its temporary directory exists). */
    private static boolean writing(Path checkpointsRoot, long pid) throws IOException {
        if (!Files.isDirectory(checkpointsRoot)) {
            return false;
        }
        try (Stream<Path> s = Files.list(checkpointsRoot)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-step-")
                    && p.getFileName().toString().endsWith("-" + pid));
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    static int lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        return (int) Files.readAllLines(file).stream().filter(l -> l.endsWith("}")).count();
    }
}
