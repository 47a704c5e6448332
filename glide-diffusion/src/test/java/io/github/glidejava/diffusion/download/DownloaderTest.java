package io.github.glidejava.diffusion.download;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloaderTest {
    @TempDir
    Path dir;
    TestFileServer server;
    byte[] content;
    final List<String> events = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        server = new TestFileServer();
        content = new byte[200_000];
        new Random(42).nextBytes(content);
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private Downloader downloader(int retries) {
        return Downloader.builder().retries(retries).retryDelay(Duration.ZERO)
                .listener(new DownloadListener() {
                    @Override
                    public void started(URI uri, Path target, long resumedFrom, long total) {
                        events.add("started " + resumedFrom + "/" + total);
                    }

                    @Override
                    public void retrying(URI uri, Path target, int attempt, long delayMillis, DownloadException e) {
                        events.add("retrying " + attempt);
                    }

                    @Override
                    public void finished(URI uri, Path target, long size) {
                        events.add("finished " + size);
                    }
                }).build();
    }

    private Path target() {
        return dir.resolve("sub").resolve("model.pt");
    }

    @Test
    void downloadsWholeFileAndLeavesNoPartFile() throws IOException {
        server.serve("model.pt", content);
        Path got = downloader(0).fetch(server.uri("model.pt"), target(), null);
        assertEquals(target(), got);
        assertArrayEquals(content, Files.readAllBytes(got));
        assertFalse(Files.exists(Downloader.partFile(target())));
        assertEquals(List.of("started 0/200000", "finished 200000"), events);
        assertNull(server.requests.get(0).range());
    }

    @Test
    void resumesWithRangeAfterConnectionIsCutMidFile() throws IOException {
        int cutAt = 70_000;
        server.on("model.pt", (ex, from, n) ->
                TestFileServer.sendRange(ex, content, from, n == 0 ? cutAt : content.length - from));
        Path got = downloader(2).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(got));
        assertEquals(2, server.requestCount());
        assertNull(server.requests.get(0).range());
        assertEquals("bytes=" + cutAt + "-", server.requests.get(1).range());
        assertEquals(List.of("started 0/200000", "retrying 1", "started " + cutAt + "/200000", "finished 200000"),
                events);
    }

    @Test
    void cutConnectionWithoutRetriesKeepsPartFileAndNextCallResumes() throws IOException {
        int cutAt = 50_000;
        server.on("model.pt", (ex, from, n) ->
                TestFileServer.sendRange(ex, content, from, n == 0 ? cutAt : content.length - from));
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(0).fetch(server.uri("model.pt"), target(), null));
        assertTrue(e.isRetryable());
        assertTrue(e.getMessage().contains(cutAt + " of " + content.length), e.getMessage());
        assertFalse(Files.exists(target()), "no partial file under the final name");
        assertArrayEquals(Arrays.copyOf(content, cutAt), Files.readAllBytes(Downloader.partFile(target())));

        Path got = downloader(0).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(got));
        assertEquals("bytes=" + cutAt + "-", server.requests.get(1).range());
    }

    @Test
    void resumesFromExistingPartFile() throws IOException {
        server.serve("model.pt", content);
        Files.createDirectories(target().getParent());
        Files.write(Downloader.partFile(target()), Arrays.copyOf(content, 12_345));
        downloader(0).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertEquals("bytes=12345-", server.requests.get(0).range());
        assertEquals(1, server.requestCount());
    }

    @Test
    void serverIgnoringRangeRestartsFromZero() throws IOException {
        server.on("model.pt", (ex, from, n) -> TestFileServer.sendRange(ex, content, 0, content.length));
        Files.createDirectories(target().getParent());
        byte[] stale = new byte[777];
        Arrays.fill(stale, (byte) 7);
        Files.write(Downloader.partFile(target()), stale);
        downloader(0).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertEquals("bytes=777-", server.requests.get(0).range());
        assertEquals(List.of("started 0/200000", "finished 200000"), events);
    }

    @Test
    void completePartFileIsFinishedOn416() throws IOException {
        server.serve("model.pt", content);
        Files.createDirectories(target().getParent());
        Files.write(Downloader.partFile(target()), content);
        downloader(0).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertEquals(1, server.requestCount());
    }

    @Test
    void partFileLongerThanRemoteFileRestarts() throws IOException {
        server.serve("model.pt", content);
        Files.createDirectories(target().getParent());
        Files.write(Downloader.partFile(target()), new byte[content.length + 10]);
        downloader(1).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertEquals(List.of("bytes=" + (content.length + 10) + "-"), List.of(server.requests.get(0).range()));
        assertNull(server.requests.get(1).range());
    }

    @Test
    void notFoundIsAClearErrorAndLeavesNothing() {
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(3).fetch(server.uri("missing.pt"), target(), null));
        assertFalse(e.isRetryable());
        assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
        assertTrue(e.getMessage().contains(server.uri("missing.pt").toString()), e.getMessage());
        assertEquals(1, server.requestCount(), "a 404 is not retried");
        assertFalse(Files.exists(target()));
        assertFalse(Files.exists(Downloader.partFile(target())));
    }

    @Test
    void serverErrorIsRetried() throws IOException {
        server.on("model.pt", (ex, from, n) -> {
            if (n == 0) {
                ex.sendResponseHeaders(503, -1);
            } else {
                TestFileServer.sendRange(ex, content, from, content.length - from);
            }
        });
        downloader(1).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertEquals(2, server.requestCount());
    }

    @Test
    void moreBytesThanAnnouncedIsASizeMismatch() throws IOException {
        // 206 announcing the rest of a 2000-byte file, but (chunked) sending 1500 bytes after byte 1000
        server.on("model.pt", (ex, from, n) -> {
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-1999/2000");
            ex.sendResponseHeaders(206, 0);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(content, (int) from, 1500);
            }
        });
        Files.createDirectories(target().getParent());
        Files.write(Downloader.partFile(target()), Arrays.copyOf(content, 1000));
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(3).fetch(server.uri("model.pt"), target(), null));
        assertTrue(e.getMessage().contains("size mismatch") && e.getMessage().contains("2000"), e.getMessage());
        assertFalse(e.isRetryable());
        assertFalse(Files.exists(target()));
        assertFalse(Files.exists(Downloader.partFile(target())), "an untrustworthy partial file is removed");
    }

    @Test
    void persistentlyShortBodyGivesUpWithAResumableError() throws IOException {
        // Content-Range announces the rest of the file, but the (chunked) body always ends cleanly 1000 bytes later
        server.on("model.pt", (ex, from, n) -> {
            ex.getResponseHeaders().add("Content-Range",
                    "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
            ex.sendResponseHeaders(206, 0);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(content, (int) from, 1000);
            }
        });
        Files.createDirectories(target().getParent());
        Files.write(Downloader.partFile(target()), Arrays.copyOf(content, 1000));
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(2).fetch(server.uri("model.pt"), target(), null));
        assertTrue(e.isRetryable());
        assertTrue(e.getMessage().contains("gave up after 3 attempts"), e.getMessage());
        assertEquals(3, server.requestCount());
        assertArrayEquals(Arrays.copyOf(content, 4000), Files.readAllBytes(Downloader.partFile(target())));
    }

    @Test
    void inconsistentContentRangeAndLengthIsRejected() throws IOException {
        server.on("model.pt", (ex, from, n) -> {
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-2999/3000");
            ex.sendResponseHeaders(206, 10);
            ex.getResponseBody().write(new byte[10]);
        });
        Files.createDirectories(target().getParent());
        Files.write(Downloader.partFile(target()), new byte[1000]);
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(0).fetch(server.uri("model.pt"), target(), null));
        assertTrue(e.getMessage().contains("Content-Length 10"), e.getMessage());
    }

    @Test
    void checksumMismatchDiscardsTheDownload() {
        server.serve("model.pt", content);
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(0).fetch(server.uri("model.pt"), target(), "00".repeat(32)));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertFalse(Files.exists(target()));
        assertFalse(Files.exists(Downloader.partFile(target())));
    }

    @Test
    void replacesAnExistingTargetAtomically() throws IOException {
        server.serve("model.pt", content);
        Files.createDirectories(target().getParent());
        Files.write(target(), new byte[]{1, 2, 3});
        downloader(0).fetch(server.uri("model.pt"), target(), null);
        assertArrayEquals(content, Files.readAllBytes(target()));
    }

    @Test
    void unreachableServerIsAClearError() throws IOException {
        URI uri = server.uri("model.pt");
        server.close();
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloader(0).fetch(uri, target(), null));
        assertTrue(e.getMessage().contains("cannot reach " + uri), e.getMessage());
        assertFalse(Files.exists(Downloader.partFile(target())));
    }
}
