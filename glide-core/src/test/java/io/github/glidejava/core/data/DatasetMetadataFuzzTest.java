package io.github.glidejava.core.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any bytes as a data set's captions: a {@code metadata.jsonl} / {@code metadata.csv} imagefolder, a stand-alone
 * {@code .jsonl}, {@code .csv} or {@code .tsv} table, or the {@code .txt} caption of a picture, next to two valid
 * pictures. {@link DatasetLoader#open} gives a data set or throws an IOException (a DatasetException saying which
 * file and row are wrong); the first byte of the input picks the layout.
 */
class DatasetMetadataFuzzTest {
    private static final Path DIR = FuzzChecks.scratch("dataset");
    private static final String[] LAYOUTS = {"imagefolder/metadata.jsonl", "imagefolder/metadata.csv",
            "table/captions.jsonl", "table/captions.csv", "table/captions.tsv", "captions/a.txt"};
    private static final DatasetOptions OPTIONS = DatasetOptions.builder().imageSize(8).build();
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(64L << 20, 4096);

    static {
        try {
            byte[] a = TestPictures.encode(TestPictures.pattern(8, 8, 1), "png");
            byte[] b = TestPictures.encode(TestPictures.pattern(12, 8, 2), "png");
            for (String d : new String[] {"imagefolder", "table", "captions"}) {
                Files.createDirectories(DIR.resolve(d));
                FuzzChecks.write(DIR.resolve(d).resolve("a.png"), a);
                FuzzChecks.write(DIR.resolve(d).resolve("b.png"), b);
            }
            FuzzChecks.write(DIR.resolve("captions/b.txt"), "a second picture\n".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyCaptions(FuzzedDataProvider data) throws IOException {
        String layout = LAYOUTS[data.consumeInt(0, LAYOUTS.length - 1)];
        byte[] content = data.consumeRemainingAsBytes();
        for (String other : LAYOUTS) {
            if (!other.equals(layout) && !other.startsWith("captions/")) {
                Files.deleteIfExists(DIR.resolve(other));
            }
        }
        Path file = FuzzChecks.write(DIR.resolve(layout), content);
        Path open = layout.startsWith("table/") ? file : file.getParent();
        FuzzChecks.check(content.length, BUDGET, () -> {
            CaptionedImageDataset ds = DatasetLoader.open(open, OPTIONS);
            if (ds.size() < 1) {
                throw new AssertionError("an opened data set has no examples");
            }
        }, IOException.class);
    }
}
