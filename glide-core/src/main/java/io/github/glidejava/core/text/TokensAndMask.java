package io.github.glidejava.core.text;

import java.util.Arrays;

/**
 * One prompt as GLIDE's text encoder takes it: {@code tokens} of length text_ctx (real ids first, then the end token
 * as padding) and {@code mask}, true where a token is real. The arrays are not copied; do not modify them.
 */
public record TokensAndMask(int[] tokens, boolean[] mask) {
    public TokensAndMask {
        if (tokens.length != mask.length) {
            throw new IllegalArgumentException(
                    "tokens and mask differ in length: " + tokens.length + " vs " + mask.length);
        }
    }

    /** The context length (number of positions). */
    public int length() {
        return tokens.length;
    }

    /** The number of real (unpadded) tokens. */
    public int numRealTokens() {
        int n = 0;
        for (boolean b : mask) {
            if (b) {
                n++;
            }
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokensAndMask t && Arrays.equals(tokens, t.tokens) && Arrays.equals(mask, t.mask);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(tokens) + Arrays.hashCode(mask);
    }

    @Override
    public String toString() {
        return "TokensAndMask[tokens=" + Arrays.toString(tokens) + ", mask=" + Arrays.toString(mask) + "]";
    }
}
