package io.github.glidejava.core.text;

import java.util.Arrays;

/**
 * GPT-2's {@code bytes_to_unicode()}: a reversible map from the 256 byte values to printable characters, so that BPE
 * works on strings without whitespace or control characters. Printable Latin-1 bytes ({@code '!'..'~'},
 * {@code '¡'..'¬'}, {@code '®'..'ÿ'}) map to themselves; the other 68 bytes map, in increasing byte order, to
 * U+0100, U+0101, ... (so the space byte becomes {@code 'Ġ'}).
 */
final class ByteLevel {
    /** Byte value (0..255) to its character. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Character to byte value, -1 where a character is not one of the 256. */
    private static final int[] CHAR_TO_BYTE;

    static {
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            printable[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable[b] = true;
        }
        int next = 256;
        for (int b = 0; b < 256; b++) {
            BYTE_TO_CHAR[b] = printable[b] ? (char) b : (char) next++;
        }
        CHAR_TO_BYTE = new int[next];
        Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {
    }

    static char encode(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte a character stands for, or -1 when it is not a byte-level character. */
    static int decode(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The byte-level string of a byte sequence, e.g. the UTF-8 bytes of {@code " a"} give {@code "Ġa"}. */
    static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }
}
