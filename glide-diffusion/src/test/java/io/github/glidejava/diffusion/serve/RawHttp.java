package io.github.glidejava.diffusion.serve;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 exchange written by hand on a socket to 127.0.0.1: for the headers java.net.http will not send
 * ({@code Host}) and for a client that goes away in the middle of a response (closing the socket is a disconnection,
 * with nothing in between). Reads the status and headers at once and the body line by line, chunked or not.
 */
final class RawHttp implements AutoCloseable {
    /** A server-sent event: its name and data line. */
    record Event(String name, String data) {
    }

    private final Socket socket;
    private final InputStream in;
    final int status;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final boolean chunked;
    private long left;
    private boolean ended;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        String statusLine = rawLine();
        if (statusLine == null || !statusLine.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + statusLine);
        }
        status = Integer.parseInt(statusLine.split(" ")[1]);
        for (String h = rawLine(); h != null && !h.isEmpty(); h = rawLine()) {
            int colon = h.indexOf(':');
            headers.merge(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim(),
                    (a, b) -> a + ", " + b);
        }
        chunked = "chunked".equalsIgnoreCase(headers.get("transfer-encoding"));
        left = headers.containsKey("content-length") ? Long.parseLong(headers.get("content-length")) : -1;
    }

    /**
     * Sends {@code method path} with {@code headers} (a {@code Host} of 127.0.0.1:port unless given) and the body,
     * if any, and reads the response's status and headers.
     */
    static RawHttp send(int port, String method, String path, Map<String, String> headers, String body)
            throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(120_000);
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
        if (headers.keySet().stream().noneMatch(k -> k.equalsIgnoreCase("Host"))) {
            req.append("Host: 127.0.0.1:").append(port).append("\r\n");
        }
        headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
        if (body != null) {
            req.append("Content-Length: ").append(b.length).append("\r\n");
        }
        req.append("Connection: close\r\n\r\n");
        OutputStream out = s.getOutputStream();
        out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(b);
        out.flush();
        try {
            return new RawHttp(s);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** A response header (case-insensitive name), null when absent. */
    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    Map<String, String> headers() {
        return headers;
    }

    /** The next line of the body, null at its end. */
    String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = bodyByte()) >= 0 && c != '\n') {
            line.write(c);
        }
        if (c < 0 && line.size() == 0) {
            return null;
        }
        String s = line.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** The rest of the body. */
    String body() throws IOException {
        StringBuilder b = new StringBuilder();
        for (String l = line(); l != null; l = line()) {
            b.append(b.length() > 0 ? "\n" : "").append(l);
        }
        return b.toString();
    }

    /** The next server-sent event (comments skipped), null at the end of the stream. */
    Event event() throws IOException {
        String name = "message";
        String data = null;
        for (String l = line(); l != null; l = line()) {
            if (l.isEmpty()) {
                if (data != null) {
                    return new Event(name, data);
                }
            } else if (l.startsWith("event:")) {
                name = l.substring(6).trim();
            } else if (l.startsWith("data:")) {
                data = l.substring(5).trim();
            }
        }
        return null;
    }

    /** Reads events up to the first named {@code name} and returns it (an AssertionError if the stream ends). */
    Event until(String name) throws IOException {
        for (Event e = event(); e != null; e = event()) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        throw new AssertionError("the stream ended without a '" + name + "' event");
    }

    private int bodyByte() throws IOException {
        if (ended) {
            return -1;
        }
        if (chunked && left <= 0) {
            if (left == 0) {
                rawLine(); // the CRLF after a chunk
            }
            String size = rawLine();
            if (size == null) {
                ended = true;
                return -1;
            }
            int semi = size.indexOf(';');
            left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            if (left == 0) {
                ended = true;
                return -1;
            }
        } else if (!chunked && left == 0) {
            ended = true;
            return -1;
        }
        int c = in.read();
        if (c < 0) {
            ended = true;
            return -1;
        }
        if (left > 0) {
            left--;
        }
        return c;
    }

    /** A line of the status, headers or chunk framing. */
    private String rawLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            line.write(c);
        }
        if (c < 0 && line.size() == 0) {
            return null;
        }
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Closes the connection, wherever the response is. */
    @Override
    public void close() throws IOException {
        socket.close();
    }
}
