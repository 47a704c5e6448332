package io.github.glidejava.core.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any bytes as a PyTorch checkpoint: {@link StateDict#load} recognises the format, reads the zip directory,
 * inflates and unpickles {@code data.pkl} with the restricted unpickler and copies every tensor, or throws an
 * IOException (CheckpointFormatException, UnsafePickleException...) naming the file and the problem. The corpus
 * holds small torch.save-layout archives (stored and deflated records, strided views, a pickle calling a refused
 * global) and broken ones.
 */
class TorchCheckpointFuzzTest {
    private static final Path DIR = FuzzChecks.scratch("torch");
    // a 16M-element overlapping view is the largest dense copy a file of any size may ask for (64 MB, off-heap)
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(32L << 20, 512);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyFile(byte[] input) {
        Path file = FuzzChecks.write(DIR.resolve("fuzz.pt"), input);
        FuzzChecks.check(input.length, BUDGET, () -> {
            StateDict sd = StateDict.load(file);
            sd.asMap().values().forEach(a -> a.close());
        }, IOException.class);
    }
}
