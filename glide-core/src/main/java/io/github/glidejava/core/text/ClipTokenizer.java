package io.github.glidejava.core.text;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import org.jsoup.parser.Parser;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

/**
 * CLIP's text tokenizer, as glide_text2im/tokenizer/simple_tokenizer.py's {@code SimpleTokenizer} (used by the
 * noised CLIP model of CLIP guidance). It differs from GLIDE's GPT-2 {@link BpeTokenizer}: the text is cleaned first
 * (ftfy's repairs, HTML unescaped twice, whitespace runs to one space, stripped, lower-cased), the pre-tokenizer
 * drops spaces and makes every digit a token of its own, the last symbol of each word carries the suffix
 * {@code </w>}, and {@link #paddedTokensAndLen} frames the ids with start and end tokens and pads with 0.
 *
 * <p>Vocabulary: the 256 byte-level symbols in {@code bytes_to_unicode} order, the same with {@code </w>}, one
 * entry per merge (the first {@value #NUM_MERGES} merges of the file), then {@code <|startoftext|>} and
 * {@code <|endoftext|>}: 49408 entries.
 *
 * <p>Immutable apart from a bounded cache of encoded words; safe to share between threads.
 */
public final class ClipTokenizer {
    /** The merges SimpleTokenizer reads: lines 1 .. 49152 - 256 - 2 of the merges file. */
    public static final int NUM_MERGES = 49152 - 256 - 2;
    /** The pre-tokenizer pattern of simple_tokenizer.py (Python {@code regex} syntax, IGNORECASE). */
    public static final String PRETOKENIZER_PATTERN = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d"
            + "|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";
    /** The context length of the released noised CLIP's text encoder. */
    public static final int CLIP_TEXT_CTX = 77;
    /** The vocabulary file bundled with glide-core (OpenAI CLIP's, MIT licence). */
    static final String VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz";

    static final String START_OF_TEXT = "<|startoftext|>";
    static final String END_OF_TEXT = "<|endoftext|>";
    private static final String END_OF_WORD = "</w>";
    private static final int CACHE_LIMIT = 1 << 16;

    /**
     * The Java form of {@link #PRETOKENIZER_PATTERN}: Python's {@code \s} is the White_Space property, spelt out
     * because Java's is ASCII-only. The case-insensitive flag is left out: it only affects the special-token and
     * contraction literals, and the text is lower-cased before matching.
     */
    private static final Pattern PRETOKENIZER = Pattern.compile(PRETOKENIZER_PATTERN
            .replace("[^\\s\\p{L}\\p{N}]", "[^" + PreTokenizer.WHITE_SPACE + "\\p{L}\\p{N}]"));
    private static final Pattern WHITESPACE_RUN = Pattern.compile("[" + PreTokenizer.WHITE_SPACE + "]+");

    private final Map<String, Integer> encoder;
    private final String[] decoder;
    /** "left right" -> merge rank. */
    private final Map<String, Integer> ranks;
    private final Map<String, String[]> cache = new ConcurrentHashMap<>();

    private ClipTokenizer(List<String[]> merges) {
        List<String> vocab = new ArrayList<>(512 + merges.size() + 2);
        List<String> bytes = new ArrayList<>(256);
        // bytes_to_unicode's dict order: the printable bytes first, then the others.
        for (int b = 0; b < 256; b++) {
            if (ByteLevel.encode(b) == (char) b) {
                bytes.add(String.valueOf(ByteLevel.encode(b)));
            }
        }
        for (int b = 0; b < 256; b++) {
            if (ByteLevel.encode(b) != (char) b) {
                bytes.add(String.valueOf(ByteLevel.encode(b)));
            }
        }
        vocab.addAll(bytes);
        for (String s : bytes) {
            vocab.add(s + END_OF_WORD);
        }
        Map<String, Integer> rankMap = new HashMap<>(merges.size() * 2);
        for (int r = 0; r < merges.size(); r++) {
            String[] pair = merges.get(r);
            vocab.add(pair[0] + pair[1]);
            // dict(zip(merges, range(...))): a repeated pair keeps its last rank.
            rankMap.put(pair[0] + " " + pair[1], r);
        }
        vocab.add(START_OF_TEXT);
        vocab.add(END_OF_TEXT);
        Map<String, Integer> enc = new HashMap<>(vocab.size() * 2);
        for (int i = 0; i < vocab.size(); i++) {
            enc.put(vocab.get(i), i); // dict(zip(vocab, range)): a repeated string keeps its last id
        }
        this.encoder = Map.copyOf(enc);
        this.decoder = new String[vocab.size()];
        enc.forEach((s, id) -> decoder[id] = s);
        this.ranks = Map.copyOf(rankMap);
        cache.put(START_OF_TEXT, new String[] {START_OF_TEXT});
        cache.put(END_OF_TEXT, new String[] {END_OF_TEXT});
    }

    // ------------------------------------------------------------------------------------------------ loading

    /** The bundled vocabulary (CLIP's {@value #VOCAB_FILE}, MIT licence); loaded once, then shared. */
    public static ClipTokenizer clip() {
        return BundledHolder.INSTANCE;
    }

    private static final class BundledHolder {
        static final ClipTokenizer INSTANCE = loadBundled();

        private static ClipTokenizer loadBundled() {
            try (InputStream raw = ClipTokenizer.class.getResourceAsStream(VOCAB_FILE)) {
                if (raw == null) {
                    throw new NoSuchFileException(VOCAB_FILE, null, "bundled CLIP vocabulary missing from the glide-core jar");
                }
                return new ClipTokenizer(parseMerges(Path.of(VOCAB_FILE), gunzip(raw.readAllBytes())));
            } catch (IOException e) {
                throw new UncheckedIOException("the bundled CLIP tokenizer vocabulary is unreadable", e);
            }
        }
    }

    /**
     * Loads a merges file in the format of {@code bpe_simple_vocab_16e6.txt.gz} (a header line, then one
     * "left right" merge per line), gzip-compressed or not.
     *
     * @throws NoSuchFileException when the file is missing
     * @throws IOException when it is corrupt or has fewer than {@value #NUM_MERGES} merges (the message says which)
     */
    public static ClipTokenizer load(Path mergesFile) throws IOException {
        Objects.requireNonNull(mergesFile, "mergesFile");
        if (!Files.isRegularFile(mergesFile)) {
            throw new NoSuchFileException(mergesFile.toString(), null, "CLIP BPE vocabulary (" + VOCAB_FILE + ") not found");
        }
        byte[] raw = Files.readAllBytes(mergesFile);
        boolean gzip = raw.length >= 2 && (raw[0] & 0xFF) == 0x1F && (raw[1] & 0xFF) == 0x8B;
        return new ClipTokenizer(parseMerges(mergesFile, gzip ? gunzip(raw) : raw));
    }

    private static byte[] gunzip(byte[] raw) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
            return in.readAllBytes();
        }
    }

    /** simple_tokenizer.py's {@code split("\n")[1 : NUM_MERGES + 1]}, each line split on whitespace. */
    static List<String[]> parseMerges(Path file, byte[] bytes) throws IOException {
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        if (lines.length < NUM_MERGES + 1) {
            throw new IOException("CLIP BPE vocabulary " + file + " has " + Math.max(0, lines.length - 1)
                    + " merge lines, expected at least " + NUM_MERGES + " after the header line");
        }
        List<String[]> merges = new ArrayList<>(NUM_MERGES);
        for (int i = 1; i <= NUM_MERGES; i++) {
            String[] parts = lines[i].strip().split("\\s+");
            if (parts.length != 2) {
                throw new IOException("malformed CLIP BPE vocabulary " + file + " line " + (i + 1) + ": \""
                        + lines[i] + "\" should be two symbols separated by a space");
            }
            merges.add(parts);
        }
        return merges;
    }

    // ------------------------------------------------------------------------------------------------ encoding

    /**
     * The text as the tokenizer sees it: {@code whitespace_clean(basic_clean(text)).lower()}, i.e. ftfy's repairs,
     * HTML unescaped twice, stripped, every whitespace run made one space, stripped, lower-cased.
     */
    public static String clean(String text) {
        String s = TextFixer.fixText(text);
        s = htmlUnescape(htmlUnescape(s));
        s = pythonStrip(s);
        s = WHITESPACE_RUN.matcher(s).replaceAll(" ");
        s = pythonStrip(s);
        return PythonText.lower(s);
    }

    /** Python's {@code html.unescape}: HTML5 character references, with or without the semicolon where HTML allows. */
    static String htmlUnescape(String s) {
        return s.indexOf('&') < 0 ? s : Parser.unescapeEntities(s, false);
    }

    /** Python's {@code str.strip()}: whitespace per {@code str.isspace} (White_Space plus U+001C..U+001F). */
    static String pythonStrip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isPythonSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isPythonSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isPythonSpace(char c) {
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    /** The pre-tokens of the cleaned text (simple_tokenizer.py's {@code re.findall}). */
    public List<String> preTokens(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = PRETOKENIZER.matcher(clean(text));
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** The BPE symbols of the text (byte-level strings, {@code </w>} ending each word), in order. */
    public List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        for (String word : preTokens(text)) {
            out.addAll(List.of(bpe(ByteLevel.encode(PythonText.encodeUtf8(word)))));
        }
        return out;
    }

    /** Token ids of a text, as SimpleTokenizer's {@code encode(text)}; the empty text gives no ids. */
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        List<String> pieces = pieces(text);
        int[] ids = new int[pieces.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = encoder.get(pieces.get(i));
            if (id == null) {
                throw new IllegalStateException("BPE symbol \"" + pieces.get(i) + "\" is not in the CLIP vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }

    /**
     * Merges a byte-level word: its last symbol gets {@code </w>}, then the adjacent pair with the lowest rank is
     * merged everywhere (left to right, non-overlapping) until no pair has a rank.
     */
    private String[] bpe(String token) {
        String[] cached = cache.get(token);
        if (cached != null) {
            return cached;
        }
        List<String> word = new ArrayList<>(token.length());
        for (int i = 0; i < token.length() - 1; i++) {
            word.add(String.valueOf(token.charAt(i)));
        }
        word.add(token.charAt(token.length() - 1) + END_OF_WORD);
        while (word.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = ranks.get(word.get(i) + " " + word.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); ) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(word.get(i++));
                }
            }
            word = merged;
        }
        String[] out = word.toArray(new String[0]);
        if (cache.size() >= CACHE_LIMIT) {
            cache.clear();
            cache.put(START_OF_TEXT, new String[] {START_OF_TEXT});
            cache.put(END_OF_TEXT, new String[] {END_OF_TEXT});
        }
        cache.put(token, out);
        return out;
    }

    /** Token ids framed and padded for CLIP's text encoder, and the number of framed ids. */
    public record PaddedTokens(int[] tokens, int length) {
    }

    /**
     * SimpleTokenizer's {@code padded_tokens_and_len}: {@code [start] + ids[:textCtx - 2] + [end]}, padded with 0 to
     * {@code textCtx}; the length counts both special tokens.
     */
    public PaddedTokens paddedTokensAndLen(int[] ids, int textCtx) {
        if (textCtx < 2) {
            throw new IllegalArgumentException("textCtx must be at least 2 (start and end token), got " + textCtx);
        }
        int kept = Math.min(ids.length, textCtx - 2);
        int[] tokens = new int[textCtx];
        tokens[0] = startToken();
        System.arraycopy(ids, 0, tokens, 1, kept);
        tokens[kept + 1] = endToken();
        return new PaddedTokens(tokens, kept + 2);
    }

    /** Prompts as the text encoder takes them. */
    public record Batch(INDArray tokens, INDArray lengths) {
    }

    /**
     * CLIPModel's {@code encode_prompts}: tokens int64 [N, textCtx] and lengths int64 [N] (initialises ND4J).
     */
    public Batch encodeBatch(List<String> prompts, int textCtx) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("a CLIP token batch needs at least one prompt, got none");
        }
        GlideBackend.init();
        long[][] tokens = new long[prompts.size()][textCtx];
        long[] lengths = new long[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            PaddedTokens p = paddedTokensAndLen(encode(prompts.get(i)), textCtx);
            for (int j = 0; j < textCtx; j++) {
                tokens[i][j] = p.tokens()[j];
            }
            lengths[i] = p.length();
        }
        return new Batch(Nd4j.createFromArray(tokens), Nd4j.createFromArray(lengths));
    }

    // ------------------------------------------------------------------------------------------------ decoding

    /**
     * SimpleTokenizer's {@code decode}: the tokens' bytes as UTF-8 (ill-formed bytes become U+FFFD), each
     * {@code </w>} a space.
     *
     * @throws IllegalArgumentException naming the first id that is not in the vocabulary
     */
    public String decode(int[] ids) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= decoder.length) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i
                        + " is not in the CLIP vocabulary (ids 0.." + (decoder.length - 1) + ")");
            }
            text.append(decoder[ids[i]]);
        }
        byte[] bytes = new byte[text.length()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) ByteLevel.decode(text.charAt(i));
        }
        return PythonText.decodeUtf8(bytes).replace(END_OF_WORD, " ");
    }

    // ------------------------------------------------------------------------------------------------ properties

    /** Number of vocabulary entries (49408). */
    public int vocabSize() {
        return decoder.length;
    }

    /** The id of {@code <|startoftext|>} (49406). */
    public int startToken() {
        return encoder.get(START_OF_TEXT);
    }

    /** The id of {@code <|endoftext|>} (49407). */
    public int endToken() {
        return encoder.get(END_OF_TEXT);
    }

    /** The id padding uses (0, the id of "!"). */
    public int paddingToken() {
        return 0;
    }

    @Override
    public String toString() {
        return "ClipTokenizer[vocabSize=" + vocabSize() + ", merges=" + NUM_MERGES + "]";
    }
}
