package io.github.glidejava.core.io;

import java.nio.file.Path;

/**
 * A checkpoint's pickle names a global outside the small allow-list a PyTorch state dict needs (such as
 * {@code os.system} or {@code builtins.eval}). Loading stops before anything is called; nothing is ever resolved by
 * name or instantiated reflectively.
 */
public class UnsafePickleException extends TorchCheckpointFormatException {
    private static final long serialVersionUID = 1L;
    private final String global;

    public UnsafePickleException(Path file, String global, String message) {
        super(file, message);
        this.global = global;
    }

    /** The refused global as {@code module.name}. */
    public String global() {
        return global;
    }
}
