package io.github.glidejava.diffusion.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.diffusion.pipeline.GenerationParameters;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.TinyModels;
import io.github.glidejava.nn.unet.GlideModelKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON API of {@link GlideServer} over HTTP on 127.0.0.1 (a free port), with the reference fixtures' tiny
 * models: jobs and their results, bad requests (400 naming the field), the queue limit (429), cancelling, the
 * events stream, the OpenAPI description and the training monitor.
 */
class ServeApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    static GlideServer server;
    static String base;

    @BeforeAll
    static void start() throws IOException {
        server = GlideServer.builder().port(0).maxImages(4)
                .model("tiny", tinyText2Im())
                .model("tiny-inpaint", GlidePipeline.builder().base(TinyModels.model(
                        GlideModelKind.BASE_INPAINT.modelClass())).withoutUpsampler()
                        .tokenizer(TinyModels.tokenizer()).build())
                .build().start();
        base = "http://127.0.0.1:" + server.port();
    }

    static GlidePipeline tinyText2Im() throws IOException {
        return GlidePipeline.builder().base(TinyModels.model(GlideModelKind.BASE.modelClass())).withoutUpsampler()
                .tokenizer(TinyModels.tokenizer()).build();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void bindsToLoopbackByDefaultAndJoinReturnsOnClose() throws Exception {
        GlideServer s = GlideServer.builder().port(0).model("tiny", tinyText2Im()).build().start();
        assertEquals("127.0.0.1", s.host());
        assertTrue(s.url().startsWith("http://127.0.0.1:" + s.port()), s.url());
        Thread joiner = new Thread(() -> {
            try {
                s.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        joiner.start();
        s.close();
        joiner.join(10_000);
        assertFalse(joiner.isAlive(), "join() returned after close()");
        IllegalStateException e = assertThrows(IllegalStateException.class, s::start);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void builderRefusesBadSettingsNamingThem() throws IOException {
        GlidePipeline p = tinyText2Im();
        for (Object[] c : new Object[][]{{GlideServer.builder().model("m", p).port(70000), "port must be from 0"},
                {GlideServer.builder().model("m", p).queueCapacity(0), "queueCapacity must be >= 1, got 0"},
                {GlideServer.builder(), "no model"}}) {
            GlideServer.Builder b = (GlideServer.Builder) c[0];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
            assertTrue(e.getMessage().contains((String) c[1]), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GlideServer.builder().model("m", p).model("m", p));
        assertTrue(e.getMessage().contains("two models are named 'm'"), e.getMessage());
    }

    @Test
    void listsTheModelsWithTheirTasksAndDefaults() throws Exception {
        JsonNode models = get("/api/models").path("models");
        assertEquals(2, models.size());
        assertEquals("tiny", models.get(0).get("name").asText());
        assertEquals("[\"text-to-image\"]", models.get(0).get("tasks").toString());
        assertEquals("[\"inpaint\"]", models.get(1).get("tasks").toString());
        assertEquals(16, models.get(0).get("imageSize").asInt());
        assertEquals(1000, models.get(0).at("/defaults/text-to-image/maxSteps").asInt());
        assertEquals(4, models.get(0).get("maxImages").asInt());
    }

    @Test
    void textToImageJobGivesPngsWithTheirParametersAndTheSeedRepeatsThem() throws Exception {
        HttpResponse<String> r = post("/api/jobs", Map.of("model", "tiny", "prompt", "a red apple", "steps", 6,
                "seed", 7, "numImages", 2, "sampler", "ddim"));
        assertEquals(202, r.statusCode(), r.body());
        JsonNode job = JSON.readTree(r.body());
        assertEquals("/api/jobs/" + job.get("id").asText(), r.headers().firstValue("Location").orElseThrow());
        JsonNode done = await(job.get("id").asText());
        assertEquals("done", done.get("state").asText(), done.toString());
        assertEquals(2, done.get("images").size());
        assertEquals(1.0, done.at("/progress/fraction").asDouble(), 1e-9);
        assertEquals(7, done.at("/parameters/seed").asLong());
        assertEquals("ddim", done.at("/parameters/sampler").asText());
        assertEquals("6", done.at("/parameters/steps").asText());
        byte[] png = bytes(done.get("images").get(1).asText(), 200);
        GenerationParameters p = GenerationParameters.fromPngText(PngFiles.readText(png));
        assertEquals("a red apple", p.prompt());
        assertEquals(7, p.seed());
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(16, img.getWidth());
        // previews: the predicted x0 of both images side by side
        BufferedImage preview = ImageIO.read(new ByteArrayInputStream(bytes(done.get("preview").asText(), 200)));
        assertEquals(32, preview.getWidth());

        JsonNode again = await(JSON.readTree(post("/api/jobs", Map.of("model", "tiny", "prompt", "a red apple",
                "steps", 6, "seed", 7, "numImages", 2, "sampler", "ddim")).body()).get("id").asText());
        assertArrayEquals(png, bytes(again.get("images").get(1).asText(), 200));
    }

    @Test
    void badRequestsNameTheFieldAndTheLimit() throws Exception {
        assertBad(Map.of("model", "tiny"), "prompt", "required");
        assertBad(Map.of("model", "tiny", "prompt", "x", "steps", 0), "steps", "from 1 to 1000, got 0");
        assertBad(Map.of("model", "tiny", "prompt", "x", "steps", "many"), "steps", "integer");
        assertBad(Map.of("model", "tiny", "prompt", "x", "numImages", 5), "numImages", "from 1 to 4, got 5");
        assertBad(Map.of("model", "nope", "prompt", "x"), "model", "tiny, tiny-inpaint");
        assertBad(Map.of("prompt", "x"), "model", "several models");
        assertBad(Map.of("model", "tiny", "prompt", "x", "sampler", "plms"), "sampler", "ddpm");
        assertBad(Map.of("model", "tiny", "prompt", "x", "guidanceScale", -1), "guidanceScale", "from 0 to 100");
        assertBad(Map.of("model", "tiny", "prompt", "x", "seed", -3), "seed", "from 0");
        assertBad(Map.of("model", "tiny", "prompt", "x", "colour", "red"), "colour", "unknown field");
        assertBad(Map.of("model", "tiny", "prompt", "x".repeat(1001)), "prompt", "at most 1000 characters");
        assertBad(Map.of("model", "tiny", "prompt", "x", "task", "inpaint"), "task", "text-to-image, not inpaint");
        assertBad(Map.of("model", "tiny", "prompt", "x", "task", "paint"), "task", "one of");
        assertBad(Map.of("model", "tiny-inpaint", "prompt", "x"), "image", "required");
        assertBad(Map.of("model", "tiny-inpaint", "prompt", "x", "image", "not base64!"), "image", "base64");
        assertBad(Map.of("model", "tiny-inpaint", "prompt", "x", "image", png(16, 16), "mask", png(8, 16)),
                "mask", "16x16, got 8x16");
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{prompt"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode());
        assertTrue(JSON.readTree(r.body()).get("error").asText().contains("not JSON"), r.body());
    }

    @Test
    void unknownJobsAndPathsAre404Json() throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/api/jobs/999999")).GET());
        assertEquals(404, r.statusCode());
        assertTrue(JSON.readTree(r.body()).get("error").asText().contains("no job '999999'"), r.body());
        r = send(HttpRequest.newBuilder(URI.create(base + "/api/nothing")).GET());
        assertEquals(404, r.statusCode());
        assertTrue(JSON.readTree(r.body()).get("error").asText().contains("openapi"), r.body());
        r = send(HttpRequest.newBuilder(URI.create(base + "/api/training")).GET());
        assertEquals(404, r.statusCode());
        assertTrue(JSON.readTree(r.body()).get("error").asText().contains("--train-dir"), r.body());
    }

    @Test
    void inpaintsAnUploadedImageAndMaskFromAMultipartForm() throws Exception {
        Multipart form = new Multipart().field("model", "tiny-inpaint").field("prompt", "a blue sky")
                .field("steps", "4").field("seed", "3")
                .file("image", pngBytes(24, 24, 0x336699)).file("mask", pngBytes(24, 24, 0xffffff));
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/api/jobs"))
                .header("Content-Type", form.contentType()).POST(form.publisher()));
        assertEquals(202, r.statusCode(), r.body());
        JsonNode done = await(JSON.readTree(r.body()).get("id").asText());
        assertEquals("done", done.get("state").asText(), done.toString());
        assertEquals("inpaint", done.at("/parameters/task").asText());
        assertEquals(3, done.at("/parameters/seed").asLong());
    }

    @Test
    void aModelWithAnUpsamplerRunsBothStagesAndUpsamplesAnUploadedImage() throws Exception {
        GlidePipeline p = GlidePipeline.builder().base(TinyModels.model(GlideModelKind.BASE.modelClass()))
                .upsampler(TinyModels.model(GlideModelKind.UPSAMPLE.modelClass())).tokenizer(TinyModels.tokenizer())
                .upsampleSteps("3").build();
        try (GlideServer s = GlideServer.builder().port(0).model("tiny-up", p).build().start()) {
            String url = "http://127.0.0.1:" + s.port();
            JsonNode m = JSON.readTree(send(HttpRequest.newBuilder(URI.create(url + "/api/models")).GET()).body())
                    .at("/models/0");
            assertEquals("[\"text-to-image\",\"upsample\"]", m.get("tasks").toString());
            int size = m.get("imageSize").asInt();
            assertEquals(p.upsampler().imageSize(), size);
            assertEquals(3, m.at("/defaults/upsample/steps").asInt());

            JsonNode t2i = await(url, JSON.readTree(post(url, Map.of("prompt", "a", "steps", 3)).body())
                    .get("id").asText());
            assertEquals("done", t2i.get("state").asText(), t2i.toString());
            assertEquals("upsample", t2i.at("/progress/stage").asText());
            assertEquals(1.0, t2i.at("/progress/fraction").asDouble(), 1e-9);
            assertEquals(size, t2i.at("/parameters/width").asInt());

            HttpResponse<String> bad = post(url, Map.of("prompt", "a", "task", "upsample", "image", png(16, 16),
                    "guidanceScale", 3));
            assertEquals(400, bad.statusCode(), bad.body());
            assertEquals("guidanceScale", JSON.readTree(bad.body()).get("field").asText());
            JsonNode up = await(url, JSON.readTree(post(url, Map.of("prompt", "a", "task", "upsample",
                    "image", png(16, 16), "seed", 9)).body()).get("id").asText());
            assertEquals("done", up.get("state").asText(), up.toString());
            assertEquals("upsample", up.at("/parameters/task").asText());
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes(url, up.at("/images/0").asText(), 200)));
            assertEquals(size, img.getWidth());
        }
    }

    @Test
    void oversizedUploadsAreRefusedNamingTheLimit() throws Exception {
        try (GlideServer s = GlideServer.builder().port(0).maxUploadBytes(1000).model("tiny-inpaint",
                GlidePipeline.builder().base(TinyModels.model(GlideModelKind.BASE_INPAINT.modelClass()))
                        .withoutUpsampler().tokenizer(TinyModels.tokenizer()).build()).build().start()) {
            String url = "http://127.0.0.1:" + s.port() + "/api/jobs";
            byte[] big = new byte[1500];
            new java.util.Random(1).nextBytes(big);
            Multipart form = new Multipart().field("prompt", "x").file("image", big).file("mask", big);
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url))
                    .header("Content-Type", form.contentType()).POST(form.publisher()));
            assertEquals(400, r.statusCode(), r.body());
            assertEquals("image", JSON.readTree(r.body()).get("field").asText());
            assertTrue(r.body().contains("at most 1000 bytes, got 1500"), r.body());
            form = new Multipart().field("prompt", "x").file("image", new byte[5000]);
            r = send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", form.contentType())
                    .POST(form.publisher()));
            assertEquals(413, r.statusCode(), r.body());
            assertTrue(JSON.readTree(r.body()).get("error").asText().contains("at most 1000 bytes"), r.body());
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfterAndJobsCanBeCancelled(@TempDir Path dir) throws Exception {
        try (GlideServer s = GlideServer.builder().port(0).queueCapacity(1).model("tiny", tinyText2Im()).build()
                .start()) {
            String url = "http://127.0.0.1:" + s.port();
            // 1000 steps of 4 images: long enough to still be running when the next two arrive
            String running = JSON.readTree(post(url, Map.of("prompt", "a", "steps", 1000, "numImages", 4)).body())
                    .get("id").asText();
            awaitState(url, running, "running");
            HttpResponse<String> queued = post(url, Map.of("prompt", "b", "steps", 1000));
            assertEquals(202, queued.statusCode(), queued.body());
            assertEquals(1, JSON.readTree(queued.body()).get("queuePosition").asInt());
            HttpResponse<String> full = post(url, Map.of("prompt", "c"));
            assertEquals(429, full.statusCode(), full.body());
            int retry = Integer.parseInt(full.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retry >= 1, "Retry-After " + retry);
            assertTrue(JSON.readTree(full.body()).get("error").asText().contains("queue"), full.body());

            String queuedId = JSON.readTree(queued.body()).get("id").asText();
            HttpResponse<String> c = post(url + "/api/jobs/" + queuedId + "/cancel", Map.of());
            assertEquals(200, c.statusCode(), c.body());
            assertEquals("cancelled", JSON.readTree(c.body()).get("state").asText());

            c = post(url + "/api/jobs/" + running + "/cancel", Map.of());
            assertEquals(202, c.statusCode(), c.body());
            JsonNode ended = await(url, running);
            assertEquals("cancelled", ended.get("state").asText(), ended.toString());
            assertTrue(ended.at("/progress/step").asInt() < 1000, ended.toString());
            assertEquals(0, ended.get("images").size());
            assertEquals(409, post(url + "/api/jobs/" + running + "/cancel", Map.of()).statusCode());
            // the queue has room again
            assertEquals(202, post(url, Map.of("prompt", "d", "steps", 2)).statusCode());
        }
    }

    @Test
    void eventsStreamProgressPreviewsAndTheEnd() throws Exception {
        String id = JSON.readTree(post("/api/jobs", Map.of("model", "tiny", "prompt", "a cat", "steps", 20))
                .body()).get("id").asText();
        HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/jobs/" + id
                + "/events")).header("Accept", "text/event-stream").timeout(Duration.ofSeconds(120)).GET().build(),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                r.headers().map().toString());
        List<String> events = new ArrayList<>();
        String lastData = null;
        try (Stream<String> lines = r.body()) {
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (line.startsWith("event:")) {
                    events.add(line.substring(6).trim());
                } else if (line.startsWith("data:")) {
                    lastData = line.substring(5).trim();
                }
            }
        }
        assertEquals("state", events.get(0), events.toString());
        assertEquals("done", events.get(events.size() - 1), events.toString());
        assertTrue(events.contains("preview"), events.toString());
        assertTrue(events.contains("progress") || JSON.readTree(lastData).get("state").asText().equals("done"),
                events.toString());
        assertEquals(1, JSON.readTree(lastData).get("images").size());
    }

    @Test
    void servesItsOpenApiDescriptionAndAPageWithoutInternetAssets() throws Exception {
        JsonNode api = get("/api/openapi.json");
        assertTrue(api.get("openapi").asText().startsWith("3."));
        for (String path : List.of("/api/models", "/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/cancel",
                "/api/jobs/{id}/events", "/api/jobs/{id}/images/{index}.png", "/api/training")) {
            assertTrue(api.get("paths").has(path), path);
        }
        for (String asset : List.of("/", "/app.js", "/app.css")) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + asset)).GET());
            assertEquals(200, r.statusCode(), asset);
            assertFalse(r.body().matches("(?s).*(src|href)=\"(https?:)?//.*"), asset + " loads from the internet");
            assertFalse(r.body().contains("import ") && r.body().contains("http"), asset);
        }
    }

    @Test
    void monitorsATrainingDirectory(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("loss.png"), pngBytes(10, 5, 0xff0000));
        Files.createDirectories(dir.resolve("samples"));
        byte[] step20 = pngBytes(4, 4, 0x00ff00);
        Files.write(dir.resolve("samples/step-000000010.png"), pngBytes(4, 4, 0x0000ff));
        Files.write(dir.resolve("samples/step-000000020.png"), step20);
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\": 19, \"loss\": 0.5}\n{\"step\": 20, \"loss\": 0.4}\n");
        try (GlideServer s = GlideServer.builder().port(0).model("tiny", tinyText2Im()).trainDir(dir).build()
                .start()) {
            String url = "http://127.0.0.1:" + s.port();
            JsonNode t = JSON.readTree(send(HttpRequest.newBuilder(URI.create(url + "/api/training")).GET()).body());
            assertEquals(20, t.get("samplesStep").asInt());
            assertEquals(0.4, t.at("/latest/loss").asDouble());
            assertArrayEquals(step20, bytes(url, t.get("samples").asText(), 200));
            assertNotNull(ImageIO.read(new ByteArrayInputStream(bytes(url, t.get("lossCurve").asText(), 200))));
            // a newer grid is picked up on the next request
            Files.write(dir.resolve("samples/step-000000100.png"), pngBytes(4, 4, 0));
            t = JSON.readTree(send(HttpRequest.newBuilder(URI.create(url + "/api/training")).GET()).body());
            assertEquals(100, t.get("samplesStep").asInt());
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    static void assertBad(Map<String, Object> body, String field, String says) throws Exception {
        HttpResponse<String> r = post("/api/jobs", body);
        assertEquals(400, r.statusCode(), body + " -> " + r.body());
        JsonNode e = JSON.readTree(r.body());
        assertEquals(field, e.path("field").asText(), r.body());
        assertTrue(e.get("error").asText().contains(says), "expected '" + says + "' in " + r.body());
    }

    static JsonNode get(String path) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + path)).GET());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static HttpResponse<String> post(String path, Map<String, Object> body) throws Exception {
        String url = path.startsWith("http") ? (path.contains("/api/") ? path : path + "/api/jobs") : base + path;
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    }

    static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return HTTP.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static byte[] bytes(String path, int status) throws Exception {
        return bytes(base, path, status);
    }

    static byte[] bytes(String url, String path, int status) throws Exception {
        HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(status, r.statusCode(), path);
        return r.body();
    }

    static JsonNode await(String id) throws Exception {
        return await(base, id);
    }

    /** Polls the job until it ends (at most two minutes). */
    static JsonNode await(String url, String id) throws Exception {
        long end = System.nanoTime() + 120_000_000_000L;
        while (true) {
            JsonNode j = JSON.readTree(send(HttpRequest.newBuilder(URI.create(url + "/api/jobs/" + id)).GET()).body());
            String s = j.get("state").asText();
            if (!s.equals("queued") && !s.equals("running")) {
                return j;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("job " + id + " did not end: " + j);
            }
            Thread.sleep(50);
        }
    }

    static void awaitState(String url, String id, String state) throws Exception {
        long end = System.nanoTime() + 60_000_000_000L;
        while (true) {
            JsonNode j = JSON.readTree(send(HttpRequest.newBuilder(URI.create(url + "/api/jobs/" + id)).GET()).body());
            if (j.get("state").asText().equals(state)) {
                return;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("job " + id + " never became " + state + ": " + j);
            }
            Thread.sleep(20);
        }
    }

    static byte[] pngBytes(int w, int h, int rgb) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    static String png(int w, int h) throws IOException {
        return "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(pngBytes(w, h, 0x808080));
    }

    /** A multipart/form-data body (java.net.http has none). */
    static final class Multipart {
        private final String boundary = "----glide" + System.nanoTime();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Multipart field(String name, String value) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value
                    + "\r\n");
            return this;
        }

        Multipart file(String name, byte[] content) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + name
                    + ".png\"\r\nContent-Type: image/png\r\n\r\n");
            out.writeBytes(content);
            write("\r\n");
            return this;
        }

        String contentType() {
            return "multipart/form-data; boundary=" + boundary;
        }

        HttpRequest.BodyPublisher publisher() {
            write("--" + boundary + "--\r\n");
            return HttpRequest.BodyPublishers.ofByteArray(out.toByteArray());
        }

        private void write(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        }
    }
}
