package io.github.glidejava.core.image;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A grid of pictures with a caption at the start of each row, the pictures scaled up with nearest-neighbour
 * sampling so that small samples (16 to 64 pixels) stay readable: validation grids while training, evaluation grids.
 */
public final class CaptionedGrid {
    private static final int CAPTION_WIDTH = 220;
    private static final int MIN_CELL = 96;

    private CaptionedGrid() {
    }

    /**
     * One row per caption with its pictures left to right; rows may differ in length. {@code captions} and
     * {@code rows} have the same size; an empty caption is shown as "(no caption)".
     */
    public static BufferedImage draw(List<String> captions, List<List<BufferedImage>> rows) {
        if (captions.size() != rows.size()) {
            throw new IllegalArgumentException(captions.size() + " captions for " + rows.size() + " rows");
        }
        int cols = 1;
        int size = 1;
        for (List<BufferedImage> row : rows) {
            cols = Math.max(cols, row.size());
            for (BufferedImage im : row) {
                size = Math.max(size, Math.max(im.getWidth(), im.getHeight()));
            }
        }
        int cell = Math.max(size, MIN_CELL);
        BufferedImage grid = new BufferedImage(CAPTION_WIDTH + cols * cell, Math.max(1, rows.size()) * cell,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.setColor(Color.BLACK);
        for (int r = 0; r < rows.size(); r++) {
            List<BufferedImage> row = rows.get(r);
            for (int i = 0; i < row.size(); i++) {
                g.drawImage(row.get(i), CAPTION_WIDTH + i * cell, r * cell, cell, cell, null);
            }
            String caption = captions.get(r);
            drawWrapped(g, caption.isEmpty() ? "(no caption)" : caption, 6, r * cell + 16, CAPTION_WIDTH - 12);
        }
        g.dispose();
        return grid;
    }

    private static void drawWrapped(Graphics2D g, String text, int x, int y, int width) {
        FontMetrics fm = g.getFontMetrics();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && fm.stringWidth(line + " " + word) > width) {
                g.drawString(line.toString(), x, y);
                y += fm.getHeight();
                line.setLength(0);
            }
            line.append(line.length() > 0 ? " " : "").append(word);
        }
        g.drawString(line.toString(), x, y);
    }
}
