package io.github.glidejava.core.io;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any bytes as a zip archive: the central-directory reader (ZIP64 included) lists the entries, each inside the
 * file, or throws a TorchCheckpointFormatException saying what is wrong.
 */
class ZipDirectoryFuzzTest {
    private static final Path DIR = FuzzChecks.scratch("zip");
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(16L << 20, 512);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyArchive(byte[] input) {
        Path file = FuzzChecks.write(DIR.resolve("fuzz.zip"), input);
        FuzzChecks.check(input.length, BUDGET, () -> {
            try (FileBytes map = FileBytes.open(file)) {
                for (ZipDirectory.Entry e : ZipDirectory.read(file, map).entries()) {
                    if (e.dataOffset() < 0 || e.dataOffset() + e.compressedSize() > input.length) {
                        throw new AssertionError("entry " + e + " lies outside the " + input.length + "-byte file");
                    }
                }
            }
        }, TorchCheckpointFormatException.class, java.io.IOException.class);
    }
}
