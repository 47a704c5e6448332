package io.github.glidejava.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

import io.github.glidejava.core.GlideBackend;

/** What a benchmark report needs to say about the machine, its load and the process's memory. */
public final class MachineInfo {
    private MachineInfo() {
    }

    /** CPU model (from /proc/cpuinfo), logical cores, flags of interest, memory, ND4J build, date. */
    public static String describe() {
        String model = "unknown CPU";
        String flags = "";
        long memKb = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && model.equals("unknown CPU")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                } else if (line.startsWith("flags") && flags.isEmpty()) {
                    String f = " " + line.substring(line.indexOf(':') + 1).trim() + " ";
                    StringBuilder sb = new StringBuilder();
                    for (String want : List.of("avx2", "fma", "avx512f")) {
                        if (f.contains(" " + want + " ")) {
                            sb.append(sb.length() == 0 ? "" : ",").append(want);
                        }
                    }
                    flags = sb.toString();
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    memKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: leave the defaults
        }
        return String.format("%s, %d logical cores (%s), %.1f GiB RAM, ND4J %s, Java %s, %s", model,
                Runtime.getRuntime().availableProcessors(), flags, memKb / 1048576.0, GlideBackend.buildDescription(),
                System.getProperty("java.version"),
                ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")));
    }

    /** The 1-minute load average (other processes on a shared machine), or -1. */
    public static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** A /proc/self/status field in bytes (VmHWM = peak resident set, VmRSS = current), or -1. */
    public static long procStatusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    /** Peak JVM heap used (sum of the heap pools' peaks since start or the last reset). */
    public static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    public static void resetPeakHeap() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            p.resetPeakUsage();
        }
    }

    /**
     * Memory as one line: peak RSS (all of the process: JVM heap, ND4J's off-heap parameters, activations and
     * workspaces, native libraries), current RSS, JVM heap peak / committed.
     */
    public static String memory() {
        Runtime rt = Runtime.getRuntime();
        return String.format("peak RSS (VmHWM) %.2f GiB, RSS now %.2f GiB, JVM heap peak used %.2f GiB (committed %.2f,"
                + " max %.2f)", gib(procStatusBytes("VmHWM")),
                gib(procStatusBytes("VmRSS")), gib(peakHeapBytes()), gib(rt.totalMemory()), gib(rt.maxMemory()));
    }

    static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }
}
