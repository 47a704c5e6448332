package io.github.glidejava.diffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A job submitted with {@code Accept: text/event-stream} belongs to its connection: closing it cancels the job,
 * queued or running (the sampler stops after its current step); closing a watcher's {@code GET .../events} stream
 * leaves the job running. The client is a raw socket, so closing it is a plain disconnection.
 */
class ServeDisconnectTest {
    static final Map<String, String> STREAM = Map.of("Accept", "text/event-stream");

    @Test
    @Timeout(300)
    void closingTheConnectionThatSubmittedAJobCancelsIt() throws Exception {
        try (GlideServer s = GlideServer.builder().port(0).model("tiny", ServeApiTest.tinyText2Im()).build()
                .start()) {
            int port = s.port();
            String url = "http://127.0.0.1:" + port;
            // a long job (1000 steps of 8 images) whose stream stays open until it runs
            RawHttp a = ServeSecurityTest.post(port, "/api/jobs", STREAM,
                    "{\"prompt\": \"a\", \"steps\": 1000, \"numImages\": 8, \"seed\": 1}");
            assertEquals(200, a.status);
            assertTrue(a.header("Content-Type").startsWith("text/event-stream"), a.headers().toString());
            String aId = id(a);
            a.until("progress");

            // queued behind it, owned by another connection that goes away at once
            String bId;
            try (RawHttp b = ServeSecurityTest.post(port, "/api/jobs", STREAM,
                    "{\"prompt\": \"b\", \"steps\": 5, \"seed\": 2}")) {
                assertEquals(200, b.status);
                bId = id(b);
                RawHttp.Event first = b.event();
                assertEquals("state", first.name());
                assertEquals("queued", ServeApiTest.JSON.readTree(first.data()).get("state").asText());
            }
            JsonNode bEnd = ServeApiTest.await(url, bId);
            assertEquals("cancelled", bEnd.get("state").asText(), bEnd.toString());
            assertTrue(bEnd.get("progress").isNull(), "never ran: " + bEnd);
            assertEquals("running", state(url, aId), "another client's disconnection left job " + aId + " alone");

            // a watcher that goes away does not own the job
            try (RawHttp w = RawHttp.send(port, "GET", "/api/jobs/" + aId + "/events", STREAM, null)) {
                assertEquals(200, w.status);
                w.until("progress");
            }
            Thread.sleep(2000);
            assertEquals("running", state(url, aId), "closing a GET .../events stream does not cancel");

            a.close();
            JsonNode aEnd = ServeApiTest.await(url, aId);
            assertEquals("cancelled", aEnd.get("state").asText(), aEnd.toString());
            int step = aEnd.at("/progress/step").asInt();
            assertTrue(step >= 1 && step < 1000, "the sampler stopped early: " + aEnd.get("progress"));
            assertEquals(0, aEnd.get("images").size());

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
