package io.github.glidejava.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

import org.junit.jupiter.api.Test;

/** Expected values are CPython 3.11's str.lower() and bytes.decode("utf-8", "replace") for the same inputs. */
class PythonTextTest {
    private static final String R = "\uFFFD";

    @Test
    void lowerAppliesFullMappingOfDottedCapitalI() {
        assertEquals("i\u0307stanbul", PythonText.lower("\u0130STANBUL"));
        assertEquals("stra\u00dfe strasse", PythonText.lower("STRA\u00dfE STRASSE"));
        assertEquals("\u2177", PythonText.lower("\u2167")); // roman numeral eight
    }

    @Test
    void lowerChoosesFinalSigmaByCasedAndCaseIgnorableContext() {
        assertEquals("\u03c3\u03b1\u03c2", PythonText.lower("\u03a3\u0391\u03a3"));
        assertEquals("\u03c3", PythonText.lower("\u03a3"));            // nothing cased before it
        assertEquals("a\u03c2", PythonText.lower("A\u03a3"));
        assertEquals("a\u03c2.", PythonText.lower("A\u03a3."));        // '.' is case-ignorable
        assertEquals("a\u03c3.b", PythonText.lower("A\u03a3.B"));      // ... so the 'b' after it counts
        assertEquals("a'\u03c2", PythonText.lower("A'\u03a3"));
        assertEquals("1\u03c3", PythonText.lower("1\u03a3"));
        assertEquals("a\u03c21", PythonText.lower("A\u03a31"));
        assertEquals("a\u03c3\u00adb", PythonText.lower("A\u03a3\u00adB")); // soft hyphen (Cf) is case-ignorable
        assertEquals("\u03b1\u03c2\u0301", PythonText.lower("\u0391\u03a3\u0301"));
    }

    @Test
    void lowerDiffersFromJavaWhereJavaUsesWordBoundaries() {
        // CPython: ':' is case-ignorable (Word_Break MidLetter), so the cased letters around it count.
        assertEquals("a\u03c3:b", PythonText.lower("A\u03a3:B"));
        assertEquals("a:\u03c2", PythonText.lower("A:\u03a3"));
        assertNotEquals("a\u03c3:b", "A\u03a3:B".toLowerCase(Locale.ROOT));
        assertNotEquals("a:\u03c2", "A:\u03a3".toLowerCase(Locale.ROOT));
    }

    @Test
    void lowerLeavesLowerCaseAsciiUntouched() {
        String s = "an oil painting of a corgi, 1999!";
        assertSame(s, PythonText.lower(s));
        assertEquals("don't", PythonText.lower("DON'T"));
        assertEquals("", PythonText.lower(""));
    }

    @Test
    void lowerKeepsSupplementaryCharacters() {
        assertEquals("\ud801\udc28x\ud83d\udc36", PythonText.lower("\ud801\udc00X\ud83d\udc36")); // Deseret, emoji
    }

    @Test
    void decodeReplacesEachMaximalIllFormedSubpart() {
        assertEquals(R, decode(0xE2, 0x82));                  // truncated 3-byte sequence: one replacement
        assertEquals(R + "a", decode(0xE2, 0x82, 'a'));
        assertEquals(R + R + R, decode(0xED, 0xA0, 0x80));    // encoded surrogate
        assertEquals(R, decode(0xF0, 0x9F, 0x90));
        assertEquals(R + R, decode(0xC0, 0xAF));              // overlong
        assertEquals(R + R + R + R, decode(0xF4, 0x90, 0x80, 0x80)); // above U+10FFFF
        assertEquals(R, decode(0xFF));
        assertEquals(R + R + R, decode(0xE0, 0x80, 0x80));
        assertEquals("a" + R + "b", decode('a', 0x80, 'b'));
        assertEquals("\ud83d\udc36", decode(0xF0, 0x9F, 0x90, 0xB6));
    }

    @Test
    void decodeOfValidUtf8IsExact() {
        String s = "caf\u00e9 \u4e00\u53ea\u732b \ud83c\udf89 \u0000end";
        assertEquals(s, PythonText.decodeUtf8(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void encodeRejectsUnpairedSurrogates() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PythonText.encodeUtf8("ab\ud800c"));
        assertTrue(e.getMessage().contains("U+D800") && e.getMessage().contains("index 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PythonText.encodeUtf8("x\udc36"));
        assertArrayEquals(new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x90, (byte) 0xB6}, PythonText.encodeUtf8("\ud83d\udc36"));
    }

    private static String decode(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return PythonText.decodeUtf8(b);
    }
}
