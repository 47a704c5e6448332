package io.github.glidejava.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The worker side of {@code ../shared/peer/drive.py}: {@code READY ...} once set up; on {@code run} one unit of
 * work, answered {@code T <seconds> <details>}; on {@code rss} {@code RSS VmHWM=<n>kB VmRSS=<n>kB}; on {@code quit}
 * exit. The peak (VmHWM) is reset just before {@code READY}, so it is the peak of the work alone.
 */
final class WorkerProtocol {
    /** One unit of work; returns the details printed after its time. */
    @FunctionalInterface
    interface Unit {
        String run() throws Exception;
    }

    private WorkerProtocol() {
    }

    /** Prints {@code READY <readyDetails>} and answers the driver's commands until {@code quit} or end of input. */
    static void serve(String readyDetails, Unit unit) throws Exception {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException e) {
            // not Linux or not permitted: VmHWM then includes the set-up
        }
        System.out.println("READY " + readyDetails);
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            switch (line.trim()) {
                case "run" -> {
                    long s0 = System.nanoTime();
                    String details = unit.run();
                    System.out.printf(Locale.ROOT, "T %.4f %s%n", (System.nanoTime() - s0) / 1e9, details);
                }
                case "rss" -> System.out.println(rss());
                case "quit" -> {
                    return;
                }
                case "" -> { }
                default -> System.out.println("ERR unknown command '" + line.trim() + "' (run, rss, quit)");
            }
            System.out.flush();
        }
    }

    /** {@code RSS VmHWM=<n>kB VmRSS=<n>kB}: the answer to {@code rss}. */
    static String rss() throws IOException {
        return "RSS " + memory();
    }

    /** {@code VmHWM=<n>kB VmRSS=<n>kB} from {@code /proc/self/status} ({@code ?} where not available). */
    static String memory() throws IOException {
        String hwm = "?", now = "?";
        Path status = Path.of("/proc/self/status");
        if (Files.isReadable(status)) {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    hwm = line.replaceAll("\\D", "");
                } else if (line.startsWith("VmRSS:")) {
                    now = line.replaceAll("\\D", "");
                }
            }
        }
        return "VmHWM=" + hwm + "kB VmRSS=" + now + "kB";
    }
}
