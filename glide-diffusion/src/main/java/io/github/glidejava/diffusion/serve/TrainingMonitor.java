package io.github.glidejava.diffusion.serve;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a {@code glide train} output directory shows of a run in progress: its loss curve ({@code loss.png}), its
 * newest sample grid ({@code samples/step-N.png}) and the last line of {@code metrics.jsonl}. Read afresh on every
 * request: the trainer replaces these files atomically while it runs.
 */
final class TrainingMonitor {
    private static final Pattern SAMPLE = Pattern.compile("step-0*(\\d+)\\.png");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;

    TrainingMonitor(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    Path lossCurve() {
        return dir.resolve("loss.png");
    }

    /** The sample grid of the highest step, null when there is none yet. */
    Path latestSamples() {
        Path samples = dir.resolve("samples");
        if (!Files.isDirectory(samples)) {
            return null;
        }
        try (Stream<Path> files = Files.list(samples)) {
            return files.filter(f -> SAMPLE.matcher(f.getFileName().toString()).matches())
                    .max((a, b) -> Long.compare(step(a), step(b))).orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long step(Path samples) {
        Matcher m = SAMPLE.matcher(samples.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    Map<String, Object> describe() throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dir", dir.toAbsolutePath().toString());
        Path loss = lossCurve();
        m.put("lossCurve", Files.isRegularFile(loss)
                ? "/api/training/loss.png?t=" + Files.getLastModifiedTime(loss).toMillis() : null);
        Path samples = latestSamples();
        m.put("samplesStep", samples == null ? null : step(samples));
        m.put("samples", samples == null ? null
                : "/api/training/samples.png?step=" + step(samples));
        m.put("latest", lastMetrics());
        return m;
    }

    /** The last complete line of metrics.jsonl (null when absent or unreadable: the trainer may be writing it). */
    private JsonNode lastMetrics() throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(f)) {
            return null;
        }
        List<String> lines = Files.readAllLines(f);
        for (int i = lines.size() - 1; i >= 0; i--) {
            try {
                return JSON.readTree(lines.get(i));
            } catch (IOException e) {
                // a line being appended: take the one before
            }
        }
        return null;
    }

    /** The file's bytes, or a 404 saying it is not there yet. */
    static byte[] read(Path f, String what) throws IOException {
        try {
            return Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw ApiException.notFound("no " + what + " yet: " + f + " does not exist");
        }
    }
}
