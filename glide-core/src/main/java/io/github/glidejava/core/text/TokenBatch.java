package io.github.glidejava.core.text;

import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

/**
 * A batch of prompts as GLIDE's text encoder takes them: {@code tokens} int64 [N, text_ctx] and {@code mask} bool
 * [N, text_ctx] (true for real tokens), the layout of the reference's {@code th.tensor(tokens)} / {@code mask}.
 */
public record TokenBatch(INDArray tokens, INDArray mask) {
    static {
        GlideBackend.init();
    }

    /** Stacks prompts that share one context length, in order. */
    public static TokenBatch of(List<TokensAndMask> rows) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a token batch needs at least one prompt, got none");
        }
        int ctx = rows.get(0).length();
        long[][] tokens = new long[rows.size()][];
        boolean[][] mask = new boolean[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            TokensAndMask row = rows.get(i);
            if (row.length() != ctx) {
                throw new IllegalArgumentException("prompt " + i + " has context length " + row.length()
                        + ", expected " + ctx + " like prompt 0");
            }
            long[] t = new long[ctx];
            for (int j = 0; j < ctx; j++) {
                t[j] = row.tokens()[j];
            }
            tokens[i] = t;
            mask[i] = row.mask().clone();
        }
        return new TokenBatch(Nd4j.createFromArray(tokens), Nd4j.createFromArray(mask));
    }

    /** Number of prompts N. */
    public int size() {
        return (int) tokens.size(0);
    }

    /** Context length (positions per prompt). */
    public int textCtx() {
        return (int) tokens.size(1);
    }
}
