package io.github.glidejava.core.text;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

/**
 * GLIDE's text tokenizer: GPT-2's byte-level BPE exactly as {@code glide_text2im/tokenizer/bpe.py} uses it.
 *
 * <p>{@link #encode} lower-cases the whole text with Python's {@code str.lower()} ({@link PythonText#lower}), splits
 * it with GPT-2's pre-tokenizer regex, maps each piece's UTF-8 bytes to GPT-2's byte-level characters, merges
 * adjacent symbols by lowest merge rank, and looks the resulting symbols up in the vocabulary. There is no start
 * token; {@link #paddedTokensAndMask} pads with the end token {@code vocabSize() - 1}.
 *
 * <p>Instances are immutable apart from a bounded cache of encoded words, and safe to share between threads.
 */
public final class BpeTokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(BpeTokenizer.class);

    /** The pre-tokenizer pattern of bpe.py (Python {@code regex} syntax). */
    public static final String PRETOKENIZER_PATTERN = PreTokenizer.PYTHON_PATTERN;
    /** The context length of GLIDE's released models. */
    public static final int GLIDE_TEXT_CTX = 128;

    static final String ENCODER_FILE = "encoder.json";
    static final String MERGES_FILE = "vocab.bpe";
    /** Words are short and prompts repeat words; past this many entries the cache starts over. */
    private static final int CACHE_LIMIT = 1 << 16;

    /** Token string -> id, as in encoder.json. */
    private final Map<String, Integer> encoder;
    /** Id -> token string; null where no token has that id. */
    private final String[] decoder;
    private final int vocabSize;
    private final int numMerges;
    /** BPE symbols (byte-level strings) by symbol index; indices 0..255 are the single bytes. */
    private final String[] symbols;
    /** Symbol index -> vocabulary id, -1 for a symbol that is not in the vocabulary. */
    private final int[] symbolToken;
    /** (left symbol << 32 | right symbol) -> (rank << 32 | merged symbol). */
    private final Map<Long, Long> merges;
    /** Pre-token (as matched, before byte-level mapping) -> ids. */
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeTokenizer(Map<String, Integer> encoder, List<String[]> mergeList) {
        this.encoder = encoder;
        this.vocabSize = encoder.size();
        int maxId = -1;
        for (int id : encoder.values()) {
            maxId = Math.max(maxId, id);
        }
        this.decoder = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : encoder.entrySet()) {
            decoder[e.getValue()] = e.getKey();
        }

        Map<String, Integer> symbolIndex = new HashMap<>();
        List<String> symbolList = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            intern(String.valueOf(ByteLevel.encode(b)), symbolIndex, symbolList);
        }
        this.merges = new HashMap<>(mergeList.size() * 2);
        for (int rank = 0; rank < mergeList.size(); rank++) {
            String[] pair = mergeList.get(rank);
            if (pair == null) {
                continue; // a blank line: it still takes a rank, as in bpe.py
            }
            long left = intern(pair[0], symbolIndex, symbolList);
            long right = intern(pair[1], symbolIndex, symbolList);
            long merged = intern(pair[0] + pair[1], symbolIndex, symbolList);
            // dict(zip(merges, range(...))): a repeated pair keeps its last rank.
            merges.put(left << 32 | right, (long) rank << 32 | merged);
        }
        this.numMerges = merges.size();
        this.symbols = symbolList.toArray(new String[0]);
        this.symbolToken = new int[symbols.length];
        for (int s = 0; s < symbols.length; s++) {
            symbolToken[s] = encoder.getOrDefault(symbols[s], -1);
        }
    }

    private static int intern(String symbol, Map<String, Integer> index, List<String> list) {
        Integer id = index.get(symbol);
        if (id == null) {
            id = list.size();
            index.put(symbol, id);
            list.add(symbol);
        }
        return id;
    }

    // ------------------------------------------------------------------------------------------------ loading

    /**
     * Loads the vocabulary ({@code encoder.json}: token string -> id) and the merges ({@code vocab.bpe}: a version
     * line, then one "left right" merge per line, rank = line index - 1). Each file may be gzip-compressed; gzip is
     * recognised by its magic bytes, not the file name.
     *
     * @throws NoSuchFileException when a file is missing (the message names it)
     * @throws IOException when a file is corrupt or malformed (the message names the file and what was wrong)
     */
    public static BpeTokenizer load(Path encoderJson, Path vocabBpe) throws IOException {
        Map<String, Integer> encoder = parseEncoder(encoderJson, readMaybeGzip(encoderJson, "GPT-2 vocabulary (encoder.json)"));
        List<String[]> merges = parseMerges(vocabBpe, readMaybeGzip(vocabBpe, "GPT-2 BPE merges (vocab.bpe)"));
        return new BpeTokenizer(encoder, merges);
    }

    /**
     * GLIDE's own tokenizer files (glide_text2im/tokenizer/encoder.json.gz and vocab.bpe.gz, MIT licence), bundled
     * with this library, so a pipeline needs no tokenizer download. Loaded once, then shared (the tokenizer is
     * immutable and thread-safe).
     */
    public static BpeTokenizer glide() {
        return BundledHolder.INSTANCE;
    }

    private static final class BundledHolder {
        static final BpeTokenizer INSTANCE = loadBundled();

        private static BpeTokenizer loadBundled() {
            try {
                Path encoderName = Path.of(ENCODER_FILE + ".gz");
                Path mergesName = Path.of(MERGES_FILE + ".gz");
                return new BpeTokenizer(parseEncoder(encoderName, bundledResource(encoderName.toString())),
                        parseMerges(mergesName, bundledResource(mergesName.toString())));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("the bundled GLIDE tokenizer files are unreadable", e);
            }
        }

        private static byte[] bundledResource(String name) throws IOException {
            try (InputStream raw = BpeTokenizer.class.getResourceAsStream(name)) {
                if (raw == null) {
                    throw new NoSuchFileException(name, null, "bundled tokenizer resource missing from the glide-core jar");
                }
                try (InputStream in = new GZIPInputStream(raw)) {
                    return in.readAllBytes();
                }
            }
        }
    }

    /**
     * Loads {@code encoder.json} (or {@code encoder.json.gz}) and {@code vocab.bpe} (or {@code vocab.bpe.gz}) from a
     * directory, e.g. a copy of glide_text2im/tokenizer/.
     */
    public static BpeTokenizer loadFromDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null,
                    "tokenizer directory not found (expected it to hold " + ENCODER_FILE + "[.gz] and " + MERGES_FILE + "[.gz])");
        }
        return load(findInDirectory(dir, ENCODER_FILE), findInDirectory(dir, MERGES_FILE));
    }

    private static Path findInDirectory(Path dir, String name) throws NoSuchFileException {
        for (String candidate : new String[] {name, name + ".gz"}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new NoSuchFileException(dir.resolve(name).toString(), null,
                "tokenizer file missing: neither " + name + " nor " + name + ".gz is in " + dir);
    }

    private static byte[] readMaybeGzip(Path file, String what) throws IOException {
        Objects.requireNonNull(file, what + " path");
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, what + " not found");
        }
        byte[] raw = Files.readAllBytes(file);
        if (raw.length >= 2 && (raw[0] & 0xFF) == 0x1F && (raw[1] & 0xFF) == 0x8B) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new IOException("corrupt gzip data in " + what + " file " + file + ": " + e.getMessage(), e);
            }
        }
        return raw;
    }

    private static String utf8(Path file, byte[] bytes) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException("tokenizer file " + file + " is not valid UTF-8 text: " + e, e);
        }
    }

    static Map<String, Integer> parseEncoder(Path file, byte[] bytes) throws IOException {
        String what = "malformed " + ENCODER_FILE + " " + file + ": ";
        Map<String, Integer> encoder = new HashMap<>(1 << 17);
        try (JsonParser p = new JsonFactory().createParser(utf8(file, bytes))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException(what + "expected a JSON object {token: id, ...}");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                if (v != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 0) {
                    throw new IOException(what + "token " + quote(key) + " has id " + p.getText()
                            + ", expected a non-negative integer");
                }
                encoder.put(key, p.getIntValue());
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new IOException(what + "unexpected content after the vocabulary object");
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(what + e.getOriginalMessage(), e);
        }
        if (encoder.isEmpty()) {
            throw new IOException(what + "the vocabulary is empty");
        }
        return Map.copyOf(encoder);
    }

    /** One entry per line after the first (null for a blank line), like bpe.py's {@code split("\n")[1:-1]}. */
    static List<String[]> parseMerges(Path file, byte[] bytes) throws IOException {
        String text = utf8(file, bytes);
        String[] lines = text.split("\n", -1);
        if (lines.length < 2) {
            throw new IOException("malformed " + MERGES_FILE + " " + file
                    + ": expected a version line followed by one merge per line, found " + lines.length + " line(s)");
        }
        if (!lines[0].startsWith("#")) {
            LOG.warn("{}: first line {} is not a version comment; it is skipped as bpe.py does", file, quote(lines[0]));
        }
        if (!lines[lines.length - 1].isBlank()) {
            LOG.warn("{}: no newline after the last merge; bpe.py drops that line and so does this loader", file);
        }
        List<String[]> merges = new ArrayList<>(lines.length);
        for (int i = 1; i < lines.length - 1; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                merges.add(null);
                continue;
            }
            String[] parts = line.split("[ \\t\\r\\f\\u000B]+");
            if (parts.length != 2) {
                throw new IOException("malformed " + MERGES_FILE + " " + file + " line " + (i + 1) + ": "
                        + quote(lines[i]) + " should be two symbols separated by a space");
            }
            merges.add(parts);
        }
        return merges;
    }

    private static String quote(String s) {
        String shown = s.length() > 60 ? s.substring(0, 60) + "..." : s;
        return "\"" + shown.replace("\r", "\\r").replace("\t", "\\t") + "\"";
    }

    // ------------------------------------------------------------------------------------------------ encoding

    /** Token ids of a text, as bpe.py's {@code encode(text)}. The empty text gives no ids. */
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        List<String> words = PreTokenizer.split(PythonText.lower(text));
        int[] out = new int[Math.max(16, text.length())];
        int n = 0;
        for (String word : words) {
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = encodeWord(word);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(word, ids);
            }
            if (n + ids.length > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, n + ids.length));
            }
            System.arraycopy(ids, 0, out, n, ids.length);
            n += ids.length;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    /** Encodes and pads one prompt to {@code textCtx} positions. */
    public TokensAndMask encodePadded(String text, int textCtx) {
        return paddedTokensAndMask(encode(text), textCtx);
    }

    /**
     * Encodes prompts into int64 tokens [N, textCtx] and a bool mask [N, textCtx] (initialises ND4J). The empty
     * prompt "" gives the all-padding row GLIDE uses for the unconditional branch of classifier-free guidance.
     */
    public TokenBatch encodeBatch(List<String> prompts, int textCtx) {
        List<TokensAndMask> rows = new ArrayList<>(prompts.size());
        for (String prompt : prompts) {
            rows.add(encodePadded(prompt, textCtx));
        }
        return TokenBatch.of(rows);
    }

    /**
     * bpe.py's {@code padded_tokens_and_mask}: keeps the FIRST {@code textCtx} ids, pads with {@link #endToken()},
     * mask true for the kept ids and false for padding.
     */
    public TokensAndMask paddedTokensAndMask(int[] ids, int textCtx) {
        if (textCtx <= 0) {
            throw new IllegalArgumentException("textCtx must be positive, got " + textCtx);
        }
        int kept = Math.min(ids.length, textCtx);
        int[] tokens = new int[textCtx];
        boolean[] mask = new boolean[textCtx];
        System.arraycopy(ids, 0, tokens, 0, kept);
        Arrays.fill(tokens, kept, textCtx, endToken());
        Arrays.fill(mask, 0, kept, true);
        return new TokensAndMask(tokens, mask);
    }

    /** The words the pre-tokenizer regex finds in the lower-cased text (bpe.py's {@code re.findall}). */
    public List<String> preTokens(String text) {
        return PreTokenizer.split(PythonText.lower(text));
    }

    /** The byte-level BPE symbols the text encodes to (the strings looked up in encoder.json), in order. */
    public List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        for (String word : preTokens(text)) {
            int[] word0 = byteSymbols(word);
            int n = bpe(word0);
            for (int i = 0; i < n; i++) {
                out.add(symbols[word0[i]]);
            }
        }
        return out;
    }

    private int[] encodeWord(String word) {
        int[] w = byteSymbols(word);
        int n = bpe(w);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            int id = symbolToken[w[i]];
            if (id < 0) {
                throw new IllegalStateException("BPE symbol " + quote(symbols[w[i]]) + " (from " + quote(word)
                        + ") is not in the vocabulary; encoder.json and vocab.bpe do not belong together");
            }
            ids[i] = id;
        }
        return ids;
    }

    /** The word's UTF-8 bytes as symbol indices (symbol b is byte b). */
    private static int[] byteSymbols(String word) {
        byte[] bytes = PythonText.encodeUtf8(word);
        int[] w = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            w[i] = bytes[i] & 0xFF;
        }
        return w;
    }

    /**
     * Merges in place: repeatedly take the adjacent pair with the lowest rank and merge all its non-overlapping
     * occurrences left to right, until no pair has a rank. Returns the new length.
     */
    private int bpe(int[] w) {
        int n = w.length;
        while (n > 1) {
            long best = Long.MAX_VALUE;
            int first = -1;
            int second = -1;
            for (int i = 0; i + 1 < n; i++) {
                Long m = merges.get((long) w[i] << 32 | w[i + 1]);
                if (m != null && m < best) {
                    best = m;
                    first = w[i];
                    second = w[i + 1];
                }
            }
            if (first < 0) {
                break;
            }
            int merged = (int) best;
            int out = 0;
            for (int i = 0; i < n; ) {
                if (i + 1 < n && w[i] == first && w[i + 1] == second) {
                    w[out++] = merged;
                    i += 2;
                } else {
                    w[out++] = w[i++];
                }
            }
            n = out;
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /**
     * Text of token ids, as bpe.py's {@code decode}: the tokens' bytes decoded as UTF-8, where ill-formed bytes (e.g.
     * a multi-byte character cut by truncation) become U+FFFD like Python's {@code errors="replace"}.
     *
     * @throws IllegalArgumentException naming the first id that is not in the vocabulary
     */
    public String decode(int[] ids) {
        int len = 0;
        for (int i = 0; i < ids.length; i++) {
            len += token(ids, i).length();
        }
        byte[] bytes = new byte[len];
        int n = 0;
        for (int i = 0; i < ids.length; i++) {
            String t = token(ids, i);
            for (int k = 0; k < t.length(); k++) {
                int b = ByteLevel.decode(t.charAt(k));
                if (b < 0) {
                    throw new IllegalArgumentException("token id " + ids[i] + " (" + quote(t)
                            + ") holds a character outside GPT-2's byte-level alphabet; it cannot be decoded");
                }
                bytes[n++] = (byte) b;
            }
        }
        return PythonText.decodeUtf8(bytes);
    }

    private String token(int[] ids, int i) {
        int id = ids[i];
        String t = id >= 0 && id < decoder.length ? decoder[id] : null;
        if (t == null) {
            throw new IllegalArgumentException("token id " + id + " at position " + i
                    + " is not in the vocabulary (ids 0.." + (decoder.length - 1) + ")");
        }
        return t;
    }

    // ------------------------------------------------------------------------------------------------ properties

    /** Number of vocabulary entries (bpe.py's {@code n_vocab}); 50257 for GPT-2. */
    public int vocabSize() {
        return vocabSize;
    }

    /** The end token {@code vocabSize() - 1}, used as padding (50256 for GPT-2). */
    public int endToken() {
        return vocabSize - 1;
    }

    /** Number of distinct merges (50000 for GPT-2). */
    public int numMerges() {
        return numMerges;
    }

    /** The id of a vocabulary string (byte-level form, e.g. "Ġcat"), or -1. */
    public int tokenId(String token) {
        return encoder.getOrDefault(token, -1);
    }

    @Override
    public String toString() {
        return "BpeTokenizer[vocabSize=" + vocabSize + ", merges=" + numMerges + "]";
    }
}
