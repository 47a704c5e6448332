package io.github.glidejava.nn.ops;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How the eager back-end computes its 3x3 (and larger) convolutions, which take most of a GLIDE forward's time. Only
 * {@link #FP32} is exact to float32 round-off; the others trade accuracy for speed and are opt-in.
 */
public enum Precision {
    /** float32, direct convolution (the default). */
    FP32("fp32"),
    /**
     * float32 with Winograd's algorithm (fewer multiplications, a little more rounding error: about 2e-6 of the output
     * range per layer) where it is faster, on large feature maps; direct convolution elsewhere.
     */
    WINOGRAD("winograd"),
    /** Input and weights rounded to bfloat16 (8-bit mantissa), float32 accumulation; fast on AVX-512 BF16 CPUs. */
    BF16("bf16");

    private final String id;

    Precision(String id) {
        this.id = id;
    }

    /** The name used on the command line and in image metadata. */
    public String id() {
        return id;
    }

    /** The precision named {@code s} (case-insensitive), with an error listing the names otherwise. */
    public static Precision parse(String s) {
        for (Precision p : values()) {
            if (p.id.equalsIgnoreCase(s.trim()) || p.name().equalsIgnoreCase(s.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown precision '" + s + "'; expected one of "
                + Arrays.stream(values()).map(Precision::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
