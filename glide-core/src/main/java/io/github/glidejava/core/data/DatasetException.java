package io.github.glidejava.core.data;

import java.io.IOException;

/** A data set that cannot be used: unknown layout, a missing caption column, no usable examples, or (strict) a bad item. */
public class DatasetException extends IOException {
    private static final long serialVersionUID = 1L;

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
