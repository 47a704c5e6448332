package io.github.glidejava.core.text;

import java.nio.charset.StandardCharsets;

/**
 * The two pieces of CPython string behaviour that GLIDE's tokenizer depends on, reproduced exactly:
 * {@code str.lower()} and {@code bytes.decode("utf-8", errors="replace")}.
 *
 * <p>Java's {@code String.toLowerCase(Locale.ROOT)} differs from {@code str.lower()} in how it decides the final
 * sigma (it uses word boundaries from {@code BreakIterator}; CPython uses the Unicode "Final_Sigma" context with the
 * Cased and Case_Ignorable properties), and {@code new String(bytes, UTF_8)} does not promise CPython's count of
 * replacement characters for ill-formed input. Both are implemented here from the CPython rules. Character data
 * (simple case mappings, general categories) come from the JDK, i.e. the JDK's Unicode version (Unicode 13 on
 * Java 17); characters added in later Unicode versions may lower-case differently than in a newer CPython.
 */
public final class PythonText {
    private static final char CAPITAL_SIGMA = '\u03A3';
    private static final char SMALL_SIGMA = '\u03C3';
    private static final char FINAL_SIGMA = '\u03C2';
    private static final char CAPITAL_I_WITH_DOT = '\u0130';
    private static final char REPLACEMENT = '\uFFFD';

    private PythonText() {
    }

    /**
     * CPython's {@code str.lower()}: full Unicode lower-casing without locale. {@code 'İ'} (U+0130) becomes
     * {@code "i\u0307"} (the only unconditional multi-character lower-case mapping), and {@code 'Σ'} becomes the
     * final sigma {@code 'ς'} when it follows a cased letter (skipping case-ignorable characters) and is not followed
     * by one; every other code point takes its simple lower-case mapping.
     */
    public static String lower(String text) {
        int n = text.length();
        int i = 0;
        // Fast path: nothing to change in pure lower-case ASCII.
        while (i < n) {
            char c = text.charAt(i);
            if (c >= 0x80 || (c >= 'A' && c <= 'Z')) {
                break;
            }
            i++;
        }
        if (i == n) {
            return text;
        }
        StringBuilder out = new StringBuilder(n + 8);
        out.append(text, 0, i);
        while (i < n) {
            int cp = text.codePointAt(i);
            if (cp < 0x80) {
                out.append((char) (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
            } else if (cp == CAPITAL_I_WITH_DOT) {
                out.append('i').append('\u0307');
            } else if (cp == CAPITAL_SIGMA) {
                out.append(isFinalSigma(text, i) ? FINAL_SIGMA : SMALL_SIGMA);
            } else {
                out.appendCodePoint(Character.toLowerCase(cp));
            }
            i += Character.charCount(cp);
        }
        return out.toString();
    }

    /** CPython's {@code handle_capital_sigma}: {@code \p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})}. */
    private static boolean isFinalSigma(String text, int index) {
        int j = index;
        int before = -1;
        while (j > 0) {
            int cp = text.codePointBefore(j);
            j -= Character.charCount(cp);
            if (!isCaseIgnorable(cp)) {
                before = cp;
                break;
            }
        }
        if (before < 0 || !isCased(before)) {
            return false;
        }
        j = index + 1;
        while (j < text.length()) {
            int cp = text.codePointAt(j);
            j += Character.charCount(cp);
            if (!isCaseIgnorable(cp)) {
                return !isCased(cp);
            }
        }
        return true;
    }

    /** Unicode derived property Cased: Lowercase or Uppercase (both including Other_*) or general category Lt. */
    static boolean isCased(int cp) {
        return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
    }

    /**
     * Unicode derived property Case_Ignorable: general category Mn, Me, Cf, Lm or Sk, or Word_Break MidLetter,
     * MidNumLet or Single_Quote (the JDK has no Word_Break data, so those code points are listed).
     */
    static boolean isCaseIgnorable(int cp) {
        switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK:
            case Character.ENCLOSING_MARK:
            case Character.FORMAT:
            case Character.MODIFIER_LETTER:
            case Character.MODIFIER_SYMBOL:
                return true;
            default:
                break;
        }
        switch (cp) {
            case 0x0027: // Single_Quote
            case 0x002E: case 0x2018: case 0x2019: case 0x2024: case 0xFE52: case 0xFF07: case 0xFF0E: // MidNumLet
            case 0x003A: case 0x00B7: case 0x0387: case 0x055F: case 0x05F4: case 0x2027: case 0xFE13: case 0xFE55:
            case 0xFF1A: // MidLetter
                return true;
            default:
                return false;
        }
    }

    /**
     * UTF-8 encoding as CPython's {@code str.encode("utf-8")}, which refuses unpaired surrogates (Java would
     * silently write '?').
     *
     * @throws IllegalArgumentException naming the index of an unpaired surrogate
     */
    public static byte[] encodeUtf8(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(String.format(
                        "text contains an unpaired surrogate U+%04X at index %d; it cannot be encoded as UTF-8",
                        (int) c, i));
            }
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * CPython's {@code bytes.decode("utf-8", errors="replace")}: each maximal ill-formed subpart (Unicode's
     * recommended practice, as CPython implements it) becomes one U+FFFD, including a truncated sequence at the end.
     */
    public static String decodeUtf8(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length);
        int n = bytes.length;
        int i = 0;
        while (i < n) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                if (b0 == 0xE0) {
                    lo = 0xA0;
                } else if (b0 == 0xED) {
                    hi = 0x9F;
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                if (b0 == 0xF0) {
                    lo = 0x90;
                } else if (b0 == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                // 0x80..0xC1 and 0xF5..0xFF never start a sequence.
                out.append(REPLACEMENT);
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                if (j >= n) {
                    ok = false;
                    break;
                }
                int b = bytes[j] & 0xFF;
                int min = k == 0 ? lo : 0x80;
                int max = k == 0 ? hi : 0xBF;
                if (b < min || b > max) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            if (ok) {
                out.appendCodePoint(cp);
            } else {
                // The valid prefix [i, j) is one maximal subpart; decoding resumes at the offending byte.
                out.append(REPLACEMENT);
            }
            i = j;
        }
        return out.toString();
    }
}
