package io.github.glidejava.diffusion.serve;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the API refuses: answered with {@code status} and a JSON body {@code {"error": message, "field": ...}}
 * naming the offending field (null when the request as a whole is wrong) and, for a full queue, the seconds to
 * wait ({@code Retry-After}).
 */
final class ApiException extends RuntimeException {
    final int status;
    final String field;
    final Integer retryAfterSeconds;

    ApiException(int status, String field, String message) {
        this(status, field, message, null);
    }

    ApiException(int status, String field, String message, Integer retryAfterSeconds) {
        super(message);
        this.status = status;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    static ApiException badField(String field, String message) {
        return new ApiException(400, field, field + ": " + message);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, null, message);
    }

    Map<String, Object> body() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", getMessage());
        if (field != null) {
            m.put("field", field);
        }
        if (retryAfterSeconds != null) {
            m.put("retryAfterSeconds", retryAfterSeconds);
        }
        return m;
    }
}
