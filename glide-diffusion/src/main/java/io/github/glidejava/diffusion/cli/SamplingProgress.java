package io.github.glidejava.diffusion.cli;

import java.io.PrintWriter;
import java.util.Locale;

import io.github.glidejava.diffusion.pipeline.PipelineStage;
import io.github.glidejava.diffusion.pipeline.ProgressListener;

/**
 * A progress bar for sampling on standard error: stage, batch, steps, time per step and ETA of the stage, redrawn
 * in place on a terminal, one line per 25% otherwise.
 */
final class SamplingProgress implements ProgressListener {
    private static final int BAR = 24;

    private final PrintWriter err;
    private final boolean interactive;
    private long stageStart;
    private int lastQuarter = -1;

    SamplingProgress(PrintWriter err, boolean interactive) {
        this.err = err;
        this.interactive = interactive;
    }

    @Override
    public void onStep(PipelineStage stage, int step, int numSteps, int batch, int numBatches) {
        long now = System.nanoTime();
        if (step == 1) {
            stageStart = now;
            lastQuarter = -1;
        }
        double perStep = (now - stageStart) / 1e9 / Math.max(1, step - 1);
        String line = line(stage, step, numSteps, batch, numBatches, step > 1 ? perStep : Double.NaN);
        if (interactive) {
            err.print("\r" + line + "   ");
            if (step == numSteps) {
                err.println();
            }
            err.flush();
        } else {
            int quarter = step * 4 / numSteps;
            if (quarter != lastQuarter) {
                lastQuarter = quarter;
                err.println(line);
                err.flush();
            }
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
