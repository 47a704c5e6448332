package io.github.glidejava.core.text;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any text (prompts come from users) through GLIDE's GPT-2 byte-level BPE: encoding never fails, every id is in
 * the vocabulary, decoding gives the lower-cased text back exactly (byte-level BPE loses nothing), and padding to the text
 * context gives exactly {@code textCtx} tokens. No exception is documented: any is a finding.
 */
class BpeTokenizerFuzzTest {
    private static final BpeTokenizer BPE = BpeTokenizer.glide();
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(16L << 20, 4096);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyText(FuzzedDataProvider data) {
        int ctx = data.consumeInt(1, 256);
        String text = data.consumeRemainingAsString();
        FuzzChecks.check(text.length() * 2, BUDGET, () -> {
            int[] ids = BPE.encode(text);
            for (int id : ids) {
                if (id < 0 || id >= BPE.vocabSize()) {
                    throw new AssertionError("id " + id + " outside the vocabulary of " + BPE.vocabSize()
                            + " for " + Arrays.toString(text.codePoints().toArray()));
                }
            }
            String back = BPE.decode(ids);
            // lower-cased as GLIDE's bpe.py does; an unpaired surrogate has no UTF-8 form to come back from
            boolean wellFormed = text.codePoints().noneMatch(c -> Character.getType(c) == Character.SURROGATE);
            if (wellFormed && !back.equals(PythonText.lower(text))) {
                throw new AssertionError("decode(encode(text)) differs: " + Arrays.toString(text.codePoints()
                        .toArray()) + " became " + Arrays.toString(back.codePoints().toArray()));
            }
            TokensAndMask padded = BPE.encodePadded(text, ctx);
            if (padded.tokens().length != ctx || padded.mask().length != ctx) {
                throw new AssertionError("padded to " + padded.tokens().length + " tokens, not " + ctx);
            }
        });
    }
}
