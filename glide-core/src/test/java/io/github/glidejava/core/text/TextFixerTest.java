package io.github.glidejava.core.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** ftfy's repairs on inputs beyond the reference cases (expected values are what ftfy 6.3's fix_text returns). */
class TextFixerTest {
    @Test
    void utf8ReadAsWindows1252IsDecodedAgainAndItsQuotesStraightened() {
        assertEquals("\"quoted\" café", TextFixer.fixText("â€œquotedâ€\u009d cafÃ©"));
    }

    @Test
    void c1ControlsAreWindows1252Characters() {
        assertEquals("\"hi\" \u2026", TextFixer.fixText("\u0093hi\u0094 \u0085"));
        assertEquals("\u20ac5", TextFixer.fixText("\u00805"));
    }

    @Test
    void terminalEscapesControlsAndLineBreaks() {
        assertEquals("red text", TextFixer.fixText("\u001B[31mred\u001B[0m text"));
        assertEquals("a\nb\nc\nd", TextFixer.fixText("a\r\nb\rc\u2028d"));
        assertEquals("ab\tc\u000Cd", TextFixer.fixText("a\u0000b\tc\u000C\u0007d\uFEFF"));
    }

    @Test
    void widthLigaturesSurrogatesAndNfc() {
        assertEquals("ABC 12", TextFixer.fixText("\uFF21\uFF22\uFF23\u3000\uFF11\uFF12"));
        assertEquals("office", TextFixer.fixText("o\uFB03ce"));
        assertEquals("\uFFFDx", TextFixer.fixText("\uD800x"));
        assertEquals("\u00E9", TextFixer.fixText("e\u0301"));
    }

    @Test
    void htmlReferencesAreDecodedBeforeTheOtherRepairsUnlessTheTextLooksLikeHtml() {
        assertEquals("\"hi\" & Ñ \"", TextFixer.fixText("&ldquo;hi&rdquo; &amp; &NTILDE; &#8220;"));
        assertEquals("&notanentity; &amp", TextFixer.fixText("&notanentity; &amp"));
        assertEquals("<", TextFixer.fixText("&amp;lt;"));
        // from the first line holding '<' on, references stay (the tokenizer's html.unescape decodes them later,
        // after the quotes were straightened)
        assertEquals("\"a\n<b>&ldquo;</b>\n&amp;", TextFixer.fixText("&ldquo;a\n<b>&ldquo;</b>\n&amp;"));
        assertEquals("<b>\u201Cx\u201D</b>", ClipTokenizer.clean("<B>&ldquo;x&rdquo;</B>"));
    }

    @Test
    void ordinaryTextIsUnchanged() {
        for (String s : new String[] {"naïve résumé", "Ångström", "日本語", "🐶 party", "x² ½"}) {
            assertEquals(s, TextFixer.fixText(s));
        }
    }
}
