package io.github.glidejava.core.image;

import java.awt.image.RenderedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.InflaterInputStream;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * PNG files with text key/value pairs (e.g. the prompt, seed and sampler of a generated image), written atomically.
 *
 * <p>Values that are Latin-1 text go into {@code tEXt} chunks, any other value into an uncompressed {@code iTXt}
 * chunk (UTF-8), so every Java string without NUL characters round-trips. Keys follow the PNG keyword rules: 1-79
 * Latin-1 printable characters, no leading, trailing or consecutive spaces. Entries are written in map order, the
 * tEXt ones before the iTXt ones (javax.imageio groups chunks by type). Reading returns the {@code tEXt},
 * {@code zTXt} and {@code iTXt} entries found anywhere in the file, in file order (a repeated key keeps its last value).
 */
public final class PngFiles {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final String FORMAT = "javax_imageio_png_1.0";

    private PngFiles() {
    }

    /** Encodes the image as PNG with the given text entries and writes it atomically (temporary file + rename). */
    public static void write(RenderedImage image, Path file, Map<String, String> text) throws IOException {
        writeAtomically(file, encode(image, text));
    }

    /** The PNG bytes of an image with text entries (tEXt entries first, each kind in map order). */
    public static byte[] encode(RenderedImage image, Map<String, String> text) throws IOException {
        Map<String, String> entries = text == null ? Map.of() : text;
        IIOMetadataNode tEXt = new IIOMetadataNode("tEXt");
        IIOMetadataNode iTXt = new IIOMetadataNode("iTXt");
        for (Map.Entry<String, String> e : entries.entrySet()) {
            String key = checkKeyword(e.getKey());
            String value = e.getValue();
            if (value == null || value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("PNG text value for key \"" + key + "\" must be non-null text without NUL characters");
            }
            if (isLatin1(value)) {
                IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                entry.setAttribute("keyword", key);
                entry.setAttribute("value", value);
                tEXt.appendChild(entry);
            } else {
                IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
                entry.setAttribute("keyword", key);
                entry.setAttribute("compressionFlag", "FALSE");
                entry.setAttribute("compressionMethod", "0");
                entry.setAttribute("languageTag", "");
                entry.setAttribute("translatedKeyword", "");
                entry.setAttribute("text", value);
                iTXt.appendChild(entry);
            }
        }
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new IOException("no PNG writer available in this Java runtime");
        }
        ImageWriter writer = writers.next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
            IIOMetadataNode root = new IIOMetadataNode(FORMAT);
            if (tEXt.hasChildNodes()) {
                root.appendChild(tEXt);
            }
            if (iTXt.hasChildNodes()) {
                root.appendChild(iTXt);
            }
            metadata.mergeTree(FORMAT, root);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, metadata), param);
            }
            return bytes.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    /** The text entries of a PNG file (tEXt, zTXt, iTXt), in file order. */
    public static Map<String, String> readText(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "PNG file not found");
        }
        try {
            return readText(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IOException("cannot read PNG text chunks of " + file + ": " + e.getMessage(), e);
        }
    }

    /** The text entries of PNG bytes (tEXt, zTXt, iTXt), in file order. */
    public static Map<String, String> readText(byte[] png) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(png));
        byte[] sig = new byte[8];
        try {
            in.readFully(sig);
        } catch (EOFException e) {
            throw new IOException("not a PNG file (shorter than the 8-byte signature)");
        }
        if (!java.util.Arrays.equals(sig, SIGNATURE)) {
            throw new IOException("not a PNG file (bad signature)");
        }
        Map<String, String> out = new LinkedHashMap<>();
        while (true) {
            int length;
            byte[] type = new byte[4];
            try {
                length = in.readInt();
                in.readFully(type);
            } catch (EOFException e) {
                throw new IOException("truncated PNG: no IEND chunk");
            }
            String name = new String(type, StandardCharsets.ISO_8859_1);
            if (length < 0 || length > in.available()) {
                throw new IOException("truncated or corrupt PNG: chunk " + name + " claims " + (length & 0xFFFFFFFFL)
                        + " bytes, " + in.available() + " remain");
            }
            byte[] data = new byte[length];
            in.readFully(data);
            if (in.skipBytes(4) != 4) { // CRC
                throw new IOException("truncated PNG: chunk " + name + " has no CRC");
            }
            switch (name) {
                case "tEXt" -> parseText(data, out);
                case "zTXt" -> parseCompressedText(data, out);
                case "iTXt" -> parseInternationalText(data, out);
                case "IEND" -> {
                    return Collections.unmodifiableMap(out);
                }
                default -> {
                }
            }
        }
    }

    private static int nul(byte[] data, int from, String chunk) throws IOException {
        for (int i = from; i < data.length; i++) {
            if (data[i] == 0) {
                return i;
            }
        }
        throw new IOException("malformed " + chunk + " chunk: missing NUL separator");
    }

    private static void parseText(byte[] data, Map<String, String> out) throws IOException {
        int k = nul(data, 0, "tEXt");
        out.put(latin1(data, 0, k), latin1(data, k + 1, data.length));
    }

    private static void parseCompressedText(byte[] data, Map<String, String> out) throws IOException {
        int k = nul(data, 0, "zTXt");
        if (k + 1 >= data.length || data[k + 1] != 0) {
            throw new IOException("malformed zTXt chunk: unknown compression method");
        }
        byte[] text = inflate(data, k + 2, "zTXt");
        out.put(latin1(data, 0, k), new String(text, StandardCharsets.ISO_8859_1));
    }

    private static void parseInternationalText(byte[] data, Map<String, String> out) throws IOException {
        int k = nul(data, 0, "iTXt");
        if (k + 2 >= data.length) {
            throw new IOException("malformed iTXt chunk: too short");
        }
        boolean compressed = data[k + 1] != 0;
        int lang = nul(data, k + 3, "iTXt");
        int translated = nul(data, lang + 1, "iTXt");
        byte[] text = compressed ? inflate(data, translated + 1, "iTXt")
                : java.util.Arrays.copyOfRange(data, translated + 1, data.length);
        out.put(latin1(data, 0, k), new String(text, StandardCharsets.UTF_8));
    }

    private static byte[] inflate(byte[] data, int from, String chunk) throws IOException {
        try (InputStream in = new InflaterInputStream(new ByteArrayInputStream(data, from, data.length - from))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IOException("malformed " + chunk + " chunk: " + e.getMessage(), e);
        }
    }

    private static String latin1(byte[] data, int from, int to) {
        return new String(data, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private static boolean isLatin1(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0xFF) {
                return false;
            }
        }
        return true;
    }

    static String checkKeyword(String key) {
        String problem = null;
        if (key == null || key.isEmpty() || key.length() > 79) {
            problem = "must be 1 to 79 characters";
        } else if (key.startsWith(" ") || key.endsWith(" ") || key.contains("  ")) {
            problem = "must not have leading, trailing or consecutive spaces";
        } else {
            for (int i = 0; i < key.length(); i++) {
                char c = key.charAt(i);
                if (!(c >= 32 && c <= 126 || c >= 161 && c <= 255)) {
                    problem = String.format("must be printable Latin-1, found U+%04X at index %d", (int) c, i);
                    break;
                }
            }
        }
        if (problem != null) {
            throw new IllegalArgumentException("invalid PNG text key \"" + key + "\": a PNG keyword " + problem);
        }
        return key;
    }

    /**
     * Writes bytes to a temporary file beside the target, forces them to disk, then renames it over the target
     * (atomically where the file system supports it), so readers never see a half-written file, even after a crash.
     */
    public static void writeAtomically(Path file, byte[] content) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(String.valueOf(dir), null, "output directory does not exist (writing " + file + ")");
        }
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(content);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                // on disk before the rename: after a crash the target is the old file or the whole new one
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
