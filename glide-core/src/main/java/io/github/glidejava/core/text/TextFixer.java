package io.github.glidejava.core.text;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jsoup.nodes.Entities;
import org.jsoup.parser.Parser;

/**
 * The text repairs of {@code ftfy.fix_text} (ftfy 6.3, default settings) that CLIP's tokenizer applies before
 * tokenizing: mojibake repair, C1 controls read as Windows-1252, Latin ligatures split, fullwidth and halfwidth forms
 * to standard width, curly quotes straightened, line breaks unified, lone surrogates replaced, terminal escapes and
 * control characters removed, then NFC. Each line is fixed on its own and the fixes repeat until nothing changes, as
 * ftfy does.
 *
 * <p>Mojibake repair is narrower than ftfy's: ftfy decides whether text "looks bad" with a large table of
 * character classes and tries ten single-byte encodings; here text counts as mojibake when a character that is a
 * UTF-8 lead byte in Windows-1252 (0xC2..0xF4) is directly followed by one that is a continuation byte
 * (0x80..0xBF), and only Latin-1 and Windows-1252 are tried. That covers UTF-8 read as either of them (the usual
 * case, e.g. {@code "cafÃ©"}), and leaves all other text unchanged.
 *
 * <p>HTML character references ({@code &name;}, {@code &#n;}) are decoded first, before the other repairs see the
 * text (so {@code &ldquo;} ends up a straight quote), but only in lines before the first line that contains a
 * {@code <} (text that looks like HTML source is left alone from there on, as ftfy does).
 */
final class TextFixer {
    /** Windows-1252 as ftfy's "sloppy" codec: the five bytes Windows leaves undefined decode as Latin-1. */
    private static final char[] SLOPPY_1252 = new char[256];
    /** Character -> its sloppy Windows-1252 byte, -1 where it has none. */
    private static final int[] SLOPPY_1252_BYTE = new int[0x10000];

    private static final Pattern TERMINAL_ESCAPE = Pattern.compile("\u001B\\[[0-9;]*[a-zA-Z]");
    private static final Pattern HTML_ENTITY = Pattern.compile("&#?[0-9A-Za-z]{1,24};");

    static {
        java.util.Arrays.fill(SLOPPY_1252_BYTE, -1);
        Charset cp1252 = Charset.forName("windows-1252");
        for (int b = 0; b < 256; b++) {
            String s = new String(new byte[] {(byte) b}, cp1252);
            char c = s.length() == 1 && s.charAt(0) != '\uFFFD' ? s.charAt(0) : (char) b;
            SLOPPY_1252[b] = c;
            SLOPPY_1252_BYTE[c] = b;
        }
    }

    private TextFixer() {
    }

    /** ftfy's {@code fix_text(text)}. */
    static String fixText(String text) {
        StringBuilder out = new StringBuilder(text.length());
        int pos = 0;
        boolean unescapeHtml = true;
        while (pos < text.length()) {
            int lineEnd = text.indexOf('\n', pos) + 1;
            if (lineEnd == 0) {
                lineEnd = text.length();
            }
            String segment = text.substring(pos, lineEnd);
            // ftfy switches HTML unescaping off for this and every later line once a line holds '<'
            unescapeHtml &= segment.indexOf('<') < 0;
            out.append(fixSegment(segment, unescapeHtml));
            pos = lineEnd;
        }
        return out.toString();
    }

    private static String fixSegment(String text, boolean unescapeHtml) {
        while (true) {
            String before = text;
            if (unescapeHtml) {
                text = unescapeHtml(text);
            }
            text = fixEncoding(text);
            text = fixC1Controls(text);
            text = fixLatinLigatures(text);
            text = fixCharacterWidth(text);
            text = uncurlQuotes(text);
            text = fixLineBreaks(text);
            text = fixSurrogates(text);
            text = TERMINAL_ESCAPE.matcher(text).replaceAll("");
            text = removeControlChars(text);
            text = Normalizer.normalize(text, Normalizer.Form.NFC);
            if (text.equals(before)) {
                return text;
            }
        }
    }

    /**
     * ftfy's {@code unescape_html}: each {@code &name;} that is an HTML5 entity (or the upper-cased name of a
     * lower-case one, e.g. {@code &NTILDE;}) and each numeric reference is decoded; anything else stays.
     */
    static String unescapeHtml(String text) {
        if (text.indexOf('&') < 0) {
            return text;
        }
        Matcher m = HTML_ENTITY.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(htmlReference(m.group())));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String htmlReference(String ref) {
        String name = ref.substring(1, ref.length() - 1);
        if (name.startsWith("#")) {
            String decoded = Parser.unescapeEntities(ref, false);
            return decoded.indexOf(';') >= 0 ? ref : decoded;
        }
        if (Entities.isNamedEntity(name)) {
            return Entities.getByName(name);
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (name.equals(name.toUpperCase(Locale.ROOT)) && Entities.isNamedEntity(lower)) {
            return Entities.getByName(lower).toUpperCase(Locale.ROOT);
        }
        return ref;
    }

    /** UTF-8 that was decoded as Latin-1 or Windows-1252, decoded again correctly; repeated while it applies. */
    static String fixEncoding(String text) {
        while (looksLikeMojibake(text)) {
            String fixed = redecode(text);
            if (fixed == null || fixed.equals(text)) {
                return text;
            }
            text = fixed;
        }
        return text;
    }

    static boolean looksLikeMojibake(String text) {
        for (int i = 0; i + 1 < text.length(); i++) {
            int lead = sloppyByte(text.charAt(i));
            int next = sloppyByte(text.charAt(i + 1));
            if (lead >= 0xC2 && lead <= 0xF4 && next >= 0x80 && next <= 0xBF) {
                return true;
            }
        }
        return false;
    }

    private static int sloppyByte(char c) {
        return c < 0x80 ? c : SLOPPY_1252_BYTE[c];
    }

    /** The text's Latin-1 (else sloppy Windows-1252) bytes as strict UTF-8, or null when that fails. */
    private static String redecode(String text) {
        byte[] latin1 = new byte[text.length()];
        byte[] cp1252 = new byte[text.length()];
        boolean isLatin1 = true;
        boolean isCp1252 = true;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            isLatin1 &= c <= 0xFF;
            latin1[i] = (byte) c;
            int b = sloppyByte(c);
            isCp1252 &= b >= 0;
            cp1252[i] = (byte) b;
        }
        if (isLatin1) {
            String s = strictUtf8(latin1);
            if (s != null) {
                return s;
            }
        }
        return isCp1252 ? strictUtf8(cp1252) : null;
    }

    private static String strictUtf8(byte[] bytes) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** C1 control characters (U+0080..U+009F) read as the Windows-1252 characters of those bytes. */
    static String fixC1Controls(String text) {
        return map(text, c -> c >= 0x80 && c <= 0x9F ? String.valueOf(SLOPPY_1252[c]) : null);
    }

    static String fixLatinLigatures(String text) {
        return map(text, c -> switch (c) {
            case '\u0132' -> "IJ";
            case '\u0133' -> "ij";
            case '\u0149' -> "\u02BCn";
            case '\u01F1' -> "DZ";
            case '\u01F2' -> "Dz";
            case '\u01F3' -> "dz";
            case '\u01C4' -> "D\u017D";
            case '\u01C5' -> "D\u017E";
            case '\u01C6' -> "d\u017E";
            case '\u01C7' -> "LJ";
            case '\u01C8' -> "Lj";
            case '\u01C9' -> "lj";
            case '\u01CA' -> "NJ";
            case '\u01CB' -> "Nj";
            case '\u01CC' -> "nj";
            case '\uFB00' -> "ff";
            case '\uFB01' -> "fi";
            case '\uFB02' -> "fl";
            case '\uFB03' -> "ffi";
            case '\uFB04' -> "ffl";
            case '\uFB05' -> "\u017Ft";
            case '\uFB06' -> "st";
            default -> null;
        });
    }

    /** Fullwidth and halfwidth forms (U+FF01..U+FFEF) to their NFKC form, the ideographic space to a space. */
    static String fixCharacterWidth(String text) {
        return map(text, c -> {
            if (c == '\u3000') {
                return " ";
            }
            if (c >= '\uFF01' && c <= '\uFFEF') {
                String alt = Normalizer.normalize(String.valueOf(c), Normalizer.Form.NFKC);
                return alt.equals(String.valueOf(c)) ? null : alt;
            }
            return null;
        });
    }

    static String uncurlQuotes(String text) {
        return map(text, c -> c == '\u02BC' || (c >= '\u2018' && c <= '\u201B') ? "'"
                : c >= '\u201C' && c <= '\u201F' ? "\"" : null);
    }

    static String fixLineBreaks(String text) {
        return text.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n').replace('\u2029', '\n')
                .replace('\u0085', '\n');
    }

    /** Unpaired UTF-16 surrogates (possible in a Java string) become U+FFFD. */
    static String fixSurrogates(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (out != null) {
                    out.append(c).append(text.charAt(i + 1));
                }
                i++;
                continue;
            }
            if (Character.isSurrogate(c)) {
                if (out == null) {
                    out = new StringBuilder(text.length()).append(text, 0, i);
                }
                out.append('\uFFFD');
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /** Removes C0 controls other than tab, LF, form feed and CR, DEL, deprecated format characters, BOM, annotations. */
    static String removeControlChars(String text) {
        return map(text, c -> (c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F
                || (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC)) ? "" : null);
    }

    private interface CharMap {
        /** The replacement of c, or null to keep it. */
        String apply(char c);
    }

    private static String map(String text, CharMap f) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String r = f.apply(c);
            if (r != null && out == null) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out != null) {
                if (r != null) {
                    out.append(r);
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? text : out.toString();
    }
}
