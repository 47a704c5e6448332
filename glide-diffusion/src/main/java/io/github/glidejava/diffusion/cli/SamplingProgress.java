package io.github.glidejava.diffusion.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

import io.github.glidejava.diffusion.pipeline.PipelineStage;
import io.github.glidejava.diffusion.pipeline.ProgressListener;

/**
 * A progress bar for sampling on standard error: stage, batch, steps, time per step and ETA of the stage. On a
 * terminal it is redrawn in place after every step. Without one (a log file, CI) it prints the first and the last
 * step of each stage and in between at most one line per 10% of the steps, and none sooner than
 * {@value #MIN_INTERVAL_SECONDS} s after the previous line, so that logs stay short however many steps there are.
 */
final class SamplingProgress implements ProgressListener {
    private static final int BAR = 24;
    static final int PERCENT_PER_LINE = 10;
    static final int MIN_INTERVAL_SECONDS = 2;
    private static final long MIN_INTERVAL_NANOS = MIN_INTERVAL_SECONDS * 1_000_000_000L;

    private final PrintWriter err;
    private final boolean interactive;
    private final LongSupplier clock;
    private long stageStart;
    private int lastBucket;
    private long lastLine;

    SamplingProgress(PrintWriter err, boolean interactive) {
        this(err, interactive, System::nanoTime);
    }

    SamplingProgress(PrintWriter err, boolean interactive, LongSupplier clock) {
        this.err = err;
        this.interactive = interactive;
        this.clock = clock;
    }

    @Override
    public void onStep(PipelineStage stage, int step, int numSteps, int batch, int numBatches) {
        long now = clock.getAsLong();
        if (step == 1) {
            stageStart = now;
        }
        double perStep = (now - stageStart) / 1e9 / Math.max(1, step - 1);
        if (interactive) {
            err.print("\r" + line(stage, step, numSteps, batch, numBatches, step > 1 ? perStep : Double.NaN) + "   ");
            if (step == numSteps) {
                err.println();
            }
            err.flush();
            return;
        }
        int bucket = (int) ((long) step * (100 / PERCENT_PER_LINE) / numSteps);
        boolean due = bucket > lastBucket && now - lastLine >= MIN_INTERVAL_NANOS;
        if (step == 1 || step == numSteps || due) {
            lastBucket = bucket;
            lastLine = now;
            err.println(line(stage, step, numSteps, batch, numBatches, step > 1 ? perStep : Double.NaN));
            err.flush();
        }
    }

    static String line(PipelineStage stage, int step, int numSteps, int batch, int numBatches, double secondsPerStep) {
        int filled = step * BAR / numSteps;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-9s", stage.id()));
        if (numBatches > 1) {
            sb.append(String.format(Locale.ROOT, "batch %d/%d ", batch + 1, numBatches));
        }
        sb.append('[').append("=".repeat(filled));
        if (filled < BAR) {
            sb.append('>').append(" ".repeat(BAR - filled - 1));
        }
        sb.append(String.format(Locale.ROOT, "] %d/%d steps", step, numSteps));
        if (!Double.isNaN(secondsPerStep)) {
            sb.append(String.format(Locale.ROOT, "  %.2f s/step", secondsPerStep));
            if (step < numSteps) {
                long eta = Math.round(secondsPerStep * (numSteps - step));
                sb.append(String.format(Locale.ROOT, "  ETA %d:%02d", eta / 60, eta % 60));
            }
        }
        return sb.toString();
    }
}
