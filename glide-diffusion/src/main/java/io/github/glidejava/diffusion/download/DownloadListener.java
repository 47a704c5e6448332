package io.github.glidejava.diffusion.download;

import java.net.URI;
import java.nio.file.Path;

/** Observes a download. All methods have empty defaults; called on the downloading thread. */
public interface DownloadListener {
    DownloadListener NONE = new DownloadListener() {
    };

    /**
     * A request was answered and bytes are about to flow.
     *
     * @param resumedFrom bytes already in the partial file that are kept (0 for a fresh start)
     * @param total       the complete file size, or -1 when the server does not say
     */
    default void started(URI uri, Path target, long resumedFrom, long total) {
    }

    /** {@code done} counts the whole file so far, resumed bytes included. */
    default void progress(URI uri, Path target, long done, long total) {
    }

    /** An attempt failed and will be resumed after {@code delayMillis}. */
    default void retrying(URI uri, Path target, int attempt, long delayMillis, DownloadException cause) {
    }

    default void finished(URI uri, Path target, long size) {
    }
}
