package io.github.glidejava.diffusion.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

import io.github.glidejava.diffusion.training.TrainingListener;
import io.github.glidejava.diffusion.training.TrainingMetrics;

/**
 * Training progress on standard error: step, loss, images/s and time left. On a terminal one line is redrawn after
 * every step; without one (a log file, CI) a line is printed at most every {@value #MIN_INTERVAL_SECONDS} s and for
 * the first and last step, so logs stay short.
 */
final class TrainingProgress implements TrainingListener {
    static final int MIN_INTERVAL_SECONDS = 30;

    private final PrintWriter err;
    private final boolean interactive;
    private long total;
    private long lastLine;
    private double smoothedSeconds = Double.NaN;

    TrainingProgress(PrintWriter err, boolean interactive) {
        this.err = err;
        this.interactive = interactive;
    }

    @Override
    public void started(long step, long totalSteps, int datasetSize) {
        total = totalSteps;
        err.printf(Locale.ROOT, "training on %d images%s%s%n", datasetSize,
                step > 0 ? ", resumed at step " + step : "", totalSteps > 0 ? ", " + totalSteps + " steps" : "");
        err.flush();
    }

    @Override
    public void stepDone(TrainingMetrics m) {
        smoothedSeconds = Double.isNaN(smoothedSeconds) ? m.seconds() : 0.9 * smoothedSeconds + 0.1 * m.seconds();
        long now = System.nanoTime();
        boolean last = total > 0 && m.step() == total;
        if (interactive) {
            err.print("\r" + line(m) + "   ");
            if (last) {
                err.println();
            }
        } else if (lastLine == 0 || last || now - lastLine >= MIN_INTERVAL_SECONDS * 1_000_000_000L) {
            err.println(line(m));
        } else {
            return;
        }
        lastLine = now;
        err.flush();
    }

    String line(TrainingMetrics m) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "step %d", m.step()));
        if (total > 0) {
            sb.append('/').append(total);
        }
        sb.append(String.format(Locale.ROOT, "  loss %.4f", m.loss()));
        if (Double.isFinite(m.mse())) {
            sb.append(String.format(Locale.ROOT, " (mse %.4f)", m.mse()));
        }
        sb.append(String.format(Locale.ROOT, "  %.1f img/s  %.2f s/step", m.imagesPerSecond(), m.seconds()));
        if (total > 0 && m.step() < total) {
            long eta = Math.round(smoothedSeconds * (total - m.step()));
            sb.append(String.format(Locale.ROOT, "  ETA %d:%02d:%02d", eta / 3600, eta / 60 % 60, eta % 60));
        }
        return sb.toString();
    }

    @Override
    public void checkpointRejected(Path checkpoint, String problem, Path setAside, Path previous) {
        err.println("warning: checkpoint " + checkpoint + " is damaged and was set aside as " + setAside.getFileName()
                + ": " + problem + (previous != null ? "; trying the previous one, " + previous.getFileName() : ""));
        err.flush();
    }

    @Override
    public void checkpointWritten(long step, Path directory) {
        if (interactive) {
            err.println();
        }
        err.println("checkpoint " + directory);
        err.flush();
    }

    @Override
    public void samplesWritten(long step, Path png) {
        if (interactive) {
            err.println();
        }
        err.println("samples " + png);
        err.flush();
    }

    @Override
    public void finished(long step, boolean cancelled) {
        err.println(cancelled ? "stopped at step " + step + " (resume with --resume)" : "done after " + step + " steps");
        err.flush();
    }
}
