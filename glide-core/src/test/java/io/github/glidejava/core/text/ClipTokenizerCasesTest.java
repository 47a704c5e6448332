package io.github.glidejava.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;

/**
 * Every case of the reference's clip/tokenizer_cases.json (glide_text2im's SimpleTokenizer): cleaning, pre-tokens,
 * BPE pieces, ids, padding with the length, decoding. Every expectation and the context length come from the file.
 */
class ClipTokenizerCasesTest {
    private static JsonNode root;
    private static Path vocabFile;
    private static ClipTokenizer tokenizer;

    private static synchronized void load() throws IOException {
        if (tokenizer != null) {
            return;
        }
        root = new ObjectMapper().readTree(RefFixtures.require("clip/tokenizer_cases.json").toFile());
        vocabFile = RefFixtures.require("clip/bpe_simple_vocab_16e6.txt.gz");
        tokenizer = ClipTokenizer.load(vocabFile);
    }

    @Test
    void vocabularyMatchesTheReference() throws Exception {
        load();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(vocabFile)));
        assertEquals(root.get("bpe_simple_vocab_16e6_txt_gz_sha256").asText(), sha, "vocabulary file is not the one the cases were made with");
        assertEquals(root.get("vocab_size").asInt(), tokenizer.vocabSize());
        assertEquals(root.get("start_token").asInt(), tokenizer.startToken());
        assertEquals(root.get("end_token").asInt(), tokenizer.endToken());
        assertEquals(root.get("padding_token").asInt(), tokenizer.paddingToken());
        assertEquals(root.get("num_merges").asInt(), ClipTokenizer.NUM_MERGES);
        assertEquals(root.get("regex").asText(), ClipTokenizer.PRETOKENIZER_PATTERN);
    }

    @Test
    void bundledVocabularyEncodesEveryCaseLikeTheReferenceFile() throws IOException {
        load();
        ClipTokenizer bundled = ClipTokenizer.clip();
        for (JsonNode c : root.get("cases")) {
            String text = c.get("text").asText();
            assertArrayEquals(tokenizer.encode(text), bundled.encode(text), () -> "bundled vocabulary differs on " + text);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCase() throws IOException {
        load();
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (JsonNode c : root.get("cases")) {
            String text = c.get("text").asText();
            String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
            tests.add(DynamicTest.dynamicTest("case " + i++ + ": " + shown.replaceAll("\\p{C}", "?"), () -> checkCase(c)));
        }
        assertTrue(tests.size() > 0, "no cases in clip/tokenizer_cases.json");
        return tests.stream();
    }

    private static void checkCase(JsonNode c) {
        String text = c.get("text").asText();
        if (c.has("text_utf8_hex")) {
            assertEquals(c.get("text_utf8_hex").asText(), HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)),
                    "the JSON text and its recorded bytes disagree");
        }
        assertEquals(c.get("cleaned").asText(), ClipTokenizer.clean(text), "cleaned");
        assertEquals(strings(c.get("pretokens")), tokenizer.preTokens(text), "pretokens");
        assertEquals(strings(c.get("pieces")), tokenizer.pieces(text), "pieces");
        int[] ids = tokenizer.encode(text);
        assertArrayEquals(ints(c.get("ids")), ids, "ids");
        assertEquals(c.get("num_ids").asInt(), ids.length, "num_ids");
        ClipTokenizer.PaddedTokens padded = tokenizer.paddedTokensAndLen(ids, root.get("max_text_len").asInt());
        assertArrayEquals(ints(c.get("padded_tokens")), padded.tokens(), "padded_tokens");
        assertEquals(c.get("text_len").asInt(), padded.length(), "text_len");
        assertEquals(c.get("decoded").asText(), tokenizer.decode(ids), "decoded");
        assertArrayEquals(ids, tokenizer.encode(text), "ids (cached)");
    }

    @Test
    void batchHoldsTheFramedTokensAndLengths() throws IOException {
        load();
        int ctx = root.get("max_text_len").asInt();
        List<String> prompts = new ArrayList<>();
        root.get("cases").forEach(c -> prompts.add(c.get("text").asText()));
        ClipTokenizer.Batch batch = tokenizer.encodeBatch(prompts, ctx);
        assertEquals(DataType.LONG, batch.tokens().dataType());
        assertArrayEquals(new long[] {prompts.size(), ctx}, batch.tokens().shape());
        int i = 0;
        for (JsonNode c : root.get("cases")) {
            assertEquals(c.get("text_len").asLong(), batch.lengths().getLong(i));
            int[] expected = ints(c.get("padded_tokens"));
            for (int j = 0; j < ctx; j++) {
                assertEquals(expected[j], batch.tokens().getLong(i, j), "tokens[" + i + "," + j + "]");
            }
            i++;
        }
    }

    @Test
    void badArgumentsAreNamed() throws IOException {
        load();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tokenizer.paddedTokensAndLen(new int[0], 1))
                .getMessage().contains("textCtx"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {tokenizer.vocabSize()}))
                .getMessage().contains("not in the CLIP vocabulary"));
        assertTrue(assertThrows(IOException.class, () -> ClipTokenizer.load(Path.of("no-such-vocab.txt.gz")))
                .getMessage().contains("not found"));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
