package io.github.glidejava.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code glide train}'s help and its errors: usage errors exit 2, bad data exits 1 with one line, no stack trace. */
class TrainCommandTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = GlideCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), false);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpDocumentsEveryRecipeOptionWithItsDefault() {
        Run r = run("train", "--help");
        assertEquals(0, r.code());
        for (String option : new String[] {"--data", "--output", "--model", "--steps", "--epochs", "--time",
                "--batch-size", "--microbatch", "--lr", "--warmup-steps", "--lr-decay", "--weight-decay",
                "--max-grad-norm", "--ema-rate", "--uncond-p", "--loss", "--timestep-sampler", "--seed",
                "--checkpoint-every", "--freeze", "--resume", "--sample-prompts", "--strict"}) {
            assertTrue(r.out().contains(option), "help lacks " + option);
        }
        assertTrue(r.out().contains("(default: 0.2)"), "the caption dropout default is not shown");
    }

    @Test
    void usageErrorsExitTwo(@TempDir Path dir) {
        Run noData = run("train", "--output", dir.toString(), "--steps", "1");
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("--data"), noData.err());
        Run badTime = run("train", "--data", dir.toString(), "--output", dir.resolve("o").toString(), "--time", "5x");
        assertEquals(2, badTime.code());
        assertTrue(badTime.err().contains("--time: '5x' is not a duration"), badTime.err());
    }

    @Test
    void unusableDataIsOneLineWithoutAStackTrace(@TempDir Path dir) {
        Run r = run("train", "--data", dir.resolve("absent").toString(), "--output", dir.resolve("o").toString(),
                "--steps", "1", "--model", "tiny16");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("glide train: error: "), r.err());
        assertTrue(r.err().contains("absent"), r.err());
        assertFalse(r.err().contains("\tat "), "a stack trace was printed: " + r.err());
        Run noLimit = run("train", "--data", dir.toString(), "--output", dir.resolve("o").toString());
        assertEquals(1, noLimit.code());
        assertTrue(noLimit.err().contains("--steps"), noLimit.err());
    }
}
