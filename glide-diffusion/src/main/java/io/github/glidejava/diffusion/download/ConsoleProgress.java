package io.github.glidejava.diffusion.download;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A text progress bar for downloads: file name, percentage, bytes, rate and ETA, e.g.
 * {@code base.pt  42% [========>           ]  512.0 MiB / 1.2 GiB  23.4 MiB/s  ETA 0:32}.
 *
 * <p>On a terminal the line is redrawn in place (at most 10 times a second). Otherwise (a log file, CI) it prints
 * the first update and the completed file, and in between at most one line per 10% of the file (per 128 MiB when
 * the size is unknown), none sooner than {@value #MIN_INTERVAL_SECONDS} s after the previous one, so that logs stay
 * short.
 */
public final class ConsoleProgress implements DownloadListener {
    private static final int BAR = 24;
    private static final long REDRAW_NANOS = 100_000_000L;
    static final int MIN_INTERVAL_SECONDS = 2;
    private static final long MIN_INTERVAL_NANOS = MIN_INTERVAL_SECONDS * 1_000_000_000L;

    private final PrintWriter out;
    private final boolean interactive;
    private final LongSupplier clock;
    private long startNanos;
    private long startBytes;
    private long lastDraw;
    private long lastLine;
    private long lastBucket;
    private long lastLoggedDone;
    private int lastWidth;

    public ConsoleProgress(PrintWriter out, boolean interactive) {
        this(out, interactive, System::nanoTime);
    }

    ConsoleProgress(PrintWriter out, boolean interactive, LongSupplier clock) {
        this.out = out;
        this.interactive = interactive;
        this.clock = clock;
    }

    /** A bar on standard error, redrawn in place when a console is attached. */
    public static ConsoleProgress stderr() {
        return new ConsoleProgress(new PrintWriter(System.err, true, StandardCharsets.UTF_8), System.console() != null);
    }

    @Override
    public synchronized void started(URI uri, Path target, long resumedFrom, long total) {
        startNanos = clock.getAsLong();
        startBytes = resumedFrom;
        lastDraw = Long.MIN_VALUE;
        lastBucket = -1;
        lastLoggedDone = -1;
        lastWidth = 0;
        if (resumedFrom > 0) {
            println("resuming " + target.getFileName() + " from " + bytes(resumedFrom));
        }
    }

    @Override
    public synchronized void progress(URI uri, Path target, long done, long total) {
        long now = clock.getAsLong();
        if (interactive) {
            if (now - lastDraw < REDRAW_NANOS && done != total) {
                return;
            }
            lastDraw = now;
            String line = line(target, done, total, now);
            out.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            lastWidth = line.length();
            out.flush();
        } else {
            long bucket = total > 0 ? done * 10 / total : done >> 27; // unknown size: every 128 MiB
            boolean first = lastBucket < 0;
            boolean complete = total > 0 && done >= total;
            boolean due = bucket > lastBucket && now - lastLine >= MIN_INTERVAL_NANOS;
            if ((first || complete || due) && done != lastLoggedDone) {
                lastBucket = bucket;
                lastLine = now;
                lastLoggedDone = done;
                out.println(line(target, done, total, now));
                out.flush();
            }
        }
    }

    @Override
    public synchronized void retrying(URI uri, Path target, int attempt, long delayMillis, DownloadException cause) {
        println(cause.getMessage() + "; retrying in " + (delayMillis / 1000.0) + " s (attempt " + (attempt + 1) + ")");
    }

    @Override
    public synchronized void finished(URI uri, Path target, long size) {
        if (interactive && lastWidth > 0) {
            out.println();
            lastWidth = 0;
        } else if (!interactive && lastLoggedDone != size) {
            lastLoggedDone = size;
            out.println(line(target, size, size, clock.getAsLong()));
        }
        out.flush();
    }

    private void println(String s) {
        if (interactive && lastWidth > 0) {
            out.println();
            lastWidth = 0;
        }
        out.println(s);
        out.flush();
    }

    String line(Path target, long done, long total, long now) {
        double seconds = Math.max(1e-9, (now - startNanos) / 1e9);
        double rate = (done - startBytes) / seconds;
        StringBuilder sb = new StringBuilder();
        sb.append(target.getFileName()).append("  ");
        if (total > 0) {
            int pct = (int) Math.min(100, done * 100 / total);
            int filled = (int) Math.min(BAR, done * BAR / total);
            sb.append(String.format(Locale.ROOT, "%3d%% [", pct));
            sb.append("=".repeat(filled));
            if (filled < BAR) {
                sb.append('>').append(" ".repeat(BAR - filled - 1));
            }
            sb.append("]  ").append(bytes(done)).append(" / ").append(bytes(total));
        } else {
            sb.append(bytes(done));
        }
        sb.append("  ").append(bytes((long) rate)).append("/s");
        if (total > 0 && done < total && rate > 0) {
            sb.append("  ETA ").append(duration((long) Math.ceil((total - done) / rate)));
        }
        return sb.toString();
    }

    /** 1536 -> "1.5 KiB". */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** 3725 -> "1:02:05", 65 -> "1:05". */
    static String duration(long seconds) {
        long h = seconds / 3600;
        long m = seconds / 60 % 60;
        long s = seconds % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s) : String.format(Locale.ROOT, "%d:%02d", m, s);
    }
}
