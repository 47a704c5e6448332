package io.github.glidejava.core.io;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any bytes as {@code data.pkl}, straight into the restricted unpickler (inside a zip the fuzzer would spend most
 * inputs on the archive): it builds plain data or throws a TorchCheckpointFormatException (an UnsafePickleException
 * for a global outside the allow-list); it never resolves or runs anything, and its stack, memo and nesting limits
 * keep time and memory proportional to the pickle.
 */
class PickleFuzzTest {
    private static final Path FILE = Path.of("fuzz.pt");
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(16L << 20, 512);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyPickle(byte[] input) {
        FuzzChecks.check(input.length, BUDGET, () -> new RestrictedUnpickler(FILE, "archive/data.pkl", input).load(),
                TorchCheckpointFormatException.class);
    }
}
