package io.github.glidejava.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class DatasetOptionsTest {
    @Test
    void defaultsAndCopies() {
        DatasetOptions d = DatasetOptions.defaults();
        assertEquals(64, d.imageSize());
        assertEquals(DatasetOptions.Crop.CENTER, d.crop());
        assertEquals(0xFFFFFF, d.background());
        assertEquals("text", d.captionColumn());
        assertEquals(Optional.empty(), d.cacheDirectory());
        DatasetOptions o = d.toBuilder().imageSize(256).crop(DatasetOptions.Crop.RANDOM).flipProbability(0.5)
                .background("#102030").captionColumn("caption").strict(true).decodeThreads(3)
                .cacheDirectory(Path.of("cache")).build();
        assertEquals(256, o.imageSize());
        assertEquals(0x102030, o.background());
        assertEquals(Optional.of(Path.of("cache")), o.cacheDirectory());
        assertEquals(64, d.imageSize(), "the original is unchanged");
        assertEquals(0x808080, DatasetOptions.builder().background("Grey").build().background());
    }

    @Test
    void invalidSettingsAreNamed() {
        assertMessage(() -> DatasetOptions.builder().imageSize(4).build(), "image size must be between 8 and 4096");
        assertMessage(() -> DatasetOptions.builder().flipProbability(1.5).build(), "flip probability must be in [0, 1]");
        assertMessage(() -> DatasetOptions.builder().flipProbability(Double.NaN).build(), "flip probability");
        assertMessage(() -> DatasetOptions.builder().background(0x1000000).build(), "opaque RGB colour");
        assertMessage(() -> DatasetOptions.builder().background("#12345").build(), "not #RRGGBB");
        assertMessage(() -> DatasetOptions.builder().captionColumn(" ").build(), "caption column");
        assertMessage(() -> DatasetOptions.builder().decodeThreads(0).build(), "decode threads");
        assertThrows(NullPointerException.class, () -> DatasetOptions.builder().crop(null).build());
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String part) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(part), x.getMessage());
    }
}
