package io.github.glidejava.diffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A job submitted with {@code Accept: text/event-stream} belongs to its connection: closing it cancels the job,
 * running (the sampler stops after its current step) or queued; closing a watcher's {@code GET .../events} stream
 * leaves the job be. The client is a raw socket, so closing it is a plain disconnection.
 */
class ServeDisconnectTest {
    static final Map<String, String> STREAM = Map.of("Accept", "text/event-stream");
    static final String LONG = "{\"prompt\": \"a\", \"steps\": 1000, \"numImages\": 8, \"seed\": 1}";

    @Test
    @Timeout(300)
    void closingTheConnectionThatSubmittedAJobCancelsIt() throws Exception {
        try (GlideServer s = GlideServer.builder().port(0).model("tiny", ServeApiTest.tinyText2Im()).build()
                .start()) {
            int port = s.port();
            String url = "http://127.0.0.1:" + port;
            // a long job (1000 steps of 8 images), its connection closed once it runs
            String aId;
            try (RawHttp a = ServeSecurityTest.post(port, "/api/jobs", STREAM, LONG)) {
                assertEquals(200, a.status);
                assertTrue(a.header("Content-Type").startsWith("text/event-stream"), a.headers().toString());
                aId = id(a);
                a.until("progress");
            }
            JsonNode aEnd = ServeApiTest.await(url, aId);
            assertEquals("cancelled", aEnd.get("state").asText(), aEnd.toString());
            int step = aEnd.at("/progress/step").asInt();
            assertTrue(step >= 1 && step < 1000, "the sampler stopped early: " + aEnd.get("progress"));
            assertEquals(0, aEnd.get("images").size());

            // another long job, submitted plainly: it belongs to no connection
            String xId = ServeApiTest.JSON.readTree(ServeApiTest.post(url, Map.of("prompt", "x", "steps", 1000,
                    "numImages", 8, "seed", 4)).body()).get("id").asText();
            ServeApiTest.awaitState(url, xId, "running");
            // queued behind it, owned by a connection that goes away at once
            String bId;
            try (RawHttp b = ServeSecurityTest.post(port, "/api/jobs", STREAM, LONG)) {
                assertEquals(200, b.status);
                bId = id(b);
                RawHttp.Event first = b.event();
                assertEquals("state", first.name());
                assertEquals("queued", ServeApiTest.JSON.readTree(first.data()).get("state").asText());
            }
            JsonNode bEnd = ServeApiTest.await(url, bId);
            boolean xRan = state(url, xId).equals("running");
            assertEquals("cancelled", bEnd.get("state").asText(), bEnd.toString());
            System.out.println("owned running job " + aId + " cancelled at step " + step + " of 1000; owned queued"
                    + " job " + bId + " cancelled " + (bEnd.get("progress").isNull() ? "without running" : "at "
                    + bEnd.get("progress")) + "; the job ahead of it " + (xRan ? "still running" : "had ended"));
            if (xRan) {
                // (on a machine fast enough to finish x first, b may have started before its cancel)
                assertTrue(bEnd.get("progress").isNull(), "cancelled in the queue, never ran: " + bEnd);
            }
            // a watcher that goes away does not own the job
            try (RawHttp w = RawHttp.send(port, "GET", "/api/jobs/" + xId + "/events", STREAM, null)) {
                assertEquals(200, w.status);
                w.event();
            }
            Thread.sleep(1000);
            assertTrue(Set.of("running", "done").contains(state(url, xId)), "closing a GET .../events stream does"
                    + " not cancel: " + state(url, xId));
            ServeApiTest.post(url + "/api/jobs/" + xId + "/cancel", Map.of());
            ServeApiTest.await(url, xId);

            // the worker is free again, and a streamed job that runs to its end is done, not cancelled
            try (RawHttp c = ServeSecurityTest.post(port, "/api/jobs", STREAM,
                    "{\"prompt\": \"c\", \"steps\": 3, \"seed\": 3}")) {
                RawHttp.Event done = c.until("done");
                assertEquals(1, ServeApiTest.JSON.readTree(done.data()).get("images").size());
                assertEquals(null, c.event(), "the stream ends after the final event");
                assertEquals("done", state(url, id(c)));
            }
        }
    }

    @Test
    @Timeout(120)
    void aRefusedStreamedSubmissionIsPlainJson() throws Exception {
        try (GlideServer s = GlideServer.builder().port(0).model("tiny", ServeApiTest.tinyText2Im()).build()
                .start();
             RawHttp r = ServeSecurityTest.post(s.port(), "/api/jobs", STREAM, "{\"prompt\": \"a\", \"steps\": 0}")) {
            assertEquals(400, r.status);
            assertEquals("steps", ServeApiTest.JSON.readTree(r.body()).get("field").asText());
        }
    }

    static String id(RawHttp r) {
        String location = r.header("Location");
        return location.substring(location.lastIndexOf('/') + 1);
    }

    static String state(String url, String id) throws Exception {
        return ServeApiTest.JSON.readTree(ServeApiTest.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(url + "/api/jobs/" + id)).GET()).body()).get("state").asText();
    }
}
