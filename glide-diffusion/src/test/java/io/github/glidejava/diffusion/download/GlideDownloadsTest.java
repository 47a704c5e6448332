package io.github.glidejava.diffusion.download;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import io.github.glidejava.core.testing.RefFixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GlideDownloadsTest {
    @TempDir
    Path cache;
    TestFileServer server;

    @BeforeEach
    void setUp() throws IOException {
        server = new TestFileServer();
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private GlideDownloads.Builder downloads() {
        return GlideDownloads.builder().cacheDir(cache)
                .checkpointBaseUri(server.base())
                .tokenizerBaseUri(server.base().resolve("tok/"))
                .downloader(Downloader.builder().retries(0).retryDelay(Duration.ZERO).build());
    }

    @Test
    void defaultUrlsAreGlideText2ImsPublishedOnes() {
        GlideDownloads d = GlideDownloads.builder().cacheDir(cache).build();
        String dec2021 = "https://openaipublic.blob.core.windows.net/diffusion/dec-2021/";
        assertEquals(URI.create(dec2021 + "base.pt"), d.uri(GlideAsset.BASE));
        assertEquals(URI.create(dec2021 + "upsample.pt"), d.uri(GlideAsset.UPSAMPLE));
        assertEquals(URI.create(dec2021 + "base_inpaint.pt"), d.uri(GlideAsset.BASE_INPAINT));
        assertEquals(URI.create(dec2021 + "upsample_inpaint.pt"), d.uri(GlideAsset.UPSAMPLE_INPAINT));
        assertEquals(URI.create(dec2021 + "clip_image_enc.pt"), d.uri(GlideAsset.CLIP_IMAGE_ENC));
        assertEquals(URI.create(dec2021 + "clip_text_enc.pt"), d.uri(GlideAsset.CLIP_TEXT_ENC));
        assertEquals(List.of(GlideAsset.CLIP_IMAGE_ENC), DownloadSet.parse("clip/image-enc").assets());
        assertEquals(List.of(GlideAsset.CLIP_TEXT_ENC), DownloadSet.parse("CLIP/text_enc").assets());
        assertEquals(List.of(GlideAsset.CLIP_IMAGE_ENC, GlideAsset.CLIP_TEXT_ENC), DownloadSet.parse("clip").assets());
        String gpt2 = "https://openaipublic.blob.core.windows.net/gpt-2/models/124M/";
        assertEquals(URI.create(gpt2 + "encoder.json"), d.uri(GlideAsset.ENCODER_JSON));
        assertEquals(URI.create(gpt2 + "vocab.bpe"), d.uri(GlideAsset.VOCAB_BPE));
        assertEquals(cache.resolve("base_inpaint.pt"), d.path(GlideAsset.BASE_INPAINT));
    }

    @Test
    void downloadSetNamesAreGlideText2ImsCheckpointNames() {
        assertEquals(DownloadSet.BASE_INPAINT, DownloadSet.parse("base-inpaint"));
        assertEquals(DownloadSet.UPSAMPLE_INPAINT, DownloadSet.parse("UPSAMPLE_INPAINT"));
        assertEquals(List.of(GlideAsset.values()), DownloadSet.ALL.assets());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DownloadSet.parse("huge"));
        assertTrue(e.getMessage().contains("'huge'") && e.getMessage().contains("upsample-inpaint"), e.getMessage());
    }

    @Test
    void ensureDownloadsOnceThenUsesTheCache() throws IOException {
        byte[] base = "base checkpoint bytes".getBytes(StandardCharsets.US_ASCII);
        byte[] inpaint = "inpaint checkpoint bytes".getBytes(StandardCharsets.US_ASCII);
        server.serve("base.pt", base).serve("base_inpaint.pt", inpaint);
        GlideDownloads d = downloads().build();
        assertFalse(d.isCached(GlideAsset.BASE));
        List<Path> got = d.ensure(DownloadSet.BASE, DownloadSet.BASE_INPAINT, DownloadSet.BASE);
        assertEquals(List.of(cache.resolve("base.pt"), cache.resolve("base_inpaint.pt")), got);
        assertArrayEquals(base, Files.readAllBytes(got.get(0)));
        assertArrayEquals(inpaint, Files.readAllBytes(got.get(1)));
        assertEquals(2, server.requestCount());

        d.ensure(DownloadSet.BASE);
        assertEquals(2, server.requestCount(), "a cached file is not fetched again");
        downloads().force(true).build().ensure(DownloadSet.BASE);
        assertEquals(3, server.requestCount(), "force fetches again");
    }

    @Test
    void tokenizerFilesAreCheckedAgainstGlideText2ImsCopies() throws IOException {
        // glide-text2im ships encoder.json / vocab.bpe gzip'd; the fixture set holds verbatim copies
        Path fixtures = RefFixtures.requireDir().resolve("tokenizer");
        byte[] encoder = gunzip(RefFixtures.require("tokenizer/encoder.json.gz"));
        byte[] vocab = gunzip(RefFixtures.require("tokenizer/vocab.bpe.gz"));
        server.serve("tok/encoder.json", encoder).serve("tok/vocab.bpe", vocab);
        List<Path> got = downloads().build().ensure(DownloadSet.TOKENIZER);
        assertEquals(List.of(cache.resolve("encoder.json"), cache.resolve("vocab.bpe")), got);
        assertArrayEquals(vocab, Files.readAllBytes(got.get(1)));
        assertTrue(Files.isDirectory(fixtures));
    }

    @Test
    void tokenizerFileWithWrongContentIsRejected() {
        server.serve("tok/encoder.json", "{\"a\": 1}".getBytes(StandardCharsets.UTF_8));
        DownloadException e = assertThrows(DownloadException.class,
                () -> downloads().build().ensure(GlideAsset.ENCODER_JSON));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("encoder.json")));
    }

    @Test
    void missingCheckpointNamesTheUrl() {
        DownloadException e = assertThrows(DownloadException.class, () -> downloads().build().ensure(GlideAsset.UPSAMPLE));
        assertTrue(e.getMessage().contains(server.base() + "upsample.pt") && e.getMessage().contains("404"),
                e.getMessage());
    }

    @Test
    void rejectsNonHttpBaseUrl() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GlideDownloads.builder().checkpointBaseUri(URI.create("file:///tmp/")));
        assertTrue(e.getMessage().contains("file:///tmp/"), e.getMessage());
    }

    @Test
    void cacheDirectoryPrecedence() {
        assertEquals(Path.of("/x/cache"), GlideCache.defaultDir(Map.of("GLIDE_CACHE", "/x/cache",
                "XDG_CACHE_HOME", "/y"), "/home/u"));
        assertEquals(Path.of("/y/glide-java"), GlideCache.defaultDir(Map.of("XDG_CACHE_HOME", "/y"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/glide-java"), GlideCache.defaultDir(Map.of(), "/home/u"));
    }

    @Test
    void progressLineShowsPercentBytesRateAndEta() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        long[] now = {0};
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(buf, true, StandardCharsets.UTF_8), false,
                () -> now[0]);
        Path target = Path.of("base.pt");
        URI uri = URI.create("http://127.0.0.1/base.pt");
        p.started(uri, target, 0, 4L << 20);
        now[0] = 1_000_000_000L;
        p.progress(uri, target, 1L << 20, 4L << 20);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("base.pt   25% [======>"), out);
        assertTrue(out.contains("1.0 MiB / 4.0 MiB  1.0 MiB/s  ETA 0:03"), out);
        assertEquals("1.5 KiB", ConsoleProgress.bytes(1536));
        assertEquals("1:02:05", ConsoleProgress.duration(3725));
    }

    /** Feeds a download of {@code total} bytes (-1: unknown) in 64 KiB updates; returns the lines printed. */
    private static List<String> download(long total, long size, long nanosPerUpdate) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        long[] now = {0};
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(buf, true, StandardCharsets.UTF_8), false,
                () -> now[0]);
        Path target = Path.of("base.pt");
        URI uri = URI.create("http://127.0.0.1/base.pt");
        p.started(uri, target, 0, total);
        for (long done = 64 << 10; done <= size; done += 64 << 10) {
            now[0] += nanosPerUpdate;
            p.progress(uri, target, done, total);
        }
        p.finished(uri, target, size);
        return buf.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void withoutATerminalDownloadProgressIsAFewLines() {
        long size = 64L << 20; // 1024 updates
        List<String> fast = download(size, size, 1_000_000L); // ~1 s in all
        assertEquals(2, fast.size(), String.join("\n", fast));
        assertTrue(fast.get(1).contains("100% ["), fast.get(1));
        List<String> slow = download(size, size, 100_000_000L); // ~100 s in all
        assertEquals(11, slow.size(), String.join("\n", slow));
        assertTrue(slow.get(5).contains(" 50% ["), slow.get(5));
        List<String> unknown = download(-1, size, 1_000_000L);
        assertEquals(2, unknown.size(), String.join("\n", unknown));
        assertTrue(unknown.get(1).contains("100% [") && unknown.get(1).contains("64.0 MiB / 64.0 MiB"),
                "the completed size is logged: " + unknown.get(1));
    }

    private static byte[] gunzip(Path gz) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            return in.readAllBytes();
        }
    }
}
