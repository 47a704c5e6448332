package io.github.glidejava.core.text;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any text through CLIP's tokenizer (ftfy-style clean-up, HTML unescaping, lower-casing, BPE): encoding never
 * fails, every id is in the vocabulary, decoding never fails, and padding gives {@code textCtx} tokens with a
 * length in [1, textCtx]. No exception is documented: any is a finding.
 */
class ClipTokenizerFuzzTest {
    private static final ClipTokenizer CLIP = ClipTokenizer.clip();
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(16L << 20, 8192);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyText(FuzzedDataProvider data) {
        int ctx = data.consumeInt(2, 128);
        String text = data.consumeRemainingAsString();
        FuzzChecks.check(text.length() * 2, BUDGET, () -> {
            int[] ids = CLIP.encode(text);
            for (int id : ids) {
                if (id < 0 || id >= CLIP.vocabSize()) {
                    throw new AssertionError("id " + id + " outside the vocabulary of " + CLIP.vocabSize());
                }
            }
            CLIP.decode(ids);
            ClipTokenizer.PaddedTokens padded = CLIP.paddedTokensAndLen(ids, ctx);
            if (padded.tokens().length != ctx || padded.length() < 1 || padded.length() > ctx) {
                throw new AssertionError("padded to " + padded.tokens().length + " tokens of length "
                        + padded.length() + ", context " + ctx);
            }
        });
    }
}
