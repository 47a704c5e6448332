package io.github.glidejava.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.image.RgbImage;

class DatasetLoaderTest {
    @TempDir
    Path dir;

    private static DatasetOptions size(int s) {
        return DatasetOptions.builder().imageSize(s).decodeThreads(2).build();
    }

    private static PreparedDataset open(Path p, DatasetOptions o) throws IOException {
        return (PreparedDataset) DatasetLoader.open(p, o);
    }

    // ---------------------------------------------------------------------------------------------- layouts

    @Test
    void captionFolderNestedWithAlternativeCaptions() throws IOException {
        TestPictures.write(dir.resolve("a.png"), TestPictures.pattern(20, 12, 1));
        TestPictures.text(dir.resolve("a.txt"), "a red square\n\n  a crimson block  \n");
        TestPictures.write(dir.resolve("sub/deeper/b.jpg"), TestPictures.pattern(9, 30, 2));
        TestPictures.text(dir.resolve("sub/deeper/b.txt"), "a tall thing");
        TestPictures.write(dir.resolve("sub/c.gif"), TestPictures.pattern(8, 8, 3));
        TestPictures.text(dir.resolve("sub/c.txt"), "a gif");
        PreparedDataset ds = open(dir, size(8));
        assertEquals(3, ds.size());
        assertEquals(List.of("a.png", "sub/c.gif", "sub/deeper/b.jpg"), List.of(ds.id(0), ds.id(1), ds.id(2)));
        assertEquals(List.of("a red square", "a crimson block"), ds.captions(0));
        Example e = ds.get(2);
        assertEquals(List.of("a tall thing"), e.captions());
        assertEquals(3 * 8 * 8, e.image().length);
        assertArrayEquals(new long[] {3, 8, 8}, e.imageArray().shape());
        for (float v : e.image()) {
            assertTrue(v >= -1f && v <= 1f);
        }
        assertTrue(ds.source().contains(dir.toString()));
        assertTrue(ds.skipped().isEmpty());
    }

    @Test
    void centerCropMatchesPillow() throws IOException {
        // Pillow's resize of rgb_37x23.png to a shorter side of 16 (26 x 16); the middle window starts at x = 5.
        byte[] png;
        JsonNode c = null;
        try (InputStream in = getClass().getResourceAsStream("pil/rgb_37x23.png")) {
            png = in.readAllBytes();
        }
        try (InputStream in = getClass().getResourceAsStream("pil/cases.json")) {
            for (JsonNode n : new ObjectMapper().readTree(in).get("cases")) {
                if (n.get("file").asText().equals("rgb_37x23.png") && n.get("size").asInt() == 16) {
                    c = n;
                }
            }
        }
        Files.write(dir.resolve("p.png"), png);
        TestPictures.text(dir.resolve("p.txt"), "pattern");
        Example e = open(dir, size(16)).get(0);
        int w = c.get("width").asInt();
        byte[] hwc = HexFormat.of().parseHex(c.get("rgb_hex").asText());
        int left = (w - 16) / 2;
        int worst = 0;
        for (int ch = 0; ch < 3; ch++) {
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    int expected = hwc[(y * w + left + x) * 3 + ch] & 0xFF;
                    int actual = Math.round((e.image()[(ch * 16 + y) * 16 + x] + 1f) * 127.5f);
                    worst = Math.max(worst, Math.abs(expected - actual));
                }
            }
        }
        assertTrue(worst <= 1, "max difference from Pillow " + worst);
    }

    @Test
    void imagefolderJsonlWithListCaptionsAndLabels() throws IOException {
        TestPictures.write(dir.resolve("train/x.png"), TestPictures.pattern(10, 10, 4));
        TestPictures.write(dir.resolve("train/y.png"), TestPictures.pattern(10, 10, 5));
        TestPictures.text(dir.resolve("train/metadata.jsonl"),
                "{\"file_name\": \"x.png\", \"text\": \"first\", \"style\": \"flat\"}\n"
                        + "{\"file_name\": \"y.png\", \"text\": [\"second\", \"other second\"]}\n");
        PreparedDataset ds = open(dir, size(8));
        assertEquals(2, ds.size());
        assertEquals("train/x.png", ds.id(0));
        assertEquals(Map.of("style", "flat"), ds.labels(0));
        assertEquals(List.of("second", "other second"), ds.captions(1));
    }

    @Test
    void imagefolderCsvWithOtherCaptionColumn() throws IOException {
        TestPictures.write(dir.resolve("x.png"), TestPictures.pattern(10, 10, 4));
        TestPictures.text(dir.resolve("metadata.csv"), "file_name,caption,text\nx.png,\"a, quoted caption\",ignored\n");
        DatasetOptions o = size(8).toBuilder().captionColumn("caption").build();
        assertEquals(List.of("a, quoted caption"), open(dir, o).captions(0));
    }

    /** Found by DatasetMetadataFuzzTest: a NUL in a listed path was an InvalidPathException from Path.resolve. */
    @Test
    void aPathThatCannotExistIsASkippedRowNotACrash() throws IOException {
        TestPictures.write(dir.resolve("x.png"), TestPictures.pattern(10, 10, 4));
        Path csv = TestPictures.text(dir.resolve("list.csv"), "x.png,fine\nbad\u0000name.png,broken\n");
        PreparedDataset ds = open(csv, size(8));
        assertEquals(1, ds.size());
        assertHas(ds.skipped(), "list.csv row 2", "picture path 'bad?name.png' is not a valid path");
        Path jsonl = TestPictures.text(dir.resolve("list.jsonl"), "{\"file_name\": \"x.png\", \"text\": \"a\"}\n"
                + "{\"file_name\": \"nul\\u0000.png\", \"text\": \"b\"}\n");
        assertHas(open(jsonl, size(8)).skipped(), "list.jsonl line 2", "is not a valid path");
    }

    @Test
    void headerlessCsvAndTsvTables() throws IOException {
        TestPictures.write(dir.resolve("pics/x.png"), TestPictures.pattern(10, 10, 4));
        TestPictures.write(dir.resolve("pics/y.bmp"), TestPictures.pattern(12, 10, 6));
        Path csv = TestPictures.text(dir.resolve("list.csv"), "pics/x.png,a cat\npics/y.bmp,a dog\n");
        PreparedDataset ds = open(csv, size(8));
        assertEquals(List.of("a cat"), ds.captions(0));
        assertEquals(List.of("a dog"), ds.captions(1));
        Path tsv = TestPictures.text(dir.resolve("list.tsv"), "path\ttext\npics/y.bmp\ta dog, sitting\n");
        assertEquals(List.of("a dog, sitting"), open(tsv, size(8)).captions(0));
    }

    @Test
    void transparentPixelsTakeTheBackgroundColour() throws IOException {
        TestPictures.write(dir.resolve("t.png"), TestPictures.transparent(12, 12));
        TestPictures.text(dir.resolve("t.txt"), "nothing");
        for (float v : open(dir, size(8)).get(0).image()) {
            assertEquals(1f, v); // white
        }
        DatasetOptions blue = size(8).toBuilder().background("#0000ff").build();
        float[] img = open(dir, blue).get(0).image();
        assertEquals(-1f, img[0]);
        assertEquals(-1f, img[64]);
        assertEquals(1f, img[128]);
    }

    @Test
    void randomCropKeepsTheLongerSide() throws IOException {
        TestPictures.write(dir.resolve("wide.png"), TestPictures.pattern(40, 10, 1));
        TestPictures.text(dir.resolve("wide.txt"), "wide");
        DatasetOptions o = size(8).toBuilder().crop(DatasetOptions.Crop.RANDOM).build();
        RgbImage p = open(dir, o).picture(0);
        assertEquals(8, p.height());
        assertEquals(32, p.width());
        assertEquals(8, open(dir, size(8)).picture(0).width());
    }

    @Test
    void diskCacheServesLaterOpens() throws IOException {
        Path data = dir.resolve("data");
        TestPictures.write(data.resolve("a.png"), TestPictures.pattern(20, 12, 1));
        TestPictures.text(data.resolve("a.txt"), "a");
        TestPictures.write(data.resolve("b.png"), TestPictures.pattern(12, 20, 2));
        TestPictures.text(data.resolve("b.txt"), "b");
        DatasetOptions o = size(8).toBuilder().cacheDirectory(dir.resolve("cache")).build();
        PreparedDataset first = open(data, o);
        assertEquals(0, first.cacheHits());
        try (Stream<Path> s = Files.list(dir.resolve("cache"))) {
            assertEquals(2, s.count());
        }
        PreparedDataset second = open(data, o);
        assertEquals(2, second.cacheHits());
        assertArrayEquals(first.get(1).image(), second.get(1).image());
        // another size is another cache entry
        assertEquals(0, open(data, o.toBuilder().imageSize(10).build()).cacheHits());
        // a changed picture is decoded again
        TestPictures.write(data.resolve("a.png"), TestPictures.pattern(21, 12, 9));
        Files.setLastModifiedTime(data.resolve("a.png"), java.nio.file.attribute.FileTime.fromMillis(12345));
        PreparedDataset third = open(data, o);
        assertEquals(1, third.cacheHits());
        assertFalse(java.util.Arrays.equals(first.get(0).image(), third.get(0).image()));
    }

    @Test
    void picturesInMemoryArePreparedLikeFiles() throws IOException {
        TestPictures.write(dir.resolve("a.png"), TestPictures.pattern(20, 12, 1));
        TestPictures.text(dir.resolve("a.txt"), "a");
        CaptionedImageDataset fromFile = open(dir, size(8));
        CaptionedImageDataset inMemory = DatasetLoader.fromImages("generated", List.of(TestPictures.pattern(20, 12, 1),
                TestPictures.pattern(5, 5, 2)), List.of(List.of(" a "), List.of("", " ")), size(8));
        assertEquals(1, inMemory.size(), "the picture without a caption is skipped");
        assertEquals(List.of("a"), inMemory.captions(0));
        assertArrayEquals(fromFile.get(0).image(), inMemory.get(0).image());
        assertThrows(IllegalArgumentException.class, () -> DatasetLoader.fromImages("x", List.of(), List.of(List.of("a")), size(8)));
    }

    // -------------------------------------------------------------------------------------------- bad input

    @Test
    void badItemsAreSkippedAndNamed() throws IOException {
        TestPictures.write(dir.resolve("good.png"), TestPictures.pattern(10, 10, 1));
        TestPictures.text(dir.resolve("good.txt"), "fine");
        Files.write(dir.resolve("corrupt.png"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        TestPictures.text(dir.resolve("corrupt.txt"), "broken");
        byte[] png = TestPictures.encode(TestPictures.pattern(30, 30, 2), "png");
        Files.write(dir.resolve("truncated.png"), java.util.Arrays.copyOf(png, png.length / 2));
        TestPictures.text(dir.resolve("truncated.txt"), "cut");
        TestPictures.write(dir.resolve("uncaptioned.png"), TestPictures.pattern(10, 10, 3));
        TestPictures.write(dir.resolve("blank.png"), TestPictures.pattern(10, 10, 3));
        TestPictures.text(dir.resolve("blank.txt"), "  \n\n");
        PreparedDataset ds = open(dir, size(8));
        assertEquals(1, ds.size());
        assertEquals("good.png", ds.id(0));
        List<String> skipped = ds.skipped();
        assertEquals(4, skipped.size(), skipped.toString());
        assertHas(skipped, "corrupt.png", "not an image format");
        assertHas(skipped, "truncated.png", "cannot decode");
        assertHas(skipped, "uncaptioned.png", "no caption file uncaptioned.txt");
        assertHas(skipped, "blank.png", "is empty");
    }

    @Test
    void strictModeStopsAtTheFirstBadItem() throws IOException {
        TestPictures.write(dir.resolve("good.png"), TestPictures.pattern(10, 10, 1));
        TestPictures.text(dir.resolve("good.txt"), "fine");
        Files.write(dir.resolve("corrupt.png"), new byte[] {1, 2, 3});
        TestPictures.text(dir.resolve("corrupt.txt"), "broken");
        DatasetOptions strict = size(8).toBuilder().strict(true).build();
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir, strict));
        assertTrue(e.getMessage().contains("corrupt.png") && e.getMessage().contains("not an image format"), e.getMessage());

        Files.delete(dir.resolve("corrupt.png"));
        Files.delete(dir.resolve("good.txt"));
        e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir, strict));
        assertTrue(e.getMessage().contains("good.png") && e.getMessage().contains("no caption file"), e.getMessage());
    }

    @Test
    void listedButAbsentFiles() throws IOException {
        TestPictures.write(dir.resolve("x.png"), TestPictures.pattern(10, 10, 4));
        TestPictures.text(dir.resolve("metadata.jsonl"), "{\"file_name\": \"x.png\", \"text\": \"here\"}\n"
                + "{\"file_name\": \"gone.png\", \"text\": \"absent\"}\n"
                + "{\"file_name\": \"x.png\"}\n"
                + "not json\n");
        PreparedDataset ds = open(dir, size(8));
        assertEquals(1, ds.size());
        assertHas(ds.skipped(), "gone.png", "listed but absent");
        assertHas(ds.skipped(), "x.png", "no caption in column 'text'");
        assertHas(ds.skipped(), "line 4", "not valid JSON");
        DatasetOptions strict = size(8).toBuilder().strict(true).build();
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir, strict));
        assertTrue(e.getMessage().contains("gone.png") && e.getMessage().contains("listed but absent"), e.getMessage());
    }

    @Test
    void missingCaptionColumnIsAnError() throws IOException {
        TestPictures.write(dir.resolve("x.png"), TestPictures.pattern(10, 10, 4));
        TestPictures.text(dir.resolve("metadata.jsonl"), "{\"file_name\": \"x.png\", \"caption\": \"here\"}\n");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir, size(8)));
        assertTrue(e.getMessage().contains("caption column 'text' not found") && e.getMessage().contains("[caption, file_name]"),
                e.getMessage());
        Files.delete(dir.resolve("metadata.jsonl"));
        TestPictures.text(dir.resolve("metadata.csv"), "file_name,caption\nx.png,here\n");
        e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir, size(8)));
        assertTrue(e.getMessage().contains("caption column 'text' not found") && e.getMessage().contains("[file_name, caption]"),
                e.getMessage());
    }

    @Test
    void emptyDatasetsAreErrors() throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir.resolve("empty"), size(8)));
        assertTrue(e.getMessage().contains("holds no pictures"), e.getMessage());

        TestPictures.text(dir.resolve("bad/a.txt"), "zero bytes");
        Files.write(dir.resolve("bad/a.png"), new byte[0]);
        e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir.resolve("bad"), size(8)));
        assertTrue(e.getMessage().contains("no usable examples") && e.getMessage().contains("a.png: image a.png is an empty file"),
                e.getMessage());

        Path csv = TestPictures.text(dir.resolve("empty.csv"), "");
        e = assertThrows(DatasetException.class, () -> DatasetLoader.open(csv, size(8)));
        assertTrue(e.getMessage().contains("holds no examples"), e.getMessage());
    }

    @Test
    void unknownPathsAreErrors() throws IOException {
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetLoader.open(dir.resolve("nope"), size(8)));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        Path bin = Files.write(dir.resolve("weights.bin"), new byte[] {0, 1, 2});
        e = assertThrows(DatasetException.class, () -> DatasetLoader.open(bin, size(8)));
        assertTrue(e.getMessage().contains("neither a folder nor a known dataset file"), e.getMessage());
        Path png = TestPictures.write(dir.resolve("one.png"), TestPictures.pattern(4, 4, 1));
        e = assertThrows(DatasetException.class, () -> DatasetLoader.open(png, size(8)));
        assertTrue(e.getMessage().contains("neither a folder nor a known dataset file"), e.getMessage());
    }

    private static void assertHas(List<String> skipped, String item, String problem) {
        assertTrue(skipped.stream().anyMatch(s -> s.contains(item) && s.contains(problem)),
                "expected a skipped item naming " + item + " with '" + problem + "' in " + skipped);
    }
}
