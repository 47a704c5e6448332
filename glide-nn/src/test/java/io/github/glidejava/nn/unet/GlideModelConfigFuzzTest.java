package io.github.glidejava.nn.unet;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any text as a model configuration (the JSON of {@code glide train --model CONFIG.json}, the {@code options} in a
 * checkpoint's metadata): {@link GlideModelConfig#fromJson} gives a configuration or throws an
 * IllegalArgumentException naming the option and what it accepts; a configuration it accepts survives
 * {@code toJson} and {@code fromJson} unchanged.
 */
class GlideModelConfigFuzzTest {
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(16L << 20, 4096);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyJson(FuzzedDataProvider data) {
        String json = data.consumeRemainingAsString();
        FuzzChecks.check(json.length() * 2, BUDGET, () -> {
            GlideModelConfig c = GlideModelConfig.fromJson(json);
            GlideModelConfig again = GlideModelConfig.fromJson(c.toJson());
            if (!again.equals(c)) {
                throw new AssertionError("toJson/fromJson changed the configuration: " + c.toJson() + " became "
                        + again.toJson());
            }
        }, IllegalArgumentException.class);
    }
}
