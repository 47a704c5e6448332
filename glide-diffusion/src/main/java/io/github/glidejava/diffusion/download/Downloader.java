package io.github.glidejava.diffusion.download;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fetches one URL into one file, resumably.
 *
 * <p>Bytes go to {@code <target>.part}; when a {@code .part} file is already there (an earlier run was cut off) the
 * download continues from its end with an HTTP {@code Range} request. A server that ignores the range (answers 200)
 * makes the download start again from byte 0. The received size is checked against {@code Content-Length} /
 * {@code Content-Range} (and an optional SHA-256); only a complete, checked file is renamed atomically to the target,
 * so the target path never holds a partial file. The {@code .part} file is locked while in use, so two processes
 * cannot write it at once. Cut connections and server errors are retried (resuming) a few times.
 *
 * <p>Instances are immutable and thread-safe; different targets may be fetched concurrently.
 */
public final class Downloader {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");
    private static final Pattern UNSATISFIED_RANGE = Pattern.compile("bytes\\s+\\*/(\\d+)");
    private static final int BUFFER = 1 << 16;

    private final HttpClient client;
    private final int retries;
    private final Duration retryDelay;
    private final Duration requestTimeout;
    private final DownloadListener listener;

    private Downloader(Builder b) {
        this.client = b.client != null ? b.client : HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(b.connectTimeout)
                .build();
        this.retries = b.retries;
        this.retryDelay = b.retryDelay;
        this.requestTimeout = b.requestTimeout;
        this.listener = b.listener;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The partial file used while {@code target} is being downloaded. */
    public static Path partFile(Path target) {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    /**
     * Downloads {@code uri} to {@code target} (replacing it), resuming from {@code target.part} when present.
     *
     * @param expectedSha256 lower-case hex SHA-256 the complete file must have, or null to skip the check
     * @return {@code target}
     * @throws DownloadException when the file cannot be fetched completely; a retryable failure leaves the partial
     *                           file in place so that the next call resumes
     */
    public Path fetch(URI uri, Path target, String expectedSha256) throws IOException {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(target, "target");
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path part = partFile(target);
        boolean locked = false;
        boolean done = false;
        try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new DownloadException("another download is writing " + part + "; wait for it to finish");
            }
            locked = true;
            try {
                long size = downloadWithRetries(uri, target, ch);
                ch.force(true);
                if (expectedSha256 != null) {
                    checkSha256(uri, ch, part, expectedSha256);
                }
                listener.finished(uri, target, size);
                moveIntoPlace(part, target);
                done = true;
            } finally {
                if (lock.isValid()) {
                    lock.release();
                }
            }
        } finally {
            // an empty partial file is of no use for a resume; never touch one another process holds
            if (locked && !done && Files.isRegularFile(part) && Files.size(part) == 0) {
                Files.deleteIfExists(part);
            }
        }
        return target;
    }

    private long downloadWithRetries(URI uri, Path target, FileChannel ch) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return attempt(uri, target, ch);
            } catch (DownloadException e) {
                if (!e.isRetryable() || attempt > retries) {
                    if (!e.isRetryable()) {
                        ch.truncate(0); // the partial bytes cannot be trusted for a resume
                    }
                    throw attempt > 1 && e.isRetryable()
                            ? new DownloadException(e.getMessage() + " (gave up after " + attempt
                            + " attempts; run the download again to resume from " + ch.size() + " bytes)", true, e)
                            : e;
                }
                long delay = retryDelay.toMillis() << Math.min(attempt - 1, 4);
                listener.retrying(uri, target, attempt, delay, e);
                sleep(delay);
            }
        }
    }

    /** One request. Returns the complete size, or throws. */
    private long attempt(URI uri, Path target, FileChannel ch) throws IOException {
        long have = ch.size();
        HttpResponse<InputStream> response = send(uri, have);
        try (InputStream body = response.body()) {
            int status = response.statusCode();
            long start;
            long total;
            if (status == 200) {
                start = 0;
                total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            } else if (status == 206) {
                String cr = response.headers().firstValue("Content-Range").orElse("");
                Matcher m = CONTENT_RANGE.matcher(cr);
                if (!m.matches()) {
                    throw new DownloadException("bad Content-Range '" + cr + "' from " + uri
                            + " for a request from byte " + have);
                }
                start = Long.parseLong(m.group(1));
                total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
                if (start != have) {
                    // a range other than the one asked for: the partial file cannot be extended safely
                    ch.truncate(0);
                    throw new DownloadException("server at " + uri + " answered range request from byte " + have
                            + " with bytes from " + start + "; restarting from byte 0", true, null);
                }
                long expectedBody = Long.parseLong(m.group(2)) - start + 1;
                OptionalLong cl = response.headers().firstValueAsLong("Content-Length");
                if (cl.isPresent() && cl.getAsLong() != expectedBody) {
                    throw new DownloadException("inconsistent answer from " + uri + ": Content-Range " + cr
                            + " but Content-Length " + cl.getAsLong());
                }
            } else if (status == 416 && have > 0) {
                String cr = response.headers().firstValue("Content-Range").orElse("");
                Matcher m = UNSATISFIED_RANGE.matcher(cr);
                if (m.matches() && Long.parseLong(m.group(1)) == have) {
                    return have; // the partial file already holds the whole file
                }
                ch.truncate(0);
                throw new DownloadException("the partial file " + partFile(target) + " (" + have
                        + " bytes) does not fit the file at " + uri + " (" + cr + "); restarting from byte 0",
                        true, null);
            } else {
                throw statusError(uri, status);
            }
            if (start == 0) {
                ch.truncate(0);
            }
            listener.started(uri, target, start, total);
            long done = copy(uri, target, body, ch, start, total);
            if (total >= 0 && done < total) {
                throw new DownloadException("connection to " + uri + " ended after " + done + " of " + total
                        + " bytes", true, null);
            }
            return done;
        }
    }

    private HttpResponse<InputStream> send(URI uri, long from) throws DownloadException {
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri).GET().timeout(requestTimeout)
                .header("User-Agent", "glide-java");
        if (from > 0) {
            rb.header("Range", "bytes=" + from + "-");
        }
        try {
            return client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException("interrupted while connecting to " + uri, false, e);
        } catch (IllegalArgumentException e) {
            throw new DownloadException("cannot request " + uri + ": " + e.getMessage(), false, e);
        } catch (IOException e) {
            throw new DownloadException("cannot reach " + uri + ": " + describe(e)
                    + " (check the network connection and the download URL)", true, e);
        }
    }

    private long copy(URI uri, Path target, InputStream body, FileChannel ch, long start, long total)
            throws IOException {
        byte[] buf = new byte[BUFFER];
        long pos = start;
        listener.progress(uri, target, pos, total);
        while (true) {
            int n;
            try {
                n = body.read(buf);
            } catch (IOException e) {
                throw new DownloadException("connection to " + uri + " broke after " + pos
                        + (total >= 0 ? " of " + total : "") + " bytes: " + describe(e), true, e);
            }
            if (n < 0) {
                return pos;
            }
            if (total >= 0 && pos + n > total) {
                throw new DownloadException("size mismatch for " + uri + ": the server announced " + total
                        + " bytes but sent more; the download was discarded (is the URL right?)");
            }
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
            while (bb.hasRemaining()) {
                pos += ch.write(bb, pos);
            }
            listener.progress(uri, target, pos, total);
        }
    }

    private static DownloadException statusError(URI uri, int status) {
        String what = switch (status) {
            case 401, 403 -> "access denied";
            case 404, 410 -> "not found";
            case 416 -> "range not satisfiable";
            case 429 -> "too many requests";
            default -> status >= 500 ? "server error" : "unexpected status";
        };
        boolean retryable = status >= 500 || status == 429 || status == 408;
        String advice = status == 404 || status == 410
                ? "; the file is not published at this address, check the base URL"
                : retryable ? "" : "; check the URL";
        return new DownloadException("HTTP " + status + " (" + what + ") for " + uri + advice, retryable, null);
    }

    private static void checkSha256(URI uri, FileChannel ch, Path part, String expected) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        ByteBuffer bb = ByteBuffer.allocate(BUFFER);
        long pos = 0;
        int n;
        while ((n = ch.read(bb, pos)) > 0) {
            bb.flip();
            md.update(bb);
            bb.clear();
            pos += n;
        }
        String actual = HexFormat.of().formatHex(md.digest());
        if (!actual.equals(expected.toLowerCase(Locale.ROOT))) {
            ch.truncate(0);
            throw new DownloadException("checksum mismatch for " + uri + ": expected SHA-256 " + expected
                    + " but got " + actual + "; the download was discarded (" + part + ")");
        }
    }

    private static void moveIntoPlace(Path part, Path target) throws IOException {
        try {
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    private static void sleep(long millis) throws DownloadException {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException("interrupted while waiting to retry", false, e);
        }
    }

    public static final class Builder {
        private HttpClient client;
        private int retries = 4;
        private Duration retryDelay = Duration.ofSeconds(1);
        private Duration connectTimeout = Duration.ofSeconds(30);
        private Duration requestTimeout = Duration.ofSeconds(60);
        private DownloadListener listener = DownloadListener.NONE;

        private Builder() {
        }

        /** A client of your own (proxy, TLS settings); by default one that follows redirects. */
        public Builder httpClient(HttpClient client) {
            this.client = Objects.requireNonNull(client, "client");
            return this;
        }

        /** How many times a cut connection or server error is retried (resuming); default 4. */
        public Builder retries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must be >= 0, got " + retries);
            }
            this.retries = retries;
            return this;
        }

        /** Delay before the first retry, doubled for each further one; default 1 s. */
        public Builder retryDelay(Duration delay) {
            if (delay.isNegative()) {
                throw new IllegalArgumentException("retry delay must not be negative, got " + delay);
            }
            this.retryDelay = delay;
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Time allowed until the response headers arrive. */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        public Builder listener(DownloadListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        public Downloader build() {
            return new Downloader(this);
        }
    }
}
