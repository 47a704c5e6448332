package io.github.glidejava.core.text;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2's pre-tokenizer: splits (already lower-cased) text into the words that BPE encodes separately, as
 * {@code regex.findall} does with the pattern {@link #PYTHON_PATTERN} in Python's {@code regex} module.
 *
 * <p>Python's {@code \s} (module {@code regex}, str pattern) is the Unicode White_Space property. Java's plain
 * {@code \s} is ASCII-only, and {@code Character.isWhitespace} differs as well (it includes U+001C..U+001F and
 * excludes U+00A0), so the Java pattern spells the White_Space set out. {@code \p{L}} and {@code \p{N}} are
 * Unicode general categories in both engines. Alternation order, greediness and the look-ahead in
 * {@code \s+(?!\S)} behave the same way in both.
 */
final class PreTokenizer {
    /** The pattern exactly as glide_text2im/tokenizer/bpe.py compiles it. */
    static final String PYTHON_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Unicode White_Space (PropList.txt): the 25 code points Python's regex module matches with {@code \s}. */
    static final String WHITE_SPACE =
            "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

    private static final Pattern PATTERN = Pattern.compile(PYTHON_PATTERN
            .replace("[^\\s\\p{L}\\p{N}]", "[^" + WHITE_SPACE + "\\p{L}\\p{N}]")
            .replace("(?!\\S)", "(?![^" + WHITE_SPACE + "])")
            .replace("\\s+", "[" + WHITE_SPACE + "]+"));

    private PreTokenizer() {
    }

    /** The regex matches in order; their concatenation is the whole input. */
    static List<String> split(String lowered) {
        List<String> out = new ArrayList<>();
        Matcher m = PATTERN.matcher(lowered);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** The Java pattern actually used (for diagnostics). */
    static String javaPattern() {
        return PATTERN.pattern();
    }
}
