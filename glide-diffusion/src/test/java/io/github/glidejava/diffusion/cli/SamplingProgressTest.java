package io.github.glidejava.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import io.github.glidejava.diffusion.pipeline.PipelineStage;
import org.junit.jupiter.api.Test;

class SamplingProgressTest {
    /** Runs a stage of {@code steps} steps taking {@code nanosPerStep} each; returns the lines printed. */
    private static List<String> run(boolean interactive, int steps, long nanosPerStep) {
        StringWriter buf = new StringWriter();
        long[] now = {0};
        SamplingProgress p = new SamplingProgress(new PrintWriter(buf), interactive, () -> now[0]);
        for (int step = 1; step <= steps; step++) {
            now[0] += nanosPerStep;
            p.onStep(PipelineStage.BASE, step, steps, 0, 1);
        }
        return buf.toString().lines().toList();
    }

    @Test
    void withoutATerminalFastStagesPrintOnlyTheFirstAndLastStep() {
        List<String> lines = run(false, 1000, 1_000_000L); // 1 s in all
        assertEquals(2, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).contains("1/1000 steps"), lines.get(0));
        assertTrue(lines.get(1).contains("1000/1000 steps"), lines.get(1));
    }

    @Test
    void withoutATerminalSlowStagesPrintAtMostOneLinePerTenPercent() {
        List<String> lines = run(false, 100, 1_000_000_000L); // 1 s per step
        assertEquals(11, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(1).contains("10/100 steps"), lines.get(1));
        assertTrue(lines.get(10).contains("100/100 steps") && lines.get(10).contains("1.00 s/step"), lines.get(10));
        assertTrue(lines.stream().noneMatch(l -> l.contains("\r")));
        // a single step prints one line, not two
        assertEquals(1, run(false, 1, 1_000_000_000L).size());
    }

    @Test
    void onATerminalEveryStepRedrawsTheLine() {
        StringWriter buf = new StringWriter();
        SamplingProgress p = new SamplingProgress(new PrintWriter(buf), true, () -> 0L);
        for (int step = 1; step <= 5; step++) {
            p.onStep(PipelineStage.UPSAMPLE, step, 5, 0, 1);
        }
        assertEquals(5, buf.toString().chars().filter(c -> c == '\r').count());
        assertTrue(buf.toString().endsWith(System.lineSeparator()), "the finished bar ends its line");
    }
}
