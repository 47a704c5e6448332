package io.github.glidejava.core.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The npm package {@code emoji-datasource-google} (iamcal's emoji-data, Noto emoji pictures) as a captioned data
 * set, read directly from its {@code .tgz} (or an unpacked copy): {@code package/emoji.json} lists each emoji's
 * {@code name}, {@code short_names}, {@code category}, {@code subcategory}, {@code image} and
 * {@code skin_variations}; the pictures are {@code package/img/google/64/<image>} (64 x 64 RGBA).
 *
 * <p>Captions are what a person would type: the lower-cased name ("dog face"), then the short names with
 * underscores as spaces ("dog") as alternatives; a skin-tone variant adds its tones as CLDR names do
 * ("waving hand sign, medium skin tone"; two tones for two-person emoji). Labels: {@code category},
 * {@code subcategory}, {@code skin_tone} for variants. Entries without a picture in the package are skipped.
 */
final class EmojiPackage {
    static final String JSON = "package/emoji.json";
    static final String IMAGES = "package/img/google/64/";
    private static final Map<String, String> TONES = Map.of(
            "1F3FB", "light", "1F3FC", "medium-light", "1F3FD", "medium", "1F3FE", "medium-dark", "1F3FF", "dark");

    private EmojiPackage() {
    }

    /** Whether the first bytes are a gzip stream or a tar archive (ustar magic at offset 257). */
    static boolean looksLikeArchive(byte[] head) {
        boolean gzip = head.length >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B;
        boolean tar = head.length >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a'
                && head[261] == 'r';
        return gzip || tar;
    }

    /** Whether a folder is an unpacked copy of the package. */
    static boolean isUnpacked(Path dir) {
        return Files.isRegularFile(dir.resolve(JSON)) && Files.isDirectory(dir.resolve(IMAGES));
    }

    /** Lists the emoji of a package archive ({@code .tgz} or {@code .tar}), read in one pass without unpacking. */
    static List<DatasetItem> readArchive(Path archive, SkippedItems skipped) throws IOException {
        byte[] json = null;
        Map<String, byte[]> pictures = new HashMap<>();
        String key = "tar:" + archive.toAbsolutePath().normalize() + "|" + Files.size(archive) + "|"
                + Files.getLastModifiedTime(archive).toMillis() + "|";
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(archive))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            InputStream in = b0 == 0x1F && b1 == 0x8B ? new GZIPInputStream(raw, 1 << 16) : raw;
            try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                    if (!e.isFile()) {
                        continue;
                    }
                    if (name.equals(JSON)) {
                        json = tar.readAllBytes();
                    } else if (name.startsWith(IMAGES) && name.indexOf('/', IMAGES.length()) < 0) {
                        pictures.put(name.substring(IMAGES.length()), tar.readAllBytes());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new DatasetException("cannot read the archive " + archive + ": " + e.getMessage(), e);
        }
        if (json == null) {
            throw new DatasetException(archive + " is an archive but not the emoji-datasource-google package: it has no "
                    + JSON + " (expected the npm package's .tgz)");
        }
        if (pictures.isEmpty()) {
            throw new DatasetException(archive + " has " + JSON + " but no pictures under " + IMAGES
                    + " (expected emoji-datasource-google, which holds its 64 x 64 pictures there)");
        }
        return list(json, archive + "!" + JSON, skipped, image -> {
            byte[] data = pictures.get(image);
            return data == null ? null : DatasetItem.bytes(data, key + image);
        });
    }

    /** Lists the emoji of an unpacked copy of the package. */
    static List<DatasetItem> readUnpacked(Path dir, SkippedItems skipped) throws IOException {
        Path images = dir.resolve(IMAGES);
        return list(Files.readAllBytes(dir.resolve(JSON)), dir.resolve(JSON).toString(), skipped, image -> {
            Path f = images.resolve(image);
            return Files.isRegularFile(f) ? DatasetItem.file(f) : null;
        });
    }

    private interface PictureLookup {
        DatasetItem.Source find(String image);
    }

    private static List<DatasetItem> list(byte[] json, String where, SkippedItems skipped, PictureLookup pictures)
            throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new DatasetException(where + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isArray()) {
            throw new DatasetException(where + " is not a JSON array of emoji (expected emoji-datasource's emoji.json)");
        }
        List<DatasetItem> items = new ArrayList<>();
        int n = 0;
        for (JsonNode e : root) {
            n++;
            String name = text(e, "name");
            String image = text(e, "image");
            if (name == null || image == null) {
                skipped.skip(where + " entry " + n, "has no " + (name == null ? "name" : "image"));
                continue;
            }
            String caption = name.toLowerCase(Locale.ROOT);
            List<String> shortNames = new ArrayList<>();
            for (JsonNode s : e.path("short_names")) {
                if (s.isTextual() && !s.asText().isBlank()) {
                    shortNames.add(s.asText().replace('_', ' ').trim());
                }
            }
            Map<String, String> labels = new HashMap<>();
            putIfPresent(labels, Example.CATEGORY, text(e, "category"));
            putIfPresent(labels, Example.SUBCATEGORY, text(e, "subcategory"));
            add(items, pictures, image, captions(caption, shortNames, ""), labels, caption);
            JsonNode variations = e.path("skin_variations");
            var it = variations.fields();
            while (it.hasNext()) {
                var v = it.next();
                String tones = toneNames(v.getKey());
                String vImage = text(v.getValue(), "image");
                if (tones == null || vImage == null) {
                    skipped.skip(where + " " + image + " skin variation " + v.getKey(),
                            tones == null ? "unknown skin tone code" : "has no image");
                    continue;
                }
                Map<String, String> vLabels = new HashMap<>(labels);
                vLabels.put(Example.SKIN_TONE, tones);
                String suffix = ", " + String.join(" skin tone, ", tones.split(", ")) + " skin tone";
                add(items, pictures, vImage, captions(caption, shortNames, suffix), vLabels, caption + suffix);
            }
        }
        return items;
    }

    private static void add(List<DatasetItem> items, PictureLookup pictures, String image, List<String> captions,
            Map<String, String> labels, String what) {
        DatasetItem.Source src = pictures.find(image);
        // The package leaves out pictures it does not have for this vendor; such emoji are simply not in the set.
        if (src != null) {
            items.add(new DatasetItem(image + " (" + what + ")", src, captions, labels));
        }
    }

    private static List<String> captions(String name, List<String> shortNames, String suffix) {
        Set<String> out = new LinkedHashSet<>();
        out.add(name + suffix);
        for (String s : shortNames) {
            out.add(s + suffix);
        }
        return List.copyOf(out);
    }

    /** "1F3FD" -> "medium"; "1F3FB-1F3FF" -> "light, dark"; the same tone twice is named once; null if unknown. */
    private static String toneNames(String key) {
        Set<String> names = new LinkedHashSet<>();
        for (String code : key.toUpperCase(Locale.ROOT).split("-")) {
            String t = TONES.get(code);
            if (t == null) {
                return null;
            }
            names.add(t);
        }
        return String.join(", ", names);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isTextual() && !v.asText().isBlank() ? v.asText() : null;
    }

    private static void putIfPresent(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }
}
