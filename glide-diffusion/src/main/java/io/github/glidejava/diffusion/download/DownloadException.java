package io.github.glidejava.diffusion.download;

import java.io.IOException;

/** A download that could not be completed; the message says which URL and file, what went wrong and what to do. */
public class DownloadException extends IOException {
    private final boolean retryable;

    public DownloadException(String message) {
        this(message, false, null);
    }

    public DownloadException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    /** True when trying again (resuming from the partial file) may succeed: a cut connection or a server error. */
    public boolean isRetryable() {
        return retryable;
    }
}
