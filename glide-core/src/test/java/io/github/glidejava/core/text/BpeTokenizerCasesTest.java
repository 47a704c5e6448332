package io.github.glidejava.core.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;

/**
 * Every case of the reference's tokenizer_cases.json: lower-casing, regex pre-tokens, BPE pieces, ids, padding,
 * mask and decoding. All expectations and the context length come from the file.
 */
class BpeTokenizerCasesTest {
    private static JsonNode root;
    private static BpeTokenizer tokenizer;
    private static Path encoderFile;
    private static Path mergesFile;

    /**
     * Loads the fixtures once; called at the start of every test so that a missing fixture directory shows up as a
     * skipped test with RefFixtures' message (an abort in @BeforeAll is not reported by surefire).
     */
    private static synchronized void load() throws IOException {
        if (tokenizer != null) {
            return;
        }
        Path cases = RefFixtures.require("tokenizer/tokenizer_cases.json");
        encoderFile = RefFixtures.require("tokenizer/encoder.json.gz");
        mergesFile = RefFixtures.require("tokenizer/vocab.bpe.gz");
        root = new ObjectMapper().readTree(cases.toFile());
        tokenizer = BpeTokenizer.load(encoderFile, mergesFile);
    }

    private static int textCtx() {
        return root.get("text_ctx").asInt();
    }

    @Test
    void vocabularyMatchesTheReference() throws Exception {
        load();
        assertEquals(sha256(encoderFile), root.get("encoder_json_gz_sha256").asText(), "encoder file is not the one the cases were made with");
        assertEquals(sha256(mergesFile), root.get("vocab_bpe_gz_sha256").asText(), "merges file is not the one the cases were made with");
        assertEquals(root.get("n_vocab").asInt(), tokenizer.vocabSize());
        assertEquals(root.get("end_token").asInt(), tokenizer.endToken());
        assertEquals(root.get("padding_token").asInt(), tokenizer.endToken());
        assertEquals(root.get("num_merges").asInt(), tokenizer.numMerges());
        assertEquals(root.get("regex").asText(), BpeTokenizer.PRETOKENIZER_PATTERN);
    }

    @Test
    void bundledGlideTokenizerEncodesEveryCaseLikeTheReferenceFiles() throws IOException {
        load();
        BpeTokenizer bundled = BpeTokenizer.glide();
        assertEquals(tokenizer.vocabSize(), bundled.vocabSize());
        assertEquals(tokenizer.numMerges(), bundled.numMerges());
        for (JsonNode c : root.get("cases")) {
            String text = c.get("text").asText();
            assertArrayEquals(tokenizer.encode(text), bundled.encode(text), () -> "bundled tokenizer differs on " + display(text));
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCase() throws IOException {
        load();
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (JsonNode c : root.get("cases")) {
            String text = c.get("text").asText();
            String name = "case " + i++ + ": " + display(text);
            tests.add(DynamicTest.dynamicTest(name, () -> checkCase(c)));
        }
        assertTrue(tests.size() > 0, "no cases in tokenizer_cases.json");
        return tests.stream();
    }

    private static void checkCase(JsonNode c) {
        String text = c.get("text").asText();
        // The JSON text and its recorded UTF-8 bytes must agree, else the file was mis-parsed.
        if (c.has("text_utf8_hex")) {
            assertEquals(c.get("text_utf8_hex").asText(), HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)));
        }
        assertEquals(c.get("lowered").asText(), PythonText.lower(text), "lowered");
        assertEquals(strings(c.get("pretokens")), tokenizer.preTokens(text), "pretokens");
        assertEquals(strings(c.get("pieces")), tokenizer.pieces(text), "pieces");
        int[] ids = tokenizer.encode(text);
        assertArrayEquals(ints(c.get("ids")), ids, "ids");
        assertEquals(c.get("num_ids").asInt(), ids.length, "num_ids");
        TokensAndMask padded = tokenizer.paddedTokensAndMask(ids, textCtx());
        assertArrayEquals(ints(c.get("padded_tokens")), padded.tokens(), "padded_tokens");
        assertArrayEquals(booleans(c.get("mask")), padded.mask(), "mask");
        assertEquals(c.get("decoded").asText(), tokenizer.decode(ids), "decoded");
        // A second encode is served by the word cache and must agree.
        assertArrayEquals(ids, tokenizer.encode(text), "ids (cached)");
    }

    @Test
    void batchOfAllCasesAsNd4jArrays() throws IOException {
        load();
        List<String> prompts = new ArrayList<>();
        root.get("cases").forEach(c -> prompts.add(c.get("text").asText()));
        TokenBatch batch = tokenizer.encodeBatch(prompts, textCtx());
        assertEquals(DataType.LONG, batch.tokens().dataType());
        assertEquals(DataType.BOOL, batch.mask().dataType());
        assertArrayEquals(new long[] {prompts.size(), textCtx()}, batch.tokens().shape());
        assertArrayEquals(new long[] {prompts.size(), textCtx()}, batch.mask().shape());
        int i = 0;
        for (JsonNode c : root.get("cases")) {
            INDArray row = batch.tokens().getRow(i);
            INDArray maskRow = batch.mask().getRow(i);
            int[] expected = ints(c.get("padded_tokens"));
            boolean[] expectedMask = booleans(c.get("mask"));
            for (int j = 0; j < textCtx(); j++) {
                assertEquals(expected[j], row.getLong(j), "tokens[" + i + "," + j + "]");
                assertEquals(expectedMask[j], maskRow.getDouble(j) != 0, "mask[" + i + "," + j + "]");
            }
            i++;
        }
    }

    @Test
    void concurrentEncodingAgreesWithSequential() throws Exception {
        load();
        List<JsonNode> cases = new ArrayList<>();
        root.get("cases").forEach(cases::add);
        BpeTokenizer fresh = BpeTokenizer.load(encoderFile, mergesFile); // empty cache: threads race to fill it
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    for (int rep = 0; rep < 5; rep++) {
                        for (JsonNode c : cases) {
                            assertArrayEquals(ints(c.get("ids")), fresh.encode(c.get("text").asText()));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static String display(String text) {
        StringBuilder sb = new StringBuilder();
        text.codePoints().limit(40).forEach(cp -> {
            if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || Character.getType(cp) == Character.FORMAT
                    || Character.isWhitespace(cp) && cp != ' ') {
                sb.append(String.format("\\u%04X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return text.codePointCount(0, text.length()) > 40 ? sb + "..." : sb.toString();
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
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

    private static boolean[] booleans(JsonNode array) {
        boolean[] out = new boolean[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asBoolean();
        }
        return out;
    }
}
