package io.github.glidejava.core.io;

import java.nio.file.Path;

/** A malformed PyTorch checkpoint: bad zip structure, missing records, an invalid pickle, or inconsistent storages. */
public class TorchCheckpointFormatException extends CheckpointFormatException {
    private static final long serialVersionUID = 1L;

    public TorchCheckpointFormatException(Path file, String message) {
        super(file, message);
    }

    public TorchCheckpointFormatException(Path file, String message, Throwable cause) {
        super(file, message, cause);
    }
}
