package io.github.glidejava.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.github.glidejava.core.image.RgbImage;

class ColourWordsTest {
    /** A size x size white picture with its top-left {@code side} x {@code side} square in one colour. */
    private static RgbImage square(int size, int side, int r, int g, int b) {
        byte[] d = new byte[3 * size * size];
        java.util.Arrays.fill(d, (byte) 255);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                int i = y * size + x;
                d[i] = (byte) r;
                d[size * size + i] = (byte) g;
                d[2 * size * size + i] = (byte) b;
            }
        }
        return new RgbImage(size, size, d);
    }

    @Test
    void namesTheDominantColourOfTheForeground() {
        assertEquals(Optional.of("red"), ColourWords.dominant(square(16, 8, 200, 30, 30)));
        assertEquals(Optional.of("yellow"), ColourWords.dominant(square(16, 8, 255, 210, 40)));
        assertEquals(Optional.of("blue"), ColourWords.dominant(square(16, 8, 40, 90, 230)));
        // a picture that is almost all background has no colour
        assertEquals(Optional.empty(), ColourWords.dominant(square(16, 2, 40, 90, 230)));
    }

    @Test
    void addsColouredAlternativesOnlyToCaptionsWithoutAColourWord() {
        assertEquals(List.of("grinning face", "grinning", "yellow grinning face", "yellow grinning"),
                ColourWords.withColour(List.of("grinning face", "grinning"), "yellow"));
        assertEquals(List.of("blue heart", "blue_heart"), ColourWords.withColour(List.of("blue heart", "blue_heart"), "purple"));
        assertEquals(List.of("light-blue car"), ColourWords.withColour(List.of("light-blue car"), "blue"));
    }

    @Test
    void theDataSetOptionAddsThemToTheCaptions() throws java.io.IOException {
        java.awt.image.BufferedImage red = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = red.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, 16, 16);
        g.setColor(new java.awt.Color(210, 30, 40));
        g.fillRect(2, 2, 10, 10);
        g.dispose();
        DatasetOptions options = DatasetOptions.builder().imageSize(16).colourCaptions(true).build();
        CaptionedImageDataset ds = DatasetLoader.fromImages("test", List.of(red, red),
                List.of(List.of("apple"), List.of("red apple")), options);
        assertEquals(List.of("apple", "red apple"), ds.captions(0));
        assertEquals(List.of("red apple"), ds.captions(1));
        CaptionedImageDataset plain = DatasetLoader.fromImages("test", List.of(red), List.of(List.of("apple")),
                DatasetOptions.builder().imageSize(16).build());
        assertEquals(List.of("apple"), plain.captions(0));
    }
}
