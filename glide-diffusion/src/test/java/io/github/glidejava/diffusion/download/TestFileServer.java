package io.github.glidejava.diffusion.download;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** A small HTTP server on 127.0.0.1 (ephemeral port) whose answers each test scripts per path. */
public final class TestFileServer implements AutoCloseable {
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    /** How a path answers; {@code n} counts requests to that path from 0. */
    interface Behavior {
        void handle(HttpExchange ex, long rangeFrom, int n) throws IOException;
    }

    /** One request as the server saw it. */
    record Request(String path, String range) {
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Behavior> behaviors = new ConcurrentHashMap<>();
    private final Map<String, Integer> counts = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    public TestFileServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::dispatch);
        server.setExecutor(executor);
        server.start();
    }

    public URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/files/");
    }

    URI uri(String name) {
        return base().resolve(name);
    }

    TestFileServer on(String name, Behavior b) {
        behaviors.put("/files/" + name, b);
        return this;
    }

    /** Serves {@code content} the way a good server does: honours Range, answers 416 past the end. */
    public TestFileServer serve(String name, byte[] content) {
        return on(name, (ex, from, n) -> sendRange(ex, content, from, content.length - from));
    }

    public long requestCount() {
        return requests.size();
    }

    private void dispatch(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add(new Request(path, range));
        int n = counts.merge(path, 1, Integer::sum) - 1;
        long from = 0;
        if (range != null) {
            Matcher m = RANGE.matcher(range);
            if (m.matches()) {
                from = Long.parseLong(m.group(1));
            }
        }
        try {
            Behavior b = behaviors.get(path);
            if (b == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                b.handle(ex, from, n);
            }
        } finally {
            ex.close(); // drops the connection when fewer bytes were written than announced
        }
    }

    /**
     * Answers with {@code content[from .. from+count)}: 200 for from == 0, else 206 with Content-Range; the headers
     * always announce the rest of the file, so a smaller {@code count} cuts the connection mid-file.
     */
    static void sendRange(HttpExchange ex, byte[] content, long from, long count) throws IOException {
        int len = content.length;
        if (from >= len && from > 0) {
            ex.getResponseHeaders().add("Content-Range", "bytes */" + len);
            ex.sendResponseHeaders(416, -1);
            return;
        }
        if (from > 0) {
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (len - 1) + "/" + len);
        }
        ex.sendResponseHeaders(from > 0 ? 206 : 200, len - from);
        OutputStream os = ex.getResponseBody();
        os.write(content, (int) from, (int) Math.min(count, len - from));
        os.flush();
        // with fewer bytes written than announced, closing the exchange drops the connection
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
