package io.github.glidejava.core.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.github.glidejava.core.testing.FuzzChecks;

/**
 * Any bytes as a picture, through both ways pictures enter: {@link ImageTensors#read(Path, int)} (a file to a
 * [1, 3, 8, 8] tensor, as sampling and inpainting read their inputs) and {@link RgbImage#decode} then
 * {@link RgbImage#composited} (training data). Each succeeds or throws an IOException naming the picture; no
 * declared size makes the decoder allocate more than the picture's pixel limit allows.
 */
class ImageFuzzTest {
    private static final Path DIR = FuzzChecks.scratch("image");
    // the decoders accept max(PIXELS_WITHOUT_SIZE_CHECK, MAX_PIXELS_PER_BYTE * file bytes) pixels; decoding,
    // compositing and resizing hold a few copies of them, 24 bytes a pixel in all
    private static final FuzzChecks.Budget BUDGET = new FuzzChecks.Budget(
            24 * RgbImage.PIXELS_WITHOUT_SIZE_CHECK + (64L << 20), 24 * RgbImage.MAX_PIXELS_PER_BYTE);

    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @FuzzTest(maxDuration = "4s")
    void anyPicture(byte[] input) {
        Path file = FuzzChecks.write(DIR.resolve("fuzz.img"), input);
        FuzzChecks.check(input.length, BUDGET, () -> ImageTensors.read(file, 8).close(), IOException.class);
        FuzzChecks.check(input.length, BUDGET, () -> RgbImage.composited(RgbImage.decode(input, "fuzz.img"),
                0xffffff), IOException.class);
    }
}
