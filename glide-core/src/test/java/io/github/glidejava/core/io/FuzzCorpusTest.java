package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The seed corpora of glide-core's fuzz targets: every target has a committed corpus of small files (what the
 * fuzzing starts from and what every test run replays). With {@code -Dglide.fuzz.writeSeeds=true} the seeds are
 * (re)written into {@code src/test/resources} from the builders the other tests use; regression inputs that fuzzing
 * found ({@code crash-*}, {@code regression-*}) are left alone.
 */
class FuzzCorpusTest {
    static final Path RESOURCES = Path.of(System.getProperty("glide.repo.root", ".."), "glide-core", "src", "test",
            "resources", "io", "github", "glidejava", "core");
    static final List<String> TARGETS = List.of("io/SafeTensorsFuzzTestInputs/anyFile",
            "io/TorchCheckpointFuzzTestInputs/anyFile", "io/PickleFuzzTestInputs/anyPickle",
            "io/ZipDirectoryFuzzTestInputs/anyArchive", "image/ImageFuzzTestInputs/anyPicture",
            "text/BpeTokenizerFuzzTestInputs/anyText", "text/ClipTokenizerFuzzTestInputs/anyText",
            "data/DatasetMetadataFuzzTestInputs/anyCaptions");
    static final long MAX_SEED_BYTES = 8192;

    @Test
    void everyTargetHasASmallCommittedCorpus() throws IOException {
        for (String t : TARGETS) {
            Path dir = RESOURCES.resolve(t);
            assertTrue(Files.isDirectory(dir), "no seed corpus " + dir);
            List<Path> seeds;
            try (Stream<Path> s = Files.list(dir)) {
                seeds = s.toList();
            }
            assertTrue(seeds.size() >= 3, t + " has " + seeds.size() + " seeds, expected at least 3");
            for (Path p : seeds) {
                assertTrue(Files.size(p) <= MAX_SEED_BYTES, p + " is " + Files.size(p) + " bytes; seeds stay under "
                        + MAX_SEED_BYTES);
            }
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "glide.fuzz.writeSeeds", matches = "true")
    void writeSeeds(@TempDir Path tmp) throws IOException {
        // safetensors: a valid file of several dtypes with metadata, and broken variants of it
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("w", Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}}));
        tensors.put("h", Nd4j.createFromArray(1f, -2f, 0.5f).castTo(DataType.HALF));
        tensors.put("i", Nd4j.createFromArray(7L, 8L));
        tensors.put("s", Nd4j.scalar(2.5f));
        Path st = tmp.resolve("a.safetensors");
        SafeTensors.write(st, tensors, Map.of("options", "{\"image_size\": 8}"));
        byte[] valid = Files.readAllBytes(st);
        String safetensors = "io/SafeTensorsFuzzTestInputs/anyFile";
        seed(safetensors, "valid", valid);
        seed(safetensors, "truncated", Arrays.copyOf(valid, valid.length - 5));
        byte[] bigHeader = valid.clone();
        ByteBuffer.wrap(bigHeader).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        seed(safetensors, "header-length-huge", bigHeader);
        seed(safetensors, "empty-header", header("{}"));
        seed(safetensors, "bad-offsets", header("{\"x\":{\"dtype\":\"F32\",\"shape\":[1000000,1000000],"
                + "\"data_offsets\":[0,4]}}"));

        // torch.save archives: strided views of one storage (stored and deflated), a refused global, broken ones
        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().mark();
        p.str("whole").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1});
        p.str("column").tensor("FloatStorage", "0", 6, 1, new long[] {2}, new long[] {3});
        p.str("ints").tensor("LongStorage", "1", 2, 0, new long[] {2}, new long[] {1});
        p.op('u').stop();
        byte[] longs = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(3).putLong(-4).array();
        Path pt = new TorchZipBuilder("archive/").pickle(p).floats("0", 1, 2, 3, 4, 5, 6).record("data/1", longs)
                .write(tmp.resolve("a.pt"));
        Path ptz = new TorchZipBuilder("m/").pickle(p).floats("0", 1, 2, 3, 4, 5, 6).record("data/1", longs)
                .deflate("data.pkl").deflate("data/0").write(tmp.resolve("z.pt"));
        byte[] evil = new PickleBuilder().proto(2).global("os", "system").str("echo pwned").tuple().reduce().stop()
                .bytes();
        Path ptEvil = new TorchZipBuilder("evil/").pickle(evil).write(tmp.resolve("evil.pt"));
        String torch = "io/TorchCheckpointFuzzTestInputs/anyFile";
        byte[] ptBytes = Files.readAllBytes(pt);
        seed(torch, "stored", ptBytes);
        seed(torch, "deflated", Files.readAllBytes(ptz));
        seed(torch, "refused-global", Files.readAllBytes(ptEvil));
        seed(torch, "truncated", Arrays.copyOf(ptBytes, ptBytes.length / 2));
        seed(torch, "legacy-magic", new byte[] {(byte) 0x80, 2, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c});

        String pickle = "io/PickleFuzzTestInputs/anyPickle";
        seed(pickle, "state-dict", p.bytes());
        seed(pickle, "refused-global", evil);
        seed(pickle, "memo-and-nesting", new PickleBuilder().proto(2).mark().integer(1).integer(70000)
                .integer(-5).integer(1L << 40).tuple().put(0).get(0).get(0).tuple().stop().bytes());
        seed(pickle, "truncated", Arrays.copyOf(p.bytes(), 40));

        String zip = "io/ZipDirectoryFuzzTestInputs/anyArchive";
        seed(zip, "torch-stored", ptBytes);
        seed(zip, "plain", plainZip());
        seed(zip, "empty", new byte[] {0x50, 0x4b, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        seed(zip, "truncated", Arrays.copyOf(ptBytes, ptBytes.length - 10));

        String image = "image/ImageFuzzTestInputs/anyPicture";
        BufferedImage rgb = new BufferedImage(6, 5, BufferedImage.TYPE_INT_RGB);
        BufferedImage argb = new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB);
        BufferedImage bits = new BufferedImage(9, 3, BufferedImage.TYPE_BYTE_BINARY);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                rgb.setRGB(x, y, 0x102030 * (x + y + 1));
                argb.setRGB(x, y, (x * 60) << 24 | 0x00ff8000 >> y);
                bits.setRGB(x, y, (x + y) % 2 == 0 ? 0xffffff : 0);
            }
        }
        byte[] png = encode(rgb, "png");
        seed(image, "rgb.png", png);
        seed(image, "alpha.png", encode(argb, "png"));
        seed(image, "one-bit.png", encode(bits, "png"));
        seed(image, "rgb.jpg", encode(rgb, "jpg"));
        seed(image, "rgb.gif", encode(rgb, "gif"));
        seed(image, "rgb.bmp", encode(rgb, "bmp"));
        seed(image, "truncated.png", Arrays.copyOf(png, png.length - 12));

        String gpt2 = "text/BpeTokenizerFuzzTestInputs/anyText";
        String clip = "text/ClipTokenizerFuzzTestInputs/anyText";
        for (String t : new String[] {gpt2, clip}) {
            seed(t, "prompt", utf8("an oil painting of a corgi wearing a party hat\u0040"));
            seed(t, "unicode", utf8("Caf\u00e9 \u6771\u4eac \ud83d\udc36 I'm   don't\t\n  &amp; &ldquo;x&rdquo; \u00c3\u00a9"));
            seed(t, "numbers-and-marks", utf8("1234567 ,.;:!?'s've 're 'll 'd \u0000\u001f"));
        }

        String data = "data/DatasetMetadataFuzzTestInputs/anyCaptions";
        // the last byte picks the layout (FuzzedDataProvider reads numbers from the end): 0 imagefolder jsonl,
        // 1 imagefolder csv, 2 .jsonl table, 3 .csv table, 4 .tsv table, 5 a .txt caption
        seed(data, "imagefolder-jsonl", layout(0, "{\"file_name\": \"a.png\", \"text\": \"a red square\"}\n"
                + "{\"file_name\": \"b.png\", \"text\": [\"blue\", \"a blue thing\"]}\n"));
        seed(data, "imagefolder-csv", layout(1, "file_name,text\na.png,a red square\nb.png,\"quoted, comma\"\n"));
        seed(data, "table-jsonl", layout(2, "{\"file_name\": \"a.png\", \"text\": \"x\"}\n{\"broken\": \n"));
        seed(data, "table-csv-no-header", layout(3, "a.png,first\nb.png,second\n"));
        seed(data, "table-tsv", layout(4, "path\tcaption\na.png\tone\nmissing.png\ttwo\n"));
        seed(data, "txt-caption", layout(5, "first caption\n\nsecond caption\n"));
    }

    private static byte[] header(String json) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
    }

    private static byte[] plainZip() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            z.setComment("a comment");
            z.putNextEntry(new ZipEntry("dir/"));
            z.closeEntry();
            z.putNextEntry(new ZipEntry("dir/file.txt"));
            z.write(utf8("hello hello hello hello"));
            z.closeEntry();
        }
        return out.toByteArray();
    }

    private static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) {
            throw new IOException("no ImageIO writer for " + format);
        }
        return out.toByteArray();
    }

    private static byte[] layout(int index, String content) {
        byte[] c = utf8(content);
        byte[] out = Arrays.copyOf(c, c.length + 1);
        out[c.length] = (byte) index;
        return out;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void seed(String target, String name, byte[] bytes) throws IOException {
        Path dir = Files.createDirectories(RESOURCES.resolve(target));
        Files.write(dir.resolve("seed-" + name), bytes);
    }
}
