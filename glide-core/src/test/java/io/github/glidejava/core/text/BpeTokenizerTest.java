package io.github.glidejava.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * BPE semantics and loading on a tiny synthetic vocabulary (no reference fixtures needed): ids 0..255 are the
 * single bytes in byte order, then the merged symbols.
 */
class BpeTokenizerTest {
    @TempDir
    Path dir;

    /** Vocabulary: 256 byte tokens, then the given extra tokens, then the end token. */
    private Path writeEncoder(String name, boolean gzip, String... extra) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevel.encode(b)), b);
        }
        for (String t : extra) {
            vocab.put(t, vocab.size());
        }
        vocab.put("<|endoftext|>", vocab.size());
        return write(name, new ObjectMapper().writeValueAsBytes(vocab), gzip);
    }

    private Path writeMerges(String name, boolean gzip, String... merges) throws IOException {
        return write(name, ("#version: 0.2\n" + String.join("\n", merges) + "\n").getBytes(StandardCharsets.UTF_8), gzip);
    }

    private Path write(String name, byte[] content, boolean gzip) throws IOException {
        Path p = dir.resolve(name);
        if (gzip) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (OutputStream out = new GZIPOutputStream(bytes)) {
                out.write(content);
            }
            content = bytes.toByteArray();
        }
        Files.write(p, content);
        return p;
    }

    private BpeTokenizer tiny(String[] tokens, String... merges) throws IOException {
        return BpeTokenizer.load(writeEncoder("encoder.json", false, tokens), writeMerges("vocab.bpe", false, merges));
    }

    @Test
    void mergesByLowestRankFirst() throws IOException {
        BpeTokenizer bcFirst = tiny(new String[] {"bc", "ab"}, "b c", "a b");
        assertEquals(List.of("a", "bc"), bcFirst.pieces("abc"));
        assertArrayEquals(new int[] {'a', 256}, bcFirst.encode("abc"));
        BpeTokenizer abFirst = tiny(new String[] {"bc", "ab"}, "a b", "b c");
        assertEquals(List.of("ab", "c"), abFirst.pieces("abc"));
        assertArrayEquals(new int[] {257, 'c'}, abFirst.encode("abc"));
    }

    @Test
    void mergesAllOccurrencesLeftToRightWithoutOverlap() throws IOException {
        BpeTokenizer t = tiny(new String[] {"aa", "aaaa"}, "a a", "aa aa");
        assertEquals(List.of("aaaa"), t.pieces("aaaa"));
        assertEquals(List.of("aa", "a"), t.pieces("aaa"));
        assertEquals(List.of("aaaa", "a"), t.pieces("aaaaa"));
    }

    @Test
    void spaceAndNonAsciiGoThroughByteLevelCharacters() throws IOException {
        BpeTokenizer t = tiny(new String[] {"\u0120a"}, "\u0120 a");
        assertEquals(List.of("x", "\u0120a"), t.pieces("x a"));
        // 'é' is two UTF-8 bytes C3 A9, which map to the characters Ã and ©.
        assertEquals(List.of("\u00c3", "\u00a9"), t.pieces("\u00c9"));
        assertArrayEquals(new int[] {0xC3, 0xA9}, t.encode("\u00c9"));
        assertEquals("\u00e9", t.decode(t.encode("\u00c9")));
    }

    @Test
    void endTokenIsLastIdAndPaddingKeepsFirstIds() throws IOException {
        BpeTokenizer t = tiny(new String[] {});
        assertEquals(257, t.vocabSize());
        assertEquals(256, t.endToken());
        TokensAndMask p = t.paddedTokensAndMask(new int[] {5, 6, 7, 8, 9}, 3);
        assertArrayEquals(new int[] {5, 6, 7}, p.tokens());
        assertArrayEquals(new boolean[] {true, true, true}, p.mask());
        p = t.paddedTokensAndMask(new int[] {5}, 4);
        assertArrayEquals(new int[] {5, 256, 256, 256}, p.tokens());
        assertArrayEquals(new boolean[] {true, false, false, false}, p.mask());
        assertEquals(1, p.numRealTokens());
        TokensAndMask empty = t.encodePadded("", 4);
        assertArrayEquals(new int[] {256, 256, 256, 256}, empty.tokens());
        assertArrayEquals(new boolean[4], empty.mask());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.paddedTokensAndMask(new int[] {1}, 0));
        assertTrue(e.getMessage().contains("textCtx"), e.getMessage());
    }

    @Test
    void gzipIsDetectedByContentNotName() throws IOException {
        String[] tokens = {"bc"};
        BpeTokenizer plain = tiny(tokens, "b c");
        // gzip'd content under plain names, and plain content under .gz names
        BpeTokenizer gz = BpeTokenizer.load(writeEncoder("e1.json", true, tokens), writeMerges("m1.bpe", true, "b c"));
        BpeTokenizer misnamed = BpeTokenizer.load(writeEncoder("e2.json.gz", false, tokens), writeMerges("m2.bpe.gz", false, "b c"));
        for (BpeTokenizer t : List.of(gz, misnamed)) {
            assertEquals(plain.vocabSize(), t.vocabSize());
            assertArrayEquals(plain.encode("abcbc d"), t.encode("abcbc d"));
        }
    }

    @Test
    void loadFromDirectoryFindsPlainOrGzipFiles() throws IOException {
        writeEncoder("encoder.json.gz", true, "bc");
        writeMerges("vocab.bpe", false, "b c");
        BpeTokenizer t = BpeTokenizer.loadFromDirectory(dir);
        assertArrayEquals(new int[] {'a', 256}, t.encode("abc"));
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        Path merges = writeMerges("vocab.bpe", false);
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> BpeTokenizer.load(dir.resolve("nope.json"), merges));
        assertTrue(e.getMessage().contains("nope.json") && e.getMessage().contains("encoder.json"), e.getMessage());

        e = assertThrows(NoSuchFileException.class, () -> BpeTokenizer.loadFromDirectory(dir));
        assertTrue(e.getMessage().contains("encoder.json.gz") && e.getMessage().contains(dir.toString()), e.getMessage());

        e = assertThrows(NoSuchFileException.class, () -> BpeTokenizer.loadFromDirectory(dir.resolve("absent")));
        assertTrue(e.getMessage().contains("absent"), e.getMessage());
    }

    @Test
    void corruptGzipIsReportedWithTheFileName() throws IOException {
        Path merges = writeMerges("vocab.bpe", false);
        Path garbage = write("encoder.json.gz", new byte[] {0x1F, (byte) 0x8B, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, false);
        IOException e = assertThrows(IOException.class, () -> BpeTokenizer.load(garbage, merges));
        assertTrue(e.getMessage().contains("corrupt gzip") && e.getMessage().contains(garbage.toString()), e.getMessage());

        Path good = writeEncoder("full.json.gz", true);
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = write("truncated.json.gz", Arrays.copyOf(bytes, bytes.length / 2), false);
        e = assertThrows(IOException.class, () -> BpeTokenizer.load(truncated, merges));
        assertTrue(e.getMessage().contains("corrupt gzip") && e.getMessage().contains("truncated.json.gz"), e.getMessage());
    }

    @Test
    void malformedVocabularyIsReported() throws IOException {
        Path merges = writeMerges("vocab.bpe", false);
        for (String json : new String[] {"[1, 2]", "{\"a\": \"x\"}", "{\"a\": 1", "{\"a\": 1.5}", "{\"a\": -1}", "{}", "{\"a\": 1} x"}) {
            Path enc = write("bad.json", json.getBytes(StandardCharsets.UTF_8), false);
            IOException e = assertThrows(IOException.class, () -> BpeTokenizer.load(enc, merges), json);
            assertTrue(e.getMessage().contains("malformed encoder.json") && e.getMessage().contains("bad.json"), e.getMessage());
        }
        Path notUtf8 = write("latin1.json", new byte[] {'{', '"', (byte) 0xE9, '"', ':', '1', '}'}, false);
        IOException e = assertThrows(IOException.class, () -> BpeTokenizer.load(notUtf8, merges));
        assertTrue(e.getMessage().contains("UTF-8") && e.getMessage().contains("latin1.json"), e.getMessage());
    }

    @Test
    void malformedMergeLineIsReportedWithLineNumber() throws IOException {
        Path enc = writeEncoder("encoder.json", false);
        Path merges = writeMerges("vocab.bpe", false, "a b", "a b c");
        IOException e = assertThrows(IOException.class, () -> BpeTokenizer.load(enc, merges));
        assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("vocab.bpe"), e.getMessage());
    }

    @Test
    void mismatchedVocabularyAndMergesFailClearlyWhenUsed() throws IOException {
        BpeTokenizer t = tiny(new String[] {}, "a b"); // "ab" is a merge result but not a token
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.encode("ab"));
        assertTrue(e.getMessage().contains("\"ab\"") && e.getMessage().contains("not in the vocabulary"), e.getMessage());
    }

    @Test
    void decodeRejectsUnknownIds() throws IOException {
        BpeTokenizer t = tiny(new String[] {});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {1, 999}));
        assertTrue(e.getMessage().contains("999") && e.getMessage().contains("position 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}));
    }

    @Test
    void decodeReplacesTruncatedCharacters() throws IOException {
        BpeTokenizer t = tiny(new String[] {});
        int[] ids = t.encode("\ud83d\udc36!");
        assertEquals(5, ids.length);
        assertEquals("\ud83d\udc36!", t.decode(ids));
        assertEquals("\uFFFD!", t.decode(new int[] {ids[0], ids[1], ids[4]}));
    }

    @Test
    void unpairedSurrogateIsRejected() throws IOException {
        BpeTokenizer t = tiny(new String[] {});
        assertThrows(IllegalArgumentException.class, () -> t.encode("a\ud800"));
    }

    @Test
    void emptyBatchIsRejected() throws IOException {
        BpeTokenizer t = tiny(new String[] {});
        assertThrows(IllegalArgumentException.class, () -> t.encodeBatch(List.of(), 8));
    }
}
