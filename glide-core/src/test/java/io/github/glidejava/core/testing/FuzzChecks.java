package io.github.glidejava.core.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The property every fuzz target checks for each input (see docs/reliability.md):
 *
 * <ul>
 *   <li>only documented exceptions: the reader either succeeds or throws one of the target's documented types,
 *       with a message that is not blank; anything else (a NullPointerException, an IndexOutOfBoundsException, a
 *       ClassCastException from inside a library...) fails the input;</li>
 *   <li>bounded time: at most {@link #CPU_LIMIT_NANOS} of CPU time for one input (CPU time, not wall time, so a
 *       busy machine does not make slow inputs out of fast ones; a real endless loop is caught by the JUnit
 *       timeout the fuzz tests carry, which Jazzer also applies per input);</li>
 *   <li>memory bounded by the input's size: the Java heap the calling thread allocates for one input is at most
 *       {@code base + perInputByte * input.length}; the fuzzing JVMs also run under a small {@code -Xmx}, so a
 *       reader that trusts a declared size ends in an OutOfMemoryError, which Jazzer reports as a finding.</li>
 * </ul>
 */
public final class FuzzChecks {
    /** CPU time one input may take: the parsers handle a few KB in well under a millisecond. */
    public static final long CPU_LIMIT_NANOS = 2_000_000_000L;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static final java.util.concurrent.atomic.AtomicLong INPUTS = new java.util.concurrent.atomic.AtomicLong();
    private static volatile String target;
    private static final long START = System.nanoTime();

    static {
        // the figures of docs/reliability.md: inputs checked per target and JVM, in target/fuzz-stats/
        Runtime.getRuntime().addShutdownHook(new Thread(FuzzChecks::writeStats));
    }

    private FuzzChecks() {
    }

    private static void writeStats() {
        if (target == null) {
            return;
        }
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-stats"));
            String line = String.format(java.util.Locale.ROOT, "%s inputs=%d seconds=%.1f fuzzing=%s%n", target,
                    INPUTS.get(), (System.nanoTime() - START) / 1e9, System.getenv("JAZZER_FUZZ"));
            Files.writeString(dir.resolve(target + ".txt"), line, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("could not record fuzzing figures: " + e);
        }
    }

    /** A body under test; may throw anything. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    /** A heap budget: {@code base} bytes plus {@code perInputByte} for each byte of input. */
    public record Budget(long base, long perInputByte) {
        long limit(int inputBytes) {
            return base + perInputByte * inputBytes;
        }
    }

    /**
     * Runs {@code body} on an input of {@code inputBytes} bytes and checks the property; returns normally when the
     * body succeeded or failed with a documented exception, else throws an AssertionError (or lets an Error such
     * as OutOfMemoryError or StackOverflowError through) for Jazzer to report.
     */
    @SafeVarargs
    public static boolean check(int inputBytes, Budget budget, Body body, Class<? extends Exception>... documented) {
        if (target == null) {
            target = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).getCallerClass()
                    .getSimpleName();
        }
        INPUTS.incrementAndGet();
        Outcome first = measure(body, documented);
        Outcome judged = first;
        if (first.cpuNanos > CPU_LIMIT_NANOS || first.heapBytes > budget.limit(inputBytes)) {
            // once more before judging: the first use of a class loads, initialises and (under Jazzer) instruments
            // it in this thread, which costs seconds and hundreds of MB once per JVM, not per input
            judged = measure(body, documented);
        }
        if (judged.cpuNanos > CPU_LIMIT_NANOS) {
            throw new AssertionError("one input of " + inputBytes + " bytes took " + judged.cpuNanos / 1_000_000
                    + " ms of CPU time, more than the " + CPU_LIMIT_NANOS / 1_000_000 + " ms allowed");
        }
        if (judged.heapBytes > budget.limit(inputBytes)) {
            throw new AssertionError("one input of " + inputBytes + " bytes allocated " + judged.heapBytes
                    + " bytes of heap, more than its budget of " + budget.limit(inputBytes) + " (" + budget.base()
                    + " + " + budget.perInputByte() + " per input byte)");
        }
        return judged.succeeded;
    }

    private record Outcome(boolean succeeded, long cpuNanos, long heapBytes) {
    }

    @SafeVarargs
    private static Outcome measure(Body body, Class<? extends Exception>... documented) {
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long heap0 = THREADS.getCurrentThreadAllocatedBytes();
        boolean ok = true;
        try {
            body.run();
        } catch (Exception e) {
            ok = false;
            if (Arrays.stream(documented).noneMatch(t -> t.isInstance(e))) {
                throw new AssertionError("undocumented exception " + e.getClass().getName() + " (documented: "
                        + Arrays.toString(Arrays.stream(documented).map(Class::getSimpleName).toArray()) + "): "
                        + e.getMessage(), e);
            }
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError(e.getClass().getName() + " without a message: an error must say what was"
                        + " wrong and what was expected", e);
            }
        }
        return new Outcome(ok, THREADS.getCurrentThreadCpuTime() - cpu0,
                THREADS.getCurrentThreadAllocatedBytes() - heap0);
    }

    /** A scratch directory for one fuzz target, removed when the JVM ends. */
    public static Path scratch(String target) {
        try {
            Path dir = Files.createTempDirectory("glide-fuzz-" + target + "-");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces {@code file}'s content with {@code bytes} (the readers under test take paths). */
    public static Path write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
