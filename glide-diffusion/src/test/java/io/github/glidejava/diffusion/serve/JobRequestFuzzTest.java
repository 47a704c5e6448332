package io.github.glidejava.diffusion.serve;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any body as a job submission to {@code POST /api/jobs}: text that is not JSON is what the server answers 400 for;
 * JSON gives a validated {@link JobRequest} or an {@link ApiException} with a 4xx status and a message, within the
 * time and memory budget (uploaded pictures are base64 in the body, decoded under the server's limits).
 */
class JobRequestFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(64L << 20, 4096);
    private static final ServerLimits LIMITS = new ServerLimits(1000, 8, 1000, 1 << 16, 1024);
    private static Map<String, ServedModel> models;

    private static synchronized Map<String, ServedModel> models() throws IOException {
        if (models == null) {
            models = Map.of("tiny", new ServedModel("tiny", ServeApiTest.tinyText2Im(), 4));
        }
        return models;
    }

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyBody(FuzzedDataProvider data) throws IOException {
        Map<String, ServedModel> m = models();
        String body = data.consumeRemainingAsString();
        FuzzChecks.check(body.length() * 2, BUDGET, () -> {
            JsonNode node;
            try {
                node = JSON.readTree(body);
            } catch (JsonProcessingException e) {
                return;
            }
            try {
                JobRequest.parse(JobRequest.json(node), m, LIMITS);
            } catch (ApiException e) {
                if (e.status < 400 || e.status >= 500) {
                    throw new AssertionError("a bad request answered with status " + e.status + ": " + e.getMessage());
                }
                throw e;
            }
        }, ApiException.class);
    }
}
