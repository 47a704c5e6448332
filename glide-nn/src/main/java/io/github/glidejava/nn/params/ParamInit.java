package io.github.glidejava.nn.params;

/**
 * How a freshly built model fills a parameter, following PyTorch's defaults as GLIDE uses them: conv / linear
 * weights and biases uniform in +-1/sqrt(fan_in), norm gains 1 and biases 0, embeddings normal, and
 * {@code zero_module} outputs zero.
 */
public final class ParamInit {
    public enum Kind { CONSTANT, UNIFORM, NORMAL }

    private final Kind kind;
    private final double value;

    private ParamInit(Kind kind, double value) {
        this.kind = kind;
        this.value = value;
    }

    public static ParamInit constant(double v) {
        return new ParamInit(Kind.CONSTANT, v);
    }

    public static ParamInit zeros() {
        return constant(0.0);
    }

    public static ParamInit ones() {
        return constant(1.0);
    }

    /** Uniform in {@code [-bound, bound]}. */
    public static ParamInit uniform(double bound) {
        return new ParamInit(Kind.UNIFORM, bound);
    }

    /** PyTorch's Linear / Conv default: uniform in +-1/sqrt(fan_in). */
    public static ParamInit fanIn(long fanIn) {
        return uniform(1.0 / Math.sqrt(fanIn));
    }

    public static ParamInit normal(double std) {
        return new ParamInit(Kind.NORMAL, std);
    }

    public Kind kind() {
        return kind;
    }

    /** The constant, the uniform bound or the normal standard deviation. */
    public double value() {
        return value;
    }

    @Override
    public String toString() {
        return kind + "(" + value + ")";
    }
}
