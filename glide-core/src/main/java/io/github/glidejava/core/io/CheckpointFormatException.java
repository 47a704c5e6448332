package io.github.glidejava.core.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint or tensor file whose content breaks its format's rules. The message names the file and, where one
 * is concerned, the tensor, and says what was expected.
 */
public class CheckpointFormatException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;

    public CheckpointFormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public CheckpointFormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
