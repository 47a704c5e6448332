package io.github.glidejava.diffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a browser on another site can make {@link GlideServer} do: state-changing requests from another origin (or
 * marked cross-site) are refused with 403 and a message, CORS stays closed unless origins are allowed, and a server
 * bound to 127.0.0.1 refuses Host names other than localhost and loopback addresses (DNS rebinding). Raw sockets,
 * because java.net.http does not let a client set Host.
 */
class ServeSecurityTest {
    static final String EVIL = "http://evil.example";
    static final String JOB = "{\"prompt\": \"a\", \"steps\": 2, \"seed\": 1}";

    static GlideServer server;
    static int port;

    @BeforeAll
    static void start() throws IOException {
        server = GlideServer.builder().port(0).model("tiny", ServeApiTest.tinyText2Im()).build().start();
        port = server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void stateChangingRequestsFromAnotherOriginAreRefusedWith403() throws Exception {
        int jobsBefore = jobs(port).size();
        for (String origin : List.of(EVIL, "https://127.0.0.1:" + port, "http://127.0.0.1:" + (port == 65535 ? 1
                : port + 1), "http://localhost:" + port, "null")) {
            try (RawHttp r = post(port, "/api/jobs", Map.of("Origin", origin), JOB)) {
                assertCrossSite(r, "Origin " + origin + " is not this server's (http://127.0.0.1:" + port + ")");
            }
        }
        // what an HTML form on another site can send without a preflight
        try (RawHttp r = RawHttp.send(port, "POST", "/api/jobs", Map.of("Origin", EVIL, "Content-Type",
                "application/x-www-form-urlencoded"), "prompt=a")) {
            assertCrossSite(r, "Origin " + EVIL);
        }
        assertEquals(jobsBefore, jobs(port).size(), "a refused request queued no job");

        String id;
        try (RawHttp r = post(port, "/api/jobs", Map.of(), JOB)) {
            assertEquals(202, r.status);
            id = ServeApiTest.JSON.readTree(r.body()).get("id").asText();
        }
        try (RawHttp r = post(port, "/api/jobs/" + id + "/cancel", Map.of("Origin", EVIL), "{}")) {
            assertCrossSite(r, "Origin " + EVIL);
        }
        // any state-changing method, whether or not a route takes it
        for (String method : List.of("DELETE", "PUT", "PATCH")) {
            try (RawHttp r = RawHttp.send(port, method, "/api/jobs/" + id, Map.of("Origin", EVIL), "")) {
                assertCrossSite(r, "Origin " + EVIL);
            }
        }
        assertEquals("done", ServeApiTest.await("http://127.0.0.1:" + port, id).get("state").asText(),
                "the refused cancel did not cancel the job");
    }

    @Test
    void aCrossSiteMarkIsRefusedEvenWithoutOrigin() throws Exception {
        for (String site : List.of("cross-site", "same-site")) {
            try (RawHttp r = post(port, "/api/jobs", Map.of("Sec-Fetch-Site", site), JOB)) {
                assertCrossSite(r, "Sec-Fetch-Site: " + site);
            }
        }
    }

    @Test
    void theServersOwnPageAndNonBrowserClientsMaySubmit() throws Exception {
        List<Map<String, String>> ok = List.of(
                Map.of(), // curl, scripts: no Origin
                Map.of("Origin", "http://127.0.0.1:" + port, "Sec-Fetch-Site", "same-origin"),
                Map.of("Host", "localhost:" + port, "Origin", "http://localhost:" + port),
                Map.of("Sec-Fetch-Site", "none")); // typed into the address bar
        for (Map<String, String> headers : ok) {
            try (RawHttp r = post(port, "/api/jobs", headers, JOB)) {
                assertEquals(202, r.status, headers + ": " + r.body());
                assertNull(r.header("Access-Control-Allow-Origin"), headers.toString());
            }
        }
    }

    @Test
    void corsIsClosedByDefault() throws Exception {
        try (RawHttp r = RawHttp.send(port, "GET", "/api/models", Map.of("Origin", EVIL), null)) {
            assertEquals(200, r.status);
            assertTrue(r.headers().keySet().stream().noneMatch(h -> h.startsWith("access-control-")),
                    r.headers().toString());
        }
        try (RawHttp r = RawHttp.send(port, "OPTIONS", "/api/jobs", Map.of("Origin", EVIL,
                "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"), null)) {
            assertCrossSite(r, "Origin " + EVIL);
        }
    }

    @Test
    void hostNamesOtherThanLocalhostAreRefusedOnLoopback() throws Exception {
        for (String path : List.of("/api/models", "/", "/api/jobs")) {
            try (RawHttp r = RawHttp.send(port, "GET", path, Map.of("Host", "evil.example:" + port), null)) {
                assertEquals(403, r.status, path);
                String error = ServeApiTest.JSON.readTree(r.body()).get("error").asText();
                assertTrue(error.contains("Host 'evil.example:" + port + "' refused") && error.contains("DNS"
                        + " rebinding") && error.contains("--allow-host"), error);
            }
        }
        for (String host : List.of("localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "127.0.0.2",
                "app.localhost:" + port)) {
            try (RawHttp r = RawHttp.send(port, "GET", "/api/models", Map.of("Host", host), null)) {
                assertEquals(200, r.status, host);
            }
        }
    }

    @Test
    void allowedOriginsGetCorsAndAllowedHostsAreAnswered() throws Exception {
        try (GlideServer s = GlideServer.builder().port(0).model("tiny", ServeApiTest.tinyText2Im())
                .allowOrigin("HTTP://LocalHost:3000/").allowOrigin("https://studio.example:443")
                .allowHost("studio.internal").build().start()) {
            int p = s.port();
            String mine = "http://localhost:3000";
            try (RawHttp r = RawHttp.send(p, "OPTIONS", "/api/jobs", Map.of("Origin", mine,
                    "Access-Control-Request-Method", "POST"), null)) {
                assertEquals(204, r.status);
                assertEquals(mine, r.header("Access-Control-Allow-Origin"));
                assertTrue(r.header("Access-Control-Allow-Methods").contains("POST"));
                assertTrue(r.header("Access-Control-Allow-Headers").contains("Content-Type"));
                assertEquals("Origin", r.header("Vary"));
            }
            for (String origin : List.of(mine, "https://studio.example")) {
                try (RawHttp r = post(p, "/api/jobs", Map.of("Origin", origin, "Sec-Fetch-Site", "cross-site"),
                        JOB)) {
                    assertEquals(202, r.status, origin + ": " + r.body());
                    assertEquals(origin, r.header("Access-Control-Allow-Origin"));
                }
            }
            try (RawHttp r = post(p, "/api/jobs", Map.of("Origin", "http://localhost:3001"), JOB)) {
                assertCrossSite(r, "Origin http://localhost:3001");
            }
            try (RawHttp r = RawHttp.send(p, "GET", "/api/models", Map.of("Host", "studio.internal:" + p), null)) {
                assertEquals(200, r.status);
            }
            try (RawHttp r = RawHttp.send(p, "GET", "/api/models", Map.of("Host", "other.internal"), null)) {
                assertEquals(403, r.status);
            }
        }
    }

    @Test
    void theBuilderRefusesWhatIsNotAnOriginOrAHostName() {
        for (String bad : List.of("localhost:3000", "http://x.example/app", "ftp://x.example", "http://x.example?a",
                "http://user@x.example", "*", "null")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GlideServer.builder().allowOrigin(bad));
            assertTrue(e.getMessage().contains("'" + bad + "' is not an origin") && e.getMessage().contains(
                    "e.g. http://localhost:3000"), e.getMessage());
        }
        for (String bad : List.of("http://studio", "studio:80", "", "a b")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GlideServer.builder().allowHost(bad));
            assertTrue(e.getMessage().contains("is not a host name"), e.getMessage());
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    static RawHttp post(int port, String path, Map<String, String> headers, String json) throws IOException {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.putIfAbsent("Content-Type", "application/json");
        return RawHttp.send(port, "POST", path, h, json);
    }

    static void assertCrossSite(RawHttp r, String says) throws IOException {
        String body = r.body();
        assertEquals(403, r.status, body);
        assertNull(r.header("Access-Control-Allow-Origin"), r.headers().toString());
        JsonNode e = ServeApiTest.JSON.readTree(body);
        String error = e.get("error").asText();
        assertTrue(error.startsWith("cross-site request refused") && error.contains(says)
                && error.contains("--allow-origin"), "expected '" + says + "' in " + error);
        assertNotEquals("", error);
    }

    static JsonNode jobs(int port) throws IOException {
        try (RawHttp r = RawHttp.send(port, "GET", "/api/jobs", Map.of(), null)) {
            assertEquals(200, r.status);
            return ServeApiTest.JSON.readTree(r.body()).get("jobs");
        }
    }
}
