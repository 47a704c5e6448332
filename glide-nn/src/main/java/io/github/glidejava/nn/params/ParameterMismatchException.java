package io.github.glidejava.nn.params;

import java.util.List;

/** The tensors offered for a model do not match the parameters it expects; lists every difference at once. */
public final class ParameterMismatchException extends IllegalArgumentException {
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> misShaped;

    public ParameterMismatchException(String source, List<String> missing, List<String> unexpected,
            List<String> misShaped) {
        super(message(source, missing, unexpected, misShaped));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.misShaped = List.copyOf(misShaped);
    }

    private static String message(String source, List<String> missing, List<String> unexpected,
            List<String> misShaped) {
        StringBuilder sb = new StringBuilder("parameters in " + source + " do not match the model:");
        if (!missing.isEmpty()) {
            sb.append("\n  missing (").append(missing.size()).append("): ").append(String.join(", ", missing));
        }
        if (!unexpected.isEmpty()) {
            sb.append("\n  unexpected (").append(unexpected.size()).append("): ").append(String.join(", ", unexpected));
        }
        if (!misShaped.isEmpty()) {
            sb.append("\n  wrong shape (").append(misShaped.size()).append("): ").append(String.join("; ", misShaped));
        }
        return sb.toString();
    }

    public List<String> missing() {
        return missing;
    }

    public List<String> unexpected() {
        return unexpected;
    }

    public List<String> misShaped() {
        return misShaped;
    }
}
