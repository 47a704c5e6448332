package io.github.glidejava.core.io;

import java.util.Arrays;
import java.util.List;

/**
 * A state dict does not fit a model: lists every missing, unexpected and mis-shaped key at once (like PyTorch's
 * {@code load_state_dict(strict=True)}).
 */
public class StateDictMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** A key present on both sides with different shapes. */
    public record ShapeMismatch(String key, long[] expected, long[] actual) {
        @Override
        public String toString() {
            return key + ": checkpoint " + Arrays.toString(actual) + ", model expects " + Arrays.toString(expected);
        }
    }

    private final transient List<String> missing;
    private final transient List<String> unexpected;
    private final transient List<ShapeMismatch> mismatched;

    public StateDictMismatchException(String source, List<String> missing, List<String> unexpected,
                                      List<ShapeMismatch> mismatched) {
        super(message(source, missing, unexpected, mismatched));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.mismatched = List.copyOf(mismatched);
    }

    private static String message(String source, List<String> missing, List<String> unexpected,
                                  List<ShapeMismatch> mismatched) {
        StringBuilder sb = new StringBuilder("state dict ").append(source).append(" does not match the model: ")
                .append(missing.size()).append(" missing, ").append(unexpected.size()).append(" unexpected, ")
                .append(mismatched.size()).append(" mis-shaped key(s)");
        if (!missing.isEmpty()) {
            sb.append("\n  missing: ").append(String.join(", ", missing));
        }
        if (!unexpected.isEmpty()) {
            sb.append("\n  unexpected: ").append(String.join(", ", unexpected));
        }
        for (ShapeMismatch m : mismatched) {
            sb.append("\n  shape mismatch: ").append(m);
        }
        return sb.toString();
    }

    /** Keys the model expects that the state dict lacks, in the model's order. */
    public List<String> missingKeys() {
        return missing;
    }

    /** Keys of the state dict the model does not have, in the state dict's order. */
    public List<String> unexpectedKeys() {
        return unexpected;
    }

    public List<ShapeMismatch> shapeMismatches() {
        return mismatched;
    }
}
