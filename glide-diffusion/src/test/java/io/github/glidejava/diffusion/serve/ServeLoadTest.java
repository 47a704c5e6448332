package io.github.glidejava.diffusion.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link GlideServer} under 50 concurrent clients on 127.0.0.1 (a tiny model, one-step jobs): each submits a job
 * (retrying on 429 as Retry-After says, at most a second), some through an owned event stream, every third also
 * submits a long job and cancels it; all poll. Asserts that no job is lost or answered with another's image (each
 * image equals a single-job run of the same request, made before the load; the requests' images differ), that the
 * queue never holds more than its limit and refuses with 429 and a message when full, and that the server's threads
 * and the heap are back near their baseline afterwards. Latency percentiles go to the test's output.
 *
 * <p>Tagged {@code load}: it runs in {@code mvn verify}, bounded by its timeout; {@code -DexcludedGroups=load} leaves it
 * out. {@code -Dglide.load.clients=N} changes the number of clients.
 */
@Tag("load")
class ServeLoadTest {
    static final int CLIENTS = Integer.getInteger("glide.load.clients", 50);
    /** Distinct requests: client i sends request i % REQUESTS, so two clients send each at the same time. */
    static final int REQUESTS = Math.max(1, CLIENTS / 2);
    static final int QUEUE = 8;
    static final int CANCEL_STEPS = 500;
    static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(400);

    final Map<String, List<Long>> latencies = new ConcurrentHashMap<>();
    final AtomicInteger refused = new AtomicInteger();

    @Test
    @Timeout(600)
    void fiftyClientsSubmitPollAndCancelWithoutLosingOrMixingJobs() throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        ExecutorService clientThreads = Executors.newFixedThreadPool(CLIENTS, r -> {
            Thread t = new Thread(r, "load-client");
            t.setDaemon(true);
            return t;
        });
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        GlideServer server = GlideServer.builder().port(0).queueCapacity(QUEUE).keptJobs(1000)
                .model("tiny", ServeApiTest.tinyText2Im()).build().start();
        String url = "http://127.0.0.1:" + server.port();
        long started;
        try {
            // single-job runs of each request, one after the other: the images the load must reproduce
            List<int[]> expected = new ArrayList<>();
            Set<String> serverJobs = new HashSet<>();
            for (int r = 0; r < REQUESTS; r++) {
                HttpResponse<String> s = post(http, url + "/api/jobs", request(r));
                assertEquals(202, s.statusCode(), s.body());
                String id = ServeApiTest.JSON.readTree(s.body()).get("id").asText();
                serverJobs.add(id);
                JsonNode done = ServeApiTest.await(url, id);
                assertEquals("done", done.get("state").asText(), done.toString());
                expected.add(pixels(getBytes(http, url + done.at("/images/0").asText()).body()));
            }
            for (int a = 0; a < REQUESTS; a++) {
                for (int b = a + 1; b < REQUESTS; b++) {
                    assertFalse(Arrays.equals(expected.get(a), expected.get(b)), "requests " + a + " and " + b
                            + " give the same image, so a swapped image would not show");
                }
            }
            latencies.clear();
            Thread.sleep(500);
            System.gc();
            System.gc();
            long heapBaseline = memory.getHeapMemoryUsage().getUsed();
            Map<String, Long> threadBaseline = threadsByKind(before);

            // the queue, watched while the clients run
            AtomicInteger maxWaiting = new AtomicInteger();
            CountDownLatch clientsDone = new CountDownLatch(1);
            Thread watcher = new Thread(() -> {
                while (clientsDone.getCount() > 0) {
                    try {
                        JsonNode q = ServeApiTest.JSON.readTree(get(http, url + "/api/models").body())
                                .at("/models/0/queue");
                        maxWaiting.accumulateAndGet(q.get("waiting").asInt(), Math::max);
                        Thread.sleep(20);
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "load-queue-watcher");
            watcher.start();

            started = System.nanoTime();
            List<Future<ClientResult>> futures = new ArrayList<>();
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < CLIENTS; i++) {
                int client = i;
                futures.add(clientThreads.submit(() -> {
                    go.await();
                    return client(http, url, client);
                }));
            }
            go.countDown();
            List<ClientResult> results = new ArrayList<>();
            for (Future<ClientResult> f : futures) {
                results.add(f.get(DEADLINE_NANOS + TimeUnit.SECONDS.toNanos(60), TimeUnit.NANOSECONDS));
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            clientsDone.countDown();
            watcher.join(10_000);

            // no job lost, none answered with another's image
            for (ClientResult r : results) {
                assertEquals("done", r.end.get("state").asText(), "client " + r.client + ": " + r.end);
                assertArrayEquals(expected.get(r.client % REQUESTS), r.pixels, "client " + r.client + " (job "
                        + r.id + ") got the image of its request");
                serverJobs.add(r.id);
                if (r.cancelledId != null) {
                    serverJobs.add(r.cancelledId);
                    assertEquals("cancelled", r.cancelledEnd.get("state").asText(), "client " + r.client
                            + " cancelled job " + r.cancelledId + " (" + r.cancelStatus + "): " + r.cancelledEnd);
                    JsonNode step = r.cancelledEnd.at("/progress/step");
                    assertTrue(step.isMissingNode() || step.isNull() || step.asInt() < CANCEL_STEPS,
                            r.cancelledEnd.toString());
                    assertEquals(0, r.cancelledEnd.get("images").size());
                }
            }
            Set<String> listed = new HashSet<>();
            for (JsonNode j : ServeApiTest.JSON.readTree(get(http, url + "/api/jobs").body()).get("jobs")) {
                listed.add(j.get("id").asText());
                assertTrue(Set.of("done", "cancelled").contains(j.get("state").asText()), j.toString());
            }
            assertEquals(serverJobs, listed, "the server has exactly the accepted jobs, each ended");
            assertTrue(maxWaiting.get() <= QUEUE, "at most " + QUEUE + " jobs waited, saw " + maxWaiting.get());
            assertTrue(refused.get() > 0, "the queue was full at times and refused (429)");
            long cancelled = results.stream().filter(r -> r.cancelledId != null).count();

            // the server's own threads back to their baseline, the heap near it
            Map<String, Long> threadsAfter = awaitThreads(before, threadBaseline, 30);
            System.gc();
            System.gc();
            long heapAfter = memory.getHeapMemoryUsage().getUsed();

            StringBuilder report = new StringBuilder();
            report.append(String.format(Locale.ROOT, "glide serve load: %d clients, %d jobs done, %d cancelled,"
                            + " %d refusals (429), at most %d of %d waiting, %.1f s, %d CPUs%n", CLIENTS,
                    results.size(), cancelled, refused.get(), maxWaiting.get(), QUEUE, seconds,
                    Runtime.getRuntime().availableProcessors()));
            report.append(String.format(Locale.ROOT, "%-16s %6s %9s %9s %9s %9s%n", "latency (ms)", "n", "p50",
                    "p95", "p99", "max"));
            for (String kind : List.of("submit 202", "submit 429", "stream submit", "poll", "cancel", "image",
                    "job (submit-done)")) {
                List<Long> l = latencies.getOrDefault(kind, List.of());
                if (!l.isEmpty()) {
                    report.append(String.format(Locale.ROOT, "%-16s %6d %9.1f %9.1f %9.1f %9.1f%n", kind, l.size(),
                            percentile(l, 50), percentile(l, 95), percentile(l, 99), percentile(l, 100)));
                }
            }
            report.append(String.format(Locale.ROOT, "threads by kind before %s, after %s%n", threadBaseline,
                    threadsAfter));
            report.append(String.format(Locale.ROOT, "heap used before %.1f MB, after %.1f MB%n",
                    heapBaseline / 1e6, heapAfter / 1e6));
            System.out.print(report);
            assertTrue(heapAfter < heapBaseline + (64L << 20), report.toString());
        } finally {
            clientThreads.shutdownNow();
            server.close();
        }
        // closed, the server leaves no thread behind (its worker, event senders, Jetty's pool)
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<String> left;
        while (!(left = serverThreads()).isEmpty() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertEquals(List.of(), left, "threads of the closed server");
    }

    /** One client: a job to keep (polled, or streamed by every fifth client), for every third a job it cancels. */
    ClientResult client(HttpClient http, String url, int client) throws Exception {
        ClientResult r = new ClientResult(client);
        long t0 = System.nanoTime();
        boolean streamed = client % 5 == 1;
        if (streamed) {
            r.id = streamedJob(url, request(client % REQUESTS));
        } else {
            r.id = submit(http, url, request(client % REQUESTS));
        }
        if (client % 3 == 0) {
            Map<String, Object> longJob = new LinkedHashMap<>(request(client % REQUESTS));
            longJob.put("steps", CANCEL_STEPS);
            longJob.put("seed", 5000 + client);
            r.cancelledId = submit(http, url, longJob);
            Thread.sleep(ThreadLocalRandom.current().nextInt(200));
            long t = System.nanoTime();
            HttpResponse<String> c = post(http, url + "/api/jobs/" + r.cancelledId + "/cancel", Map.of());
            record("cancel", t);
            r.cancelStatus = c.statusCode();
            assertTrue(c.statusCode() == 200 || c.statusCode() == 202, c.body());
            r.cancelledEnd = poll(http, url, r.cancelledId);
        }
        r.end = poll(http, url, r.id);
        record("job (submit-done)", t0);
        if (r.end.get("images").size() > 0) {
            long t = System.nanoTime();
            r.pixels = pixels(getBytes(http, url + r.end.at("/images/0").asText()).body());
            record("image", t);
        }
        return r;
    }

    /** Submits until accepted: a 429 must carry Retry-After and say why; the client waits that long, at most 1 s. */
    String submit(HttpClient http, String url, Map<String, Object> body) throws Exception {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (true) {
            long t = System.nanoTime();
            HttpResponse<String> s = post(http, url + "/api/jobs", body);
            if (s.statusCode() == 202) {
                record("submit 202", t);
                return ServeApiTest.JSON.readTree(s.body()).get("id").asText();
            }
            record("submit 429", t);
            backOff(s.statusCode(), s.headers().firstValue("Retry-After").orElse(null), s.body(), deadline);
        }
    }

    /** Submits as an owned event stream (raw socket) and reads it to the final event; returns the job's id. */
    String streamedJob(String url, Map<String, Object> body) throws Exception {
        int port = URI.create(url).getPort();
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (true) {
            long t = System.nanoTime();
            try (RawHttp r = ServeSecurityTest.post(port, "/api/jobs", ServeDisconnectTest.STREAM,
                    ServeApiTest.JSON.writeValueAsString(body))) {
                if (r.status == 200) {
                    record("stream submit", t);
                    String id = ServeDisconnectTest.id(r);
                    RawHttp.Event e;
                    do {
                        e = r.event();
                    } while (e != null && !Set.of("done", "failed", "cancelled").contains(e.name()));
                    assertTrue(e != null && e.name().equals("done"), "job " + id + "'s stream ended with " + e);
                    return id;
                }
                record("submit 429", t);
                backOff(r.status, r.header("Retry-After"), r.body(), deadline);
            }
        }
    }

    void backOff(int status, String retryAfter, String body, long deadline) throws Exception {
        assertEquals(429, status, body);
        assertTrue(retryAfter != null && Integer.parseInt(retryAfter) >= 1, "Retry-After " + retryAfter);
        String error = ServeApiTest.JSON.readTree(body).get("error").asText();
        assertTrue(error.contains("jobs waiting, its queue's limit"), error);
        refused.incrementAndGet();
        if (System.nanoTime() > deadline) {
            throw new AssertionError("not accepted within the deadline: " + error);
        }
        Thread.sleep((long) (Math.min(1000, 1000L * Integer.parseInt(retryAfter))
                * (0.5 + 0.5 * ThreadLocalRandom.current().nextDouble())));
    }

    JsonNode poll(HttpClient http, String url, String id) throws Exception {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (true) {
            long t = System.nanoTime();
            HttpResponse<String> r = get(http, url + "/api/jobs/" + id);
            record("poll", t);
            assertEquals(200, r.statusCode(), "job " + id + " lost: " + r.body());
            JsonNode j = ServeApiTest.JSON.readTree(r.body());
            String s = j.get("state").asText();
            if (!s.equals("queued") && !s.equals("running")) {
                return j;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job " + id + " did not end: " + j);
            }
            Thread.sleep(100 + ThreadLocalRandom.current().nextInt(100));
        }
    }

    /** Request r: its own prompt and seed, one step (the point is the server, not the sampling). */
    static Map<String, Object> request(int r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", "load test " + r);
        m.put("seed", 1000 + r);
        m.put("steps", 1);
        return m;
    }

    void record(String kind, long startNanos) {
        latencies.computeIfAbsent(kind, k -> Collections.synchronizedList(new ArrayList<>()))
                .add(System.nanoTime() - startNanos);
    }

    /** The p-th percentile (nearest rank) in milliseconds. */
    static double percentile(List<Long> nanos, double p) {
        List<Long> sorted;
        synchronized (nanos) {
            sorted = nanos.stream().sorted().toList();
        }
        int rank = (int) Math.ceil(p / 100 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1))) / 1e6;
    }

    static HttpResponse<String> post(HttpClient http, String url, Map<String, Object> body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(ServeApiTest.JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<byte[]> getBytes(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    static int[] pixels(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    /**
     * Threads started since {@code before}, by kind: the server's worker ({@code glide-serve-tiny}), its event
     * senders, Jetty's pool, Javalin's async pool, the HTTP client's and the test's own.
     */
    static Map<String, Long> threadsByKind(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t) && t.isAlive())
                .collect(Collectors.groupingBy(ServeLoadTest::kind, java.util.TreeMap::new, Collectors.counting()));
    }

    static String kind(Thread t) {
        String n = t.getName();
        if (n.startsWith("glide-serve-events")) {
            return "events";
        }
        if (n.startsWith("glide-serve")) {
            return "worker";
        }
        if (n.startsWith("JettyServerThreadPool")) {
            return "jetty";
        }
        if (n.startsWith("JavalinDefaultAsyncThreadPool")) {
            return "async";
        }
        if (n.startsWith("HttpClient")) {
            return "http-client";
        }
        if (n.startsWith("load-")) {
            return "test";
        }
        return "other";
    }

    /**
     * Waits until the server's own threads are back to their baseline: no event sender left, one worker, no more
     * other threads than before. Jetty's and Javalin's pools keep idle threads up to a minute by design: they are
     * bounded and reported, and must end with the server.
     */
    static Map<String, Long> awaitThreads(Set<Thread> before, Map<String, Long> baseline, int seconds)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Map<String, Long> now;
        while (true) {
            now = threadsByKind(before);
            boolean back = now.getOrDefault("events", 0L) == 0
                    && now.getOrDefault("worker", 0L).equals(baseline.getOrDefault("worker", 0L))
                    && now.getOrDefault("other", 0L) <= baseline.getOrDefault("other", 0L)
                    && now.getOrDefault("jetty", 0L) <= 250;
            if (back) {
                return now;
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("threads not back to their baseline " + baseline + ": " + now + " "
                        + Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t))
                        .map(Thread::getName).sorted().toList());
            }
            Thread.sleep(100);
        }
    }

    /** Threads a closed server must not leave: its worker, event senders and Jetty's pool. */
    static List<String> serverThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("glide-serve") || n.startsWith("JettyServerThreadPool")).sorted().toList();
    }

    static final class ClientResult {
        final int client;
        String id;
        JsonNode end;
        int[] pixels;
        String cancelledId;
        int cancelStatus;
        JsonNode cancelledEnd;

        ClientResult(int client) {
            this.client = client;
        }
    }
}
