package io.github.glidejava.core.io;

import java.nio.file.Path;

/** A malformed safetensors file: bad header length, invalid JSON, bad dtype, shape or data offsets. */
public class SafeTensorsFormatException extends CheckpointFormatException {
    private static final long serialVersionUID = 1L;

    public SafeTensorsFormatException(Path file, String message) {
        super(file, message);
    }

    public SafeTensorsFormatException(Path file, String message, Throwable cause) {
        super(file, message, cause);
    }
}
