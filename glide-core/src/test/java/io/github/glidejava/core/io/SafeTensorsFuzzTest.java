package io.github.glidejava.core.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any bytes as a safetensors file: opening it, reading its metadata and every tensor either works or throws an
 * IOException (a SafeTensorsFormatException naming the file and the problem). Corpus:
 * {@code src/test/resources/io/github/glidejava/core/io/SafeTensorsFuzzTestInputs/anyFile/}.
 */
class SafeTensorsFuzzTest {
    private static final Path DIR = FuzzChecks.scratch("safetensors");
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(32L << 20, 256);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyFile(byte[] input) {
        Path file = FuzzChecks.write(DIR.resolve("fuzz.safetensors"), input);
        FuzzChecks.check(input.length, BUDGET, () -> {
            try (SafeTensors st = SafeTensors.open(file)) {
                st.metadata();
                for (String name : st.names()) {
                    TensorInfo info = st.info(name);
                    if (info.dtype() == DType.F16 || info.dtype() == DType.BF16) {
                        st.getFloat(name).close();
                    } else {
                        st.get(name).close();
                    }
                }
            }
        }, IOException.class);
    }
}
