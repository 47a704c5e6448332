package io.github.glidejava.diffusion.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import io.javalin.http.sse.SseClient;
import io.javalin.http.sse.SseHandler;
import io.javalin.http.staticfiles.Location;

/**
 * {@code glide serve}: a local web studio and JSON API over loaded pipelines (Javalin). Each model has its own
 * worker that runs one job at a time from a bounded queue; a full queue answers 429 with {@code Retry-After}.
 * Progress and previews of the predicted x0 stream as Server-Sent Events; the API is described by
 * {@code /api/openapi.json}; the page ({@code /}) and its assets come from the class path, nothing from the
 * internet.
 *
 * <p>A browser must not let another site drive the server: a state-changing request (POST, PUT, PATCH, DELETE)
 * whose {@code Origin} is not the server's own, or that a browser marks {@code Sec-Fetch-Site: cross-site}, is
 * refused with 403, and no CORS headers are sent except to the origins allowed with {@link Builder#allowOrigin}.
 * Bound to a loopback address, the server also refuses a {@code Host} that is not localhost or a loopback address
 * (DNS rebinding). A job submitted with {@code Accept: text/event-stream} is answered with its event stream and
 * belongs to that connection: closing it cancels the job.
 *
 * <pre>{@code
 * try (GlideServer server = GlideServer.builder()
 *         .model("emoji32", GlidePipeline.builder().embeddedModel().build())
 *         .port(7860).build().start()) {
 *     server.join();
 * }
 * }</pre>
 */
public final class GlideServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEB = "/io/github/glidejava/diffusion/serve/web";
    private static final String OPENAPI = "/io/github/glidejava/diffusion/serve/openapi.json";
    /** Events waiting for a slow client beyond which its progress and previews are dropped. */
    private static final int MAX_PENDING_EVENTS = 64;
    /** Idle seconds after which an events stream gets a comment (a closed connection is only seen on a write). */
    private static final int KEEP_ALIVE_SECONDS = 15;
    /** The same for a stream that owns its job: its disconnection must cancel a queued job soon. */
    private static final int OWNER_KEEP_ALIVE_SECONDS = 1;
    private static final String EVENT_STREAM = "text/event-stream";
    private static final Set<String> STATE_CHANGING = Set.of("POST", "PUT", "PATCH", "DELETE");

    private final String host;
    private final int port;
    private final Map<String, ServedModel> models;
    private final ServerLimits limits;
    private final int previewEvery;
    private final int keptJobs;
    private final TrainingMonitor training;
    private final Set<String> allowedOrigins;
    private final Set<String> allowedHosts;
    private final boolean loopback;
    private final Map<String, Job> jobs = Collections.synchronizedMap(new LinkedHashMap<>());
    private final AtomicLong nextId = new AtomicLong(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Javalin app;

    private GlideServer(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.limits = new ServerLimits(b.maxSteps, b.maxImages, b.maxPromptLength, b.maxUploadBytes, b.maxImageSide);
        this.previewEvery = b.previewEvery;
        this.keptJobs = b.keptJobs;
        this.training = b.trainDir == null ? null : new TrainingMonitor(b.trainDir);
        this.allowedOrigins = Set.copyOf(b.allowedOrigins);
        this.allowedHosts = Set.copyOf(b.allowedHosts);
        this.loopback = isLoopback(b.host);
        Map<String, ServedModel> m = new LinkedHashMap<>();
        b.pipelines.forEach((name, p) -> m.put(name, new ServedModel(name, p, b.queueCapacity)));
        this.models = Collections.unmodifiableMap(m);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds the port and starts serving; returns this. */
    public synchronized GlideServer start() {
        if (app != null || stopped.getCount() == 0) {
            throw new IllegalStateException("the server is " + (app != null ? "already started" : "closed: build a"
                    + " new one"));
        }
        app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.startupWatcherEnabled = false;
            config.http.maxRequestSize = 4L * limits.maxUploadBytes() + 65536;
            // twice the limit, so that JobRequest's own check, which names the field, sees most oversized files
            config.jetty.multipartConfig.maxFileSize(2L * limits.maxUploadBytes(), SizeUnit.BYTES);
            config.jetty.multipartConfig.maxTotalRequestSize(4L * limits.maxUploadBytes() + 65536, SizeUnit.BYTES);
            config.staticFiles.add(s -> {
                s.hostedPath = "/";
                s.directory = WEB;
                s.location = Location.CLASSPATH;
            });
        });
        routes(app);
        app.start(host, port);
        return this;
    }

    /** The port the server listens on (the chosen one when built with port 0). */
    public int port() {
        if (app == null) {
            throw new IllegalStateException("the server is not started");
        }
        return app.port();
    }

    public String host() {
        return host;
    }

    /** The page's address, e.g. {@code http://127.0.0.1:7860/}. */
    public String url() {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return "http://" + h + ":" + port() + "/";
    }

    /** Blocks until the server is closed (by another thread, or the JVM's shutdown on Ctrl-C). */
    public void join() throws InterruptedException {
        stopped.await();
    }

    /** Stops serving and the models' workers (running jobs are interrupted); a closed server stays closed. */
    @Override
    public synchronized void close() {
        if (app != null) {
            app.stop();
            app = null;
        }
        models.values().forEach(ServedModel::shutdown);
        stopped.countDown();
    }

    // ---- routes ---------------------------------------------------------------------------------------------------

    private void routes(Javalin a) {
        a.before(this::guard);
        // CORS preflight: answered for the allowed origins only (guard has set their headers)
        a.options("/api/*", ctx -> {
            String origin = ctx.header("Origin");
            if (origin != null && !allowedOrigins.contains(origin.toLowerCase(Locale.ROOT))) {
                throw crossSite("Origin " + origin + " is not this server's");
            }
            ctx.header("Allow", "GET, POST, OPTIONS").status(204);
        });
        a.exception(ApiException.class, (e, ctx) -> {
            if (e.retryAfterSeconds != null) {
                ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds));
            }
            json(ctx.status(e.status), e.body());
        });
        // Javalin's own refusals (no such route, body too large) as JSON too
        a.exception(HttpResponseException.class, (e, ctx) -> json(ctx.status(e.getStatus()), Map.of("error",
                e.getStatus() == 404 ? notFound(ctx) : e.getMessage() + (e.getStatus() == 413
                        ? " (uploads: at most " + limits.maxUploadBytes() + " bytes per picture)" : ""))));
        a.exception(Exception.class, (e, ctx) -> json(ctx.status(500), Map.of("error",
                "internal error: " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()))));
        a.error(404, ctx -> {
            // unknown API paths get JSON too (Javalin's own 404 is plain text); ApiException 404s are JSON already
            String type = ctx.res().getContentType();
            if (ctx.path().startsWith("/api/") && (type == null || !type.startsWith("application/json"))) {
                json(ctx, Map.of("error", notFound(ctx)));
            }
        });
        a.get("/api/openapi.json", ctx -> {
            try (InputStream in = GlideServer.class.getResourceAsStream(OPENAPI)) {
                ctx.contentType("application/json").result(Objects.requireNonNull(in, OPENAPI).readAllBytes());
            }
        });
        a.get("/api/models", ctx -> json(ctx, Map.of("models", models.values().stream()
                .map(m -> m.describe(limits)).toList())));
        a.post("/api/jobs", this::submit);
        a.get("/api/jobs", ctx -> {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Job j : jobsNewestFirst()) {
                list.add(j.snapshot());
            }
            json(ctx, Map.of("jobs", list));
        });
        a.get("/api/jobs/{id}", ctx -> json(ctx, job(ctx).snapshot()));
        a.post("/api/jobs/{id}/cancel", ctx -> {
            Job j = job(ctx);
            if (!j.cancel()) {
                throw new ApiException(409, null, "job " + j.id + " has already ended (" + j.state().id()
                        + "); only queued or running jobs can be cancelled");
            }
            Map<String, Object> s = j.snapshot();
            json(ctx.status(s.get("state").equals(Job.State.CANCELLED.id()) ? 200 : 202), s);
        });
        a.get("/api/jobs/{id}/preview.png", ctx -> {
            Job j = job(ctx);
            byte[] p = j.preview();
            if (p == null) {
                throw ApiException.notFound("job " + j.id + " has no preview yet (state " + j.state().id() + ")");
            }
            ctx.header("Cache-Control", "no-store").contentType("image/png").result(p);
        });
        a.get("/api/jobs/{id}/images/{file}", ctx -> {
            Job j = job(ctx);
            String file = ctx.pathParam("file");
            List<byte[]> images = j.images();
            int i = -1;
            if (file.matches("\\d{1,4}\\.png")) {
                i = Integer.parseInt(file.substring(0, file.length() - 4));
            }
            if (i < 0 || i >= images.size()) {
                throw ApiException.notFound("job " + j.id + " has " + images.size() + " image(s) (state "
                        + j.state().id() + "); ask for 0.png to " + Math.max(0, images.size() - 1) + ".png");
            }
            ctx.contentType("image/png")
                    .header("Content-Disposition", "inline; filename=\"glide-" + j.id + "-" + i + ".png\"")
                    .result(images.get(i));
        });
        a.sse("/api/jobs/{id}/events", this::events);
        a.get("/api/training", ctx -> json(ctx, training().describe()));
        a.get("/api/training/loss.png", ctx -> png(ctx, TrainingMonitor.read(training().lossCurve(),
                "loss curve")));
        a.get("/api/training/samples.png", ctx -> {
            TrainingMonitor t = training();
            Path f = t.latestSamples();
            if (f == null) {
                throw ApiException.notFound("no sample grid yet in " + t.dir().resolve("samples"));
            }
            png(ctx, TrainingMonitor.read(f, "sample grid"));
        });
    }

    private static String notFound(Context ctx) {
        return "no such resource: " + ctx.method() + " " + ctx.path() + " (the API is described at"
                + " /api/openapi.json)";
    }

    // ---- cross-site requests and DNS rebinding --------------------------------------------------------------------

    /**
     * Refuses, before any route runs, what a browser would send on another site's behalf: a request addressed to a
     * host name that is not this machine's (DNS rebinding: a site whose name now resolves to 127.0.0.1 reading and
     * driving the API), and a state-changing request from another origin (cross-site request forgery; reading is
     * kept from other sites by sending no CORS headers).
     */
    private void guard(Context ctx) {
        String hostHeader = ctx.header("Host");
        if (loopback && hostHeader != null && !hostAllowed(hostHeader)) {
            throw new ApiException(403, null, "Host '" + hostHeader + "' refused: this server is bound to " + host
                    + " and answers requests addressed to localhost or a loopback address only (a guard against DNS"
                    + " rebinding); open http://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                    + ctx.req().getLocalPort() + "/, or allow the name with --allow-host NAME");
        }
        String origin = ctx.header("Origin");
        if (origin != null && allowedOrigins.contains(origin.toLowerCase(Locale.ROOT))) {
            ctx.header("Access-Control-Allow-Origin", origin).header("Vary", "Origin");
            if (ctx.req().getMethod().equals("OPTIONS")) {
                ctx.header("Access-Control-Allow-Methods", "GET, POST")
                        .header("Access-Control-Allow-Headers", "Content-Type, Accept")
                        .header("Access-Control-Max-Age", "600");
            }
            return;
        }
        if (!STATE_CHANGING.contains(ctx.req().getMethod())) {
            return;
        }
        if (origin != null && !origin.equalsIgnoreCase("http://" + hostHeader)) {
            throw crossSite("Origin " + origin + " is not this server's (http://" + hostHeader + ")");
        }
        String site = ctx.header("Sec-Fetch-Site");
        if (origin == null && ("cross-site".equals(site) || "same-site".equals(site))) {
            throw crossSite("the browser marks it Sec-Fetch-Site: " + site);
        }
    }

    private static ApiException crossSite(String why) {
        return new ApiException(403, null, "cross-site request refused: " + why + "; a page on another site may not"
                + " drive this server. To allow a site, start glide serve with --allow-origin ORIGIN (e.g."
                + " --allow-origin http://localhost:3000)");
    }

    /** Whether a Host header names this machine: localhost, a loopback address, the bound host or an allowed one. */
    private boolean hostAllowed(String hostHeader) {
        String name = hostHeader.trim().toLowerCase(Locale.ROOT);
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            name = end < 0 ? name : name.substring(1, end);
        } else if (name.indexOf(':') >= 0 && name.indexOf(':') == name.lastIndexOf(':')) {
            name = name.substring(0, name.indexOf(':'));
        }
        return name.equals("localhost") || name.endsWith(".localhost") || name.equals(host.toLowerCase(Locale.ROOT))
                || name.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}") || name.equals("::1")
                || name.equals("0:0:0:0:0:0:0:1") || allowedHosts.contains(name);
    }

    /** Whether the bind address is a loopback one; a name is resolved once here, at build time. */
    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    // ---- jobs -----------------------------------------------------------------------------------------------------

    private void submit(Context ctx) throws IOException {
        // asked for as an event stream, the job belongs to this connection (stream, below)
        boolean stream = EVENT_STREAM.equals(ctx.header("Accept"));
        JobRequest.Fields fields;
        String type = ctx.contentType() == null ? "" : ctx.contentType();
        if (type.startsWith("multipart/form-data")) {
            Map<String, byte[]> files = new LinkedHashMap<>();
            Map<String, List<UploadedFile>> uploads;
            try {
                uploads = ctx.uploadedFileMap();
            } catch (RuntimeException e) {
                // Jetty refuses a part beyond the multipart limits
                throw new ApiException(413, null, "the upload is too large or malformed (" + e.getMessage()
                        + "); pictures may have at most " + limits.maxUploadBytes() + " bytes");
            }
            for (Map.Entry<String, List<UploadedFile>> e : uploads.entrySet()) {
                if (!e.getValue().isEmpty()) {
                    try (InputStream in = e.getValue().get(0).content()) {
                        files.put(e.getKey(), in.readAllBytes());
                    }
                }
            }
            fields = JobRequest.form(ctx.formParamMap(), files);
        } else {
            JsonNode body;
            try {
                body = JSON.readTree(ctx.bodyAsBytes());
            } catch (JsonProcessingException e) {
                throw new ApiException(400, null, "the body is not JSON (" + e.getOriginalMessage() + "); send a"
                        + " JSON object or multipart/form-data");
            }
            fields = JobRequest.json(body);
        }
        JobRequest request = JobRequest.parse(fields, models, limits);
        Job job = new Job(Long.toString(nextId.getAndIncrement()), request, previewEvery);
        request.model().submit(job);
        remember(job);
        ctx.header("Location", "/api/jobs/" + job.id);
        if (stream) {
            new SseHandler(0, client -> stream(client, job, true)).handle(ctx);
            return;
        }
        json(ctx.status(202), job.snapshot());
    }

    /** {@code GET /api/jobs/{id}/events}: a job's events for a watcher (closing the stream leaves the job be). */
    private void events(SseClient client) {
        Job job;
        try {
            job = job(client.ctx());
        } catch (ApiException e) {
            client.sendEvent("error", write(e.body()));
            client.close();
            return;
        }
        stream(client, job, false);
    }

    /**
     * Streams a job's events to one client. The job hands events to a queue and a sender thread of this client
     * writes them, so a slow or stalled client never holds up sampling; when the client falls too far behind,
     * progress and previews are dropped, never the final event. When the client {@code owns} the job (it submitted
     * it as a stream), its going away cancels the job: a closed connection shows as a failed write, so the stream
     * gets a comment every second while nothing else is sent.
     */
    private void stream(SseClient client, Job job, boolean owns) {
        LinkedBlockingDeque<Job.Event> queue = new LinkedBlockingDeque<>();
        Consumer<Job.Event> listener = e -> {
            if (queue.size() < MAX_PENDING_EVENTS || isFinal(e.name())) {
                queue.offerLast(e);
            }
        };
        client.onClose(() -> {
            job.unlisten(listener);
            if (owns) {
                // false when the job has ended, e.g. when this stream closes after the final event
                job.cancel();
            }
        });
        Map<String, Object> now = job.listen(listener);
        // the snapshot goes first, before any event that followed it
        queue.offerFirst(new Job.Event("state", now));
        String state = (String) now.get("state");
        if (isFinal(state)) {
            queue.offerLast(new Job.Event(state, now));
        }
        client.keepAlive();
        int keepAlive = owns ? OWNER_KEEP_ALIVE_SECONDS : KEEP_ALIVE_SECONDS;
        Thread sender = new Thread(() -> {
            try {
                while (!client.terminated()) {
                    Job.Event e = queue.poll(keepAlive, TimeUnit.SECONDS);
                    if (e == null) {
                        client.sendComment("keep-alive");
                        continue;
                    }
                    client.sendEvent(e.name(), write(e.data()));
                    if (isFinal(e.name())) {
                        client.close();
                    }
                }
            } catch (InterruptedException e) {
                client.close();
            } catch (RuntimeException e) {
                // the client went away mid-write
                client.close();
            }
        }, "glide-serve-events-" + job.id);
        sender.setDaemon(true);
        sender.start();
    }

    private static boolean isFinal(String event) {
        return event.equals(Job.State.DONE.id()) || event.equals(Job.State.FAILED.id())
                || event.equals(Job.State.CANCELLED.id());
    }

    private Job job(Context ctx) {
        String id = ctx.pathParam("id");
        Job j = jobs.get(id);
        if (j == null) {
            throw ApiException.notFound("no job '" + id + "' (finished jobs are kept until " + keptJobs
                    + " newer ones have been submitted)");
        }
        return j;
    }

    private List<Job> jobsNewestFirst() {
        List<Job> list;
        synchronized (jobs) {
            list = new ArrayList<>(jobs.values());
        }
        Collections.reverse(list);
        return list;
    }

    /** Keeps the job, forgetting the oldest ended jobs beyond {@code keptJobs}. */
    private void remember(Job job) {
        synchronized (jobs) {
            jobs.put(job.id, job);
            int excess = jobs.size() - keptJobs;
            var it = jobs.values().iterator();
            while (excess > 0 && it.hasNext()) {
                if (it.next().state().terminal()) {
                    it.remove();
                    excess--;
                }
            }
        }
    }

    private TrainingMonitor training() {
        if (training == null) {
            throw ApiException.notFound("no training directory: start glide serve with --train-dir DIR (a glide"
                    + " train output directory)");
        }
        return training;
    }

    private static void png(Context ctx, byte[] bytes) {
        ctx.header("Cache-Control", "no-store").contentType("image/png").result(bytes);
    }

    private static void json(Context ctx, Object body) {
        ctx.contentType("application/json").result(write(body));
    }

    private static String write(Object body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- builder --------------------------------------------------------------------------------------------------

    /** Configures a server; {@link #build()} validates the settings (nothing is bound before {@link #start()}). */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 7860;
        private final Map<String, GlidePipeline> pipelines = new LinkedHashMap<>();
        private int queueCapacity = 4;
        private int maxSteps = 1000;
        private int maxImages = 8;
        private int maxPromptLength = 1000;
        private int maxUploadBytes = 8 << 20;
        private int maxImageSide = 4096;
        private int previewEvery = 5;
        private int keptJobs = 100;
        private Path trainDir;
        private final Set<String> allowedOrigins = new LinkedHashSet<>();
        private final Set<String> allowedHosts = new LinkedHashSet<>();

        private Builder() {
        }

        /** Address to bind; default 127.0.0.1 (this machine only). */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** Port to bind, 0 for any free one; default 7860. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** A loaded pipeline offered under {@code name}; the first model is the default of the API and page. */
        public Builder model(String name, GlidePipeline pipeline) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(pipeline, "pipeline");
            if (pipelines.containsKey(name)) {
                throw new IllegalArgumentException("two models are named '" + name + "'; give each its own name");
            }
            pipelines.put(name, pipeline);
            return this;
        }

        /** Jobs that may wait per model while one runs; one more gets 429. Default 4. */
        public Builder queueCapacity(int n) {
            this.queueCapacity = n;
            return this;
        }

        /** Most sampling steps a job may ask for; default 1000. */
        public Builder maxSteps(int n) {
            this.maxSteps = n;
            return this;
        }

        /** Most images per job; default 8. */
        public Builder maxImages(int n) {
            this.maxImages = n;
            return this;
        }

        /** Longest prompt in characters; default 1000. */
        public Builder maxPromptLength(int n) {
            this.maxPromptLength = n;
            return this;
        }

        /** Largest uploaded image or mask in bytes; default 8 MiB. */
        public Builder maxUploadBytes(int n) {
            this.maxUploadBytes = n;
            return this;
        }

        /** A preview of the predicted x0 every this many steps (and at each stage's last step); default 5. */
        public Builder previewEvery(int n) {
            this.previewEvery = n;
            return this;
        }

        /** Jobs remembered (their results kept in memory); older ended jobs are forgotten. Default 100. */
        public Builder keptJobs(int n) {
            this.keptJobs = n;
            return this;
        }

        /** A {@code glide train} output directory to monitor (loss curve, latest samples); default none. */
        public Builder trainDir(Path dir) {
            this.trainDir = dir;
            return this;
        }

        /**
         * Lets pages of {@code origin} (scheme, host and port, e.g. {@code http://localhost:3000}) use the API from a
         * browser: their requests are not refused as cross-site and get CORS headers. Repeatable; default none.
         */
        public Builder allowOrigin(String origin) {
            Objects.requireNonNull(origin, "origin");
            String how = "; give scheme, host and port only, e.g. http://localhost:3000";
            URI u;
            try {
                u = new URI(origin.trim());
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("'" + origin + "' is not an origin (" + e.getMessage() + ")" + how);
            }
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null || u.getUserInfo() != null
                    || u.getQuery() != null || u.getFragment() != null
                    || !(u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/"))) {
                throw new IllegalArgumentException("'" + origin + "' is not an origin" + how);
            }
            int defaultPort = scheme.equals("http") ? 80 : 443;
            // as a browser writes it: lower case, no default port, no slash
            allowedOrigins.add(scheme + "://" + u.getHost().toLowerCase(Locale.ROOT)
                    + (u.getPort() < 0 || u.getPort() == defaultPort ? "" : ":" + u.getPort()));
            return this;
        }

        /**
         * A host name that requests to a loopback-bound server may be addressed to besides localhost and the loopback
         * addresses (e.g. a name a reverse proxy passes on). Repeatable; default none.
         */
        public Builder allowHost(String name) {
            Objects.requireNonNull(name, "name");
            String n = name.trim().toLowerCase(Locale.ROOT);
            if (n.isEmpty() || !n.matches("[a-z0-9._\\-]+")) {
                throw new IllegalArgumentException("'" + name + "' is not a host name; give the name alone, without"
                        + " scheme or port, e.g. studio.internal");
            }
            allowedHosts.add(n);
            return this;
        }

        public GlideServer build() {
            if (pipelines.isEmpty()) {
                throw new IllegalArgumentException("no model: add at least one with model(name, pipeline)");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be from 0 (any free port) to 65535, got " + port);
            }
            if (host.isBlank()) {
                throw new IllegalArgumentException("host must be an address to bind, e.g. 127.0.0.1, got ''");
            }
            positive("queueCapacity", queueCapacity);
            positive("maxSteps", maxSteps);
            positive("maxImages", maxImages);
            positive("maxPromptLength", maxPromptLength);
            positive("maxUploadBytes", maxUploadBytes);
            positive("previewEvery", previewEvery);
            positive("keptJobs", keptJobs);
            if (trainDir != null && !Files.isDirectory(trainDir)) {
                throw new IllegalArgumentException("trainDir " + trainDir + " is not a directory (give a glide train"
                        + " --output directory)");
            }
            return new GlideServer(this);
        }

        private static void positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + " must be >= 1, got " + v);
            }
        }
    }
}
