package io.github.glidejava.core.data;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Opens a training data set, recognising its layout:
 *
 * <ul>
 *   <li>a Hugging Face imagefolder: a folder with {@code metadata.jsonl} or {@code metadata.csv} files (in it or in
 *       sub-folders) whose {@code file_name} is relative to the metadata file and whose caption column is
 *       {@link DatasetOptions#captionColumn()} (a string, or in JSON a list of alternative captions);</li>
 *   <li>a folder of pictures with same-stem {@code .txt} captions, nested folders included (each non-blank line of
 *       the text file is an alternative caption, as in glide-finetune);</li>
 *   <li>a {@code .jsonl} metadata file, or a {@code .csv} / {@code .tsv} table of picture path (relative to the
 *       table) and caption: with a header naming the path column ({@code file_name}, {@code path}, {@code image},
 *       {@code file}) and the caption column, or without a header as two columns, path then caption;</li>
 *   <li>the {@code emoji-datasource-google} npm package: its {@code .tgz} (recognised by content, whatever its
 *       name), its plain {@code .tar}, or an unpacked copy (see {@link EmojiPackage}).</li>
 * </ul>
 *
 * <p>Pictures: PNG, JPEG, GIF, BMP and WebP; transparent pixels are composited on the background colour. Items that
 * cannot be used (an unreadable or corrupt picture, a missing caption, a listed file that is absent) are skipped
 * and named, with the reason, in one warning; in strict mode the first one is a {@link DatasetException}. No usable
 * example at all, a caption column that no row has, or a path of unknown kind is always a {@link DatasetException}.
 */
public final class DatasetLoader {
    private static final Set<String> PICTURE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "gif", "bmp", "webp");
    private static final List<String> PATH_COLUMNS = List.of("file_name", "path", "image", "file", "filename", "image_path");

    private DatasetLoader() {
    }

    /** Opens the data set at {@code path} (see the class comment for the layouts), decoding every picture. */
    public static CaptionedImageDataset open(Path path, DatasetOptions options) throws IOException {
        if (path == null || options == null) {
            throw new NullPointerException(path == null ? "path" : "options");
        }
        if (!Files.exists(path)) {
            throw new DatasetException("dataset path " + path + " does not exist");
        }
        String source;
        SkippedItems skipped;
        List<DatasetItem> items;
        if (Files.isDirectory(path)) {
            if (EmojiPackage.isUnpacked(path)) {
                source = path + " (emoji-datasource package)";
                skipped = new SkippedItems(options.strict(), source);
                items = EmojiPackage.readUnpacked(path, skipped);
            } else {
                List<Path> metadata = metadataFiles(path);
                if (!metadata.isEmpty()) {
                    source = path + " (imagefolder)";
                    skipped = new SkippedItems(options.strict(), source);
                    items = new ArrayList<>();
                    for (Path m : metadata) {
                        items.addAll(readMetadata(m, path, options, skipped));
                    }
                } else {
                    source = path + " (pictures with .txt captions)";
                    skipped = new SkippedItems(options.strict(), source);
                    items = readCaptionFolder(path, skipped);
                }
            }
        } else if (Files.isRegularFile(path)) {
            byte[] head = head(path);
            String ext = extension(path);
            if (EmojiPackage.looksLikeArchive(head)) {
                source = path + " (emoji-datasource package)";
                skipped = new SkippedItems(options.strict(), source);
                items = EmojiPackage.readArchive(path, skipped);
            } else if (ext.equals("jsonl") || ext.equals("csv") || ext.equals("tsv")) {
                source = path + " (" + ext + " table)";
                skipped = new SkippedItems(options.strict(), source);
                Path dir = path.toAbsolutePath().getParent();
                items = readMetadata(path, dir, options, skipped);
            } else {
                throw new DatasetException(path + " is neither a folder nor a known dataset file (expected a folder of"
                        + " pictures, a metadata .jsonl, a .csv or .tsv table of path and caption, or the"
                        + " emoji-datasource-google .tgz)");
            }
        } else {
            throw new DatasetException(path + " is neither a folder nor a regular file");
        }
        if (items.isEmpty()) {
            throw skipped.empty();
        }
        return PreparedDataset.prepare(source, options, items, skipped);
    }

    /**
     * A data set of pictures already in memory (generated data, tests), prepared exactly as opened files are;
     * {@code captions.get(i)} are the alternative captions of picture i. Not cached on disk.
     */
    public static CaptionedImageDataset fromImages(String source, List<BufferedImage> pictures, List<List<String>> captions,
            DatasetOptions options) throws IOException {
        if (pictures.size() != captions.size()) {
            throw new IllegalArgumentException(pictures.size() + " pictures but " + captions.size() + " caption lists; expected one list per picture");
        }
        SkippedItems skipped = new SkippedItems(options.strict(), source);
        List<DatasetItem> items = new ArrayList<>();
        for (int i = 0; i < pictures.size(); i++) {
            List<String> c = new ArrayList<>();
            for (String text : captions.get(i)) {
                addCaption(c, text);
            }
            String id = "picture " + i;
            if (c.isEmpty()) {
                skipped.skip(id, "no caption");
            } else {
                items.add(new DatasetItem(id, DatasetItem.image(Objects.requireNonNull(pictures.get(i), id)), c, Map.of()));
            }
        }
        if (items.isEmpty()) {
            throw skipped.empty();
        }
        return PreparedDataset.prepare(source, options, items, skipped);
    }

    // -------------------------------------------------------------------------------------------- imagefolder

    private static List<Path> metadataFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> Files.isRegularFile(p)
                    && (p.getFileName().toString().equals("metadata.jsonl") || p.getFileName().toString().equals("metadata.csv")))
                    .sorted().toList();
        }
    }

    /** A metadata.jsonl / .csv / .tsv file; ids are paths relative to {@code root}. */
    private static List<DatasetItem> readMetadata(Path file, Path root, DatasetOptions options, SkippedItems skipped)
            throws IOException {
        return extension(file).equals("jsonl") ? readJsonLines(file, root, options, skipped) : readTable(file, root, options, skipped);
    }

    private static List<DatasetItem> readJsonLines(Path file, Path root, DatasetOptions options, SkippedItems skipped)
            throws IOException {
        String column = options.captionColumn();
        ObjectMapper json = new ObjectMapper();
        List<DatasetItem> items = new ArrayList<>();
        Set<String> fieldsSeen = new java.util.TreeSet<>();
        boolean columnSeen = false;
        Path dir = file.toAbsolutePath().getParent();
        List<String> lines = readLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file.getFileName() + " line " + (i + 1);
            JsonNode row;
            try {
                row = json.readTree(line);
            } catch (IOException e) {
                skipped.skip(where, "not valid JSON (" + firstLine(e.getMessage()) + ")");
                continue;
            }
            if (row == null || !row.isObject()) {
                skipped.skip(where, "not a JSON object");
                continue;
            }
            row.fieldNames().forEachRemaining(fieldsSeen::add);
            JsonNode name = row.get("file_name");
            if (name == null || !name.isTextual() || name.asText().isBlank()) {
                skipped.skip(where, "has no file_name");
                continue;
            }
            Path picture = picturePath(dir, name.asText(), where, skipped);
            if (picture == null) {
                continue;
            }
            String id = relative(root, picture);
            JsonNode caption = row.get(column);
            columnSeen |= caption != null;
            List<String> captions = new ArrayList<>();
            if (caption != null && caption.isTextual()) {
                addCaption(captions, caption.asText());
            } else if (caption != null && caption.isArray()) {
                caption.forEach(c -> {
                    if (c.isTextual()) {
                        addCaption(captions, c.asText());
                    }
                });
            }
            Map<String, String> labels = new HashMap<>();
            row.fields().forEachRemaining(f -> {
                if (!f.getKey().equals("file_name") && !f.getKey().equals(column) && f.getValue().isValueNode()
                        && !f.getValue().isNull()) {
                    labels.put(f.getKey(), f.getValue().asText());
                }
            });
            addItem(items, skipped, id, picture, captions, labels, "no caption in column '" + column + "'");
        }
        if (!columnSeen && !fieldsSeen.isEmpty()) {
            throw new DatasetException("caption column '" + column + "' not found in " + file + "; its fields are "
                    + fieldsSeen + " (choose one with the caption column option)");
        }
        return items;
    }

    private static List<DatasetItem> readTable(Path file, Path root, DatasetOptions options, SkippedItems skipped)
            throws IOException {
        String column = options.captionColumn();
        List<String> lines = readLines(file);
        String first = lines.stream().filter(l -> !l.isBlank()).findFirst().orElse("");
        boolean tabs = extension(file).equals("tsv") || (first.contains("\t") && !first.contains(","));
        CSVFormat format = (tabs ? CSVFormat.TDF : CSVFormat.RFC4180).builder().setIgnoreEmptyLines(true)
                .setIgnoreSurroundingSpaces(true).get();
        List<CSVRecord> records;
        try (CSVParser parser = CSVParser.parse(String.join("\n", lines), format)) {
            records = parser.getRecords();
        } catch (IOException | RuntimeException e) {
            throw new DatasetException("cannot parse " + file + " as " + (tabs ? "TSV" : "CSV") + ": " + e.getMessage(), e);
        }
        if (records.isEmpty()) {
            return List.of();
        }
        List<String> header = records.get(0).toList().stream().map(s -> s.strip()).toList();
        int pathCol = -1;
        for (String p : PATH_COLUMNS) {
            if (pathCol < 0 && header.contains(p)) {
                pathCol = header.indexOf(p);
            }
        }
        int captionCol;
        int firstRow;
        if (pathCol >= 0) {
            captionCol = header.indexOf(column);
            if (captionCol < 0) {
                throw new DatasetException("caption column '" + column + "' not found in " + file + "; its columns are "
                        + header + " (choose one with the caption column option)");
            }
            firstRow = 1;
        } else if (header.contains(column)) {
            throw new DatasetException(file + " has the caption column '" + column + "' but no picture path column; its columns are "
                    + header + " (expected one of " + PATH_COLUMNS + ")");
        } else {
            // no header: path, caption
            pathCol = 0;
            captionCol = 1;
            firstRow = 0;
        }
        Path dir = file.toAbsolutePath().getParent();
        List<DatasetItem> items = new ArrayList<>();
        for (int r = firstRow; r < records.size(); r++) {
            CSVRecord rec = records.get(r);
            String where = file.getFileName() + " row " + (r + 1);
            String name = pathCol < rec.size() ? rec.get(pathCol).strip() : "";
            if (name.isEmpty()) {
                skipped.skip(where, "has no picture path");
                continue;
            }
            Path picture = picturePath(dir, name, where, skipped);
            if (picture == null) {
                continue;
            }
            List<String> captions = new ArrayList<>();
            if (captionCol < rec.size()) {
                addCaption(captions, rec.get(captionCol));
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (firstRow == 1) {
                for (int c = 0; c < Math.min(header.size(), rec.size()); c++) {
                    if (c != pathCol && c != captionCol && !rec.get(c).isBlank()) {
                        labels.put(header.get(c), rec.get(c));
                    }
                }
            }
            addItem(items, skipped, relative(root, picture), picture, captions, labels,
                    firstRow == 1 ? "no caption in column '" + column + "'" : "no caption (second column)");
        }
        return items;
    }

    /**
     * {@code name} from a metadata row resolved against the metadata file's folder; null (and the row skipped with
     * the reason) when it cannot be a path on this system, e.g. it holds a NUL character.
     */
    private static Path picturePath(Path dir, String name, String where, SkippedItems skipped)
            throws DatasetException {
        try {
            return dir.resolve(name);
        } catch (java.nio.file.InvalidPathException e) {
            String shown = name.length() > 60 ? name.substring(0, 60) + "..." : name;
            skipped.skip(where, "picture path '" + shown.replaceAll("\\p{Cntrl}", "?") + "' is not a valid path ("
                    + e.getReason() + ")");
            return null;
        }
    }

    // -------------------------------------------------------------------------------------- caption folder

    private static List<DatasetItem> readCaptionFolder(Path dir, SkippedItems skipped) throws IOException {
        List<Path> pictures;
        try (Stream<Path> s = Files.walk(dir)) {
            pictures = s.filter(p -> Files.isRegularFile(p) && PICTURE_EXTENSIONS.contains(extension(p))
                    && !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        if (pictures.isEmpty()) {
            throw new DatasetException("folder " + dir + " holds no pictures (" + String.join(", ", PICTURE_EXTENSIONS.stream().sorted().toList())
                    + ") and no metadata.jsonl or metadata.csv");
        }
        List<DatasetItem> items = new ArrayList<>();
        for (Path p : pictures) {
            String file = p.getFileName().toString();
            Path txt = p.resolveSibling(file.substring(0, file.lastIndexOf('.')) + ".txt");
            String id = relative(dir, p);
            if (!Files.isRegularFile(txt)) {
                skipped.skip(id, "no caption file " + txt.getFileName());
                continue;
            }
            List<String> captions = new ArrayList<>();
            try {
                for (String line : readLines(txt)) {
                    addCaption(captions, line);
                }
            } catch (IOException e) {
                skipped.skip(id, "caption file " + txt.getFileName() + " unreadable: " + e.getMessage());
                continue;
            }
            addItem(items, skipped, id, p, captions, Map.of(), "caption file " + txt.getFileName() + " is empty");
        }
        return items;
    }

    // -------------------------------------------------------------------------------------------- helpers

    private static void addItem(List<DatasetItem> items, SkippedItems skipped, String id, Path picture, List<String> captions,
            Map<String, String> labels, String noCaption) throws DatasetException {
        if (!Files.isRegularFile(picture)) {
            skipped.skip(id, Files.exists(picture) ? "not a regular file" : "listed but absent");
        } else if (captions.isEmpty()) {
            skipped.skip(id, noCaption);
        } else {
            items.add(new DatasetItem(id, DatasetItem.file(picture), captions, labels));
        }
    }

    private static void addCaption(List<String> captions, String text) {
        String c = text == null ? "" : text.strip();
        if (!c.isEmpty() && !captions.contains(c)) {
            captions.add(c);
        }
    }

    /** UTF-8 text lines (a byte-order mark dropped); malformed UTF-8 is an error naming the file. */
    private static List<String> readLines(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file);
                Reader r = new java.io.InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));
                BufferedReader br = new BufferedReader(r)) {
            List<String> lines = new ArrayList<>(br.lines().toList());
            if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) {
                lines.set(0, lines.get(0).substring(1));
            }
            return lines;
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof CharacterCodingException) {
                throw new DatasetException(file + " is not UTF-8 text", e.getCause());
            }
            throw e.getCause();
        }
    }

    private static byte[] head(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(512);
        }
    }

    private static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static String relative(Path root, Path p) {
        Path r = root.toAbsolutePath().normalize();
        Path a = p.toAbsolutePath().normalize();
        return a.startsWith(r) ? r.relativize(a).toString() : a.toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
