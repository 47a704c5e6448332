package io.github.glidejava.diffusion.training;

import java.nio.file.Path;

/** Hears what a {@link GlideTrainer} does; every method has an empty default. Called on the training thread. */
public interface TrainingListener {

    /** Training (re)starts at {@code step} of {@code totalSteps} (0 when only a time limit bounds the run). */
    default void started(long step, long totalSteps, int datasetSize) {
    }

    /** One optimiser step finished. */
    default void stepDone(TrainingMetrics metrics) {
    }

    /** A checkpoint was written. */
    default void checkpointWritten(long step, Path directory) {
    }

    /**
     * On resume, {@code checkpoint} failed its checksums (or could not be read): {@code problem} names the file and
     * what is wrong. It was renamed to {@code setAside}; the run resumes from {@code previous} if that one is intact
     * (null: there is no earlier checkpoint).
     */
    default void checkpointRejected(Path checkpoint, String problem, Path setAside, Path previous) {
    }

    /** A grid of validation samples was written. */
    default void samplesWritten(long step, Path png) {
    }

    /** Training ended: the limit was reached or it was cancelled. */
    default void finished(long step, boolean cancelled) {
    }
}
