package io.github.glidejava.diffusion.training;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import javax.imageio.ImageIO;

/**
 * A tiny captioned data set the tests draw themselves: red, green or blue discs and squares on white, each PNG with
 * a same-stem .txt caption ("a red disc"), in glide-finetune's layout.
 */
final class ShapesDataset {
    static final String[] COLOUR_NAMES = {"red", "green", "blue"};
    static final Color[] COLOURS = {new Color(220, 30, 30), new Color(30, 180, 40), new Color(30, 60, 220)};

    private ShapesDataset() {
    }

    /** Writes {@code count} images of {@code size} pixels into {@code dir}; returns the directory. */
    static Path write(Path dir, int count, int size, long seed) throws IOException {
        return write(dir, count, size, seed, 0, 1, 2);
    }

    /** {@link #write(Path, int, int, long)} with the colours of the given indices only, in turn. */
    static Path write(Path dir, int count, int size, long seed, int... colours) throws IOException {
        Files.createDirectories(dir);
        Random rng = new Random(seed);
        for (int i = 0; i < count; i++) {
            int c = colours[i % colours.length];
            boolean disc = (i / colours.length) % 2 == 0;
            BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, size, size);
            g.setColor(COLOURS[c]);
            int d = size / 2 + rng.nextInt(size / 4);
            int x = rng.nextInt(size - d + 1), y = rng.nextInt(size - d + 1);
            if (disc) {
                g.fillOval(x, y, d, d);
            } else {
                g.fillRect(x, y, d, d);
            }
            g.dispose();
            String stem = String.format("shape-%03d", i);
            ImageIO.write(img, "png", dir.resolve(stem + ".png").toFile());
            Files.writeString(dir.resolve(stem + ".txt"), "a " + COLOUR_NAMES[c] + (disc ? " disc" : " square") + "\n");
        }
        return dir;
    }
}
