package io.github.glidejava.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The emoji-datasource-google adapter on small archives of the package's layout, written here. */
class EmojiPackageTest {
    @TempDir
    Path dir;

    private static final String JSON = """
            [
             {"name": "DOG FACE", "unified": "1F436", "image": "1f436.png", "short_names": ["dog"],
              "category": "Animals & Nature", "subcategory": "animal-mammal", "has_img_google": true},
             {"name": "WAVING HAND SIGN", "image": "1f44b.png", "short_names": ["wave", "waving_hand"],
              "category": "People & Body", "subcategory": "hand-fingers-open",
              "skin_variations": {
                "1F3FD": {"unified": "1F44B-1F3FD", "image": "1f44b-1f3fd.png"},
                "1F3FF": {"unified": "1F44B-1F3FF", "image": "1f44b-1f3ff.png"}}},
             {"name": "PEOPLE HOLDING HANDS", "image": "1f9d1-200d-1f91d-200d-1f9d1.png",
              "short_names": ["people_holding_hands"], "category": "People & Body", "subcategory": "family",
              "skin_variations": {
                "1F3FB-1F3FF": {"image": "1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3ff.png"},
                "1F3FC-1F3FC": {"image": "1f9d1-1f3fc-200d-1f91d-200d-1f9d1-1f3fc.png"}}},
             {"name": "RED APPLE", "image": "1f34e.png", "short_names": ["apple"],
              "category": "Food & Drink", "subcategory": "food-fruit"}
            ]
            """;

    /** Pictures of the package (RGBA, transparent left half); the red apple's is left out. */
    private static Map<String, byte[]> pictures() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        int salt = 0;
        for (String name : List.of("1f436.png", "1f44b.png", "1f44b-1f3fd.png", "1f44b-1f3ff.png",
                "1f9d1-200d-1f91d-200d-1f9d1.png", "1f9d1-1f3fb-200d-1f91d-200d-1f9d1-1f3ff.png",
                "1f9d1-1f3fc-200d-1f91d-200d-1f9d1-1f3fc.png")) {
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_ARGB);
            salt++;
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    img.setRGB(x, y, x < 8 ? 0x00000000 : 0xFF000000 | (salt * 40) << 16 | (y * 15) << 8 | x * 15);
                }
            }
            m.put(name, TestPictures.encode(img, "png"));
        }
        return m;
    }

    private Path archive(String name, boolean gzip, Map<String, byte[]> files) throws IOException {
        Path out = dir.resolve(name);
        try (OutputStream raw = Files.newOutputStream(out);
                OutputStream z = gzip ? new GZIPOutputStream(raw) : raw;
                TarArchiveOutputStream tar = new TarArchiveOutputStream(z)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(f.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        return out;
    }

    private Map<String, byte[]> packageFiles() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("package/package.json", "{\"name\": \"emoji-datasource-google\"}".getBytes(StandardCharsets.UTF_8));
        // pictures before the JSON, as a reader must not rely on the order
        pictures().forEach((k, v) -> files.put(EmojiPackage.IMAGES + k, v));
        files.put("package/img/google/sheets/64.png", new byte[] {1, 2, 3});
        files.put(EmojiPackage.JSON, JSON.getBytes(StandardCharsets.UTF_8));
        return files;
    }

    private static CaptionedImageDataset open(Path p) throws IOException {
        return DatasetLoader.open(p, DatasetOptions.builder().imageSize(8).decodeThreads(2).build());
    }

    private static Map<String, Example> byCaption(CaptionedImageDataset ds) {
        Map<String, Example> m = new HashMap<>();
        for (int i = 0; i < ds.size(); i++) {
            Example e = ds.get(i);
            m.put(e.captions().get(0), e);
        }
        return m;
    }

    @Test
    void readsTheTarballDirectlyRecognisedByContent() throws IOException {
        Path tgz = archive("download.bin", true, packageFiles());
        CaptionedImageDataset ds = open(tgz);
        assertEquals(7, ds.size(), "every emoji and skin variation with a picture; the red apple has none");
        assertTrue(ds.source().contains("emoji"), ds.source());
        Map<String, Example> m = byCaption(ds);

        Example dog = m.get("dog face");
        assertEquals(List.of("dog face", "dog"), dog.captions());
        assertEquals(Optional.of("Animals & Nature"), dog.category());
        assertEquals(Optional.of("animal-mammal"), dog.subcategory());
        assertFalse(dog.skinToneVariant());
        // transparent left half composited on white: the first pixel of every channel is white
        assertEquals(1f, dog.image()[0]);
        assertEquals(1f, dog.image()[64]);
        assertEquals(1f, dog.image()[128]);
        assertTrue(dog.image()[7] < 1f, "the opaque right half keeps its colour");

        Example medium = m.get("waving hand sign, medium skin tone");
        assertEquals(List.of("waving hand sign, medium skin tone", "wave, medium skin tone", "waving hand, medium skin tone"),
                medium.captions());
        assertTrue(medium.skinToneVariant());
        assertEquals("medium", medium.labels().get(Example.SKIN_TONE));
        assertEquals(Optional.of("hand-fingers-open"), medium.subcategory());
        assertTrue(m.containsKey("waving hand sign, dark skin tone"));
        assertFalse(m.get("waving hand sign").skinToneVariant());

        Example two = m.get("people holding hands, light skin tone, dark skin tone");
        assertEquals("light, dark", two.labels().get(Example.SKIN_TONE));
        assertTrue(m.containsKey("people holding hands, medium-light skin tone"), m.keySet().toString());
        assertFalse(m.containsKey("red apple"));
    }

    @Test
    void plainTarAndUnpackedCopyGiveTheSameSet() throws IOException {
        CaptionedImageDataset tgz = open(archive("p.tgz", true, packageFiles()));
        CaptionedImageDataset tar = open(archive("p.tar", false, packageFiles()));
        Path unpacked = dir.resolve("unpacked");
        for (var f : packageFiles().entrySet()) {
            Path p = unpacked.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        CaptionedImageDataset folder = open(unpacked);
        assertEquals(tgz.size(), tar.size());
        assertEquals(tgz.size(), folder.size());
        for (int i = 0; i < tgz.size(); i++) {
            assertEquals(tgz.captions(i), tar.captions(i));
            assertEquals(tgz.captions(i), folder.captions(i));
            org.junit.jupiter.api.Assertions.assertArrayEquals(tgz.get(i).image(), folder.get(i).image());
        }
    }

    @Test
    void otherArchivesAreClearErrors() throws IOException {
        Path other = archive("other.tgz", true, Map.of("package/index.js", new byte[] {1}));
        DatasetException e = assertThrows(DatasetException.class, () -> open(other));
        assertTrue(e.getMessage().contains("not the emoji-datasource-google package"), e.getMessage());

        Map<String, byte[]> noPictures = new LinkedHashMap<>();
        noPictures.put(EmojiPackage.JSON, JSON.getBytes(StandardCharsets.UTF_8));
        e = assertThrows(DatasetException.class, () -> open(archive("nopics.tgz", true, noPictures)));
        assertTrue(e.getMessage().contains("no pictures under " + EmojiPackage.IMAGES), e.getMessage());

        Map<String, byte[]> badJson = packageFiles();
        badJson.put(EmojiPackage.JSON, "{not json".getBytes(StandardCharsets.UTF_8));
        e = assertThrows(DatasetException.class, () -> open(archive("badjson.tgz", true, badJson)));
        assertTrue(e.getMessage().contains("emoji.json is not valid JSON"), e.getMessage());

        Path truncated = dir.resolve("cut.tgz");
        byte[] whole = Files.readAllBytes(archive("whole.tgz", true, packageFiles()));
        Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
        e = assertThrows(DatasetException.class, () -> open(truncated));
        assertTrue(e.getMessage().contains("cannot read the archive") && e.getMessage().contains("cut.tgz"), e.getMessage());
    }

    @Test
    void corruptPictureInThePackageIsSkippedOrStrictError() throws IOException {
        Map<String, byte[]> files = packageFiles();
        files.put(EmojiPackage.IMAGES + "1f436.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0});
        Path tgz = archive("corrupt.tgz", true, files);
        PreparedDataset ds = (PreparedDataset) open(tgz);
        assertEquals(6, ds.size());
        assertTrue(ds.skipped().get(0).contains("1f436.png (dog face)"), ds.skipped().toString());
        DatasetOptions strict = DatasetOptions.builder().imageSize(8).strict(true).build();
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetLoader.open(tgz, strict));
        assertTrue(e.getMessage().contains("1f436.png"), e.getMessage());
    }

    /** The real package, when GLIDE_EMOJI_TGZ names it (scripts/fetch-emoji-dataset.sh downloads it). */
    @Test
    void realPackageWhenAvailable() throws IOException {
        String env = System.getenv("GLIDE_EMOJI_TGZ");
        Assumptions.assumeTrue(env != null && Files.isRegularFile(Path.of(env)),
                "GLIDE_EMOJI_TGZ not set to the emoji-datasource-google-16.0.0.tgz; skipping the check on the real package");
        CaptionedImageDataset ds = DatasetLoader.open(Path.of(env), DatasetOptions.builder().imageSize(64).build());
        Map<String, Example> m = byCaption(ds);
        assertTrue(ds.size() > 3000, "size " + ds.size());
        assertEquals(Optional.of("Animals & Nature"), m.get("dog face").category());
        assertTrue(m.get("dog face").captions().contains("dog"));
        assertTrue(m.containsKey("red apple"));
        assertTrue(m.containsKey("waving hand sign, medium skin tone"));
    }
}
