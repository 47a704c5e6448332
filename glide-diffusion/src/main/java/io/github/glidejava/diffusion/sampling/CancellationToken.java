package io.github.glidejava.diffusion.sampling;

import java.util.concurrent.atomic.AtomicBoolean;

/** Cancels a running sampling loop from any thread; the loop checks it before each step. */
public final class CancellationToken {
    private final AtomicBoolean cancelled = new AtomicBoolean();

    public void cancel() {
        cancelled.set(true);
    }

    public boolean isCancelled() {
        return cancelled.get();
    }
}
