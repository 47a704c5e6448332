package io.github.glidejava.core.data;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.github.glidejava.core.image.RgbImage;

/**
 * Colour words read from the pictures themselves, for captions that name no colour. A small data set names colours
 * rarely (the emoji set: "yellow" in 3 of 3,786 names), too rarely for a model trained from scratch to learn the
 * words; naming each picture's dominant colour in an alternative caption ("yellow grinning face") gives every colour
 * word hundreds of examples.
 *
 * <p>The dominant colour: every pixel that is not background-white is given the nearest name of a ten-colour palette
 * (RGB distance); the most frequent name is the picture's colour when it covers at least {@link #MIN_SHARE} of those
 * pixels and they are at least {@link #MIN_FOREGROUND} of the picture.
 */
final class ColourWords {
    /** Names and their palette colours. */
    static final Map<String, int[]> PALETTE = new LinkedHashMap<>();
    private static final String[] NAMES;
    private static final int[][] COLOURS;
    /** Words that already name a colour: a caption with one of them is left as it is. */
    static final Set<String> WORDS;
    static final double MIN_SHARE = 0.4;
    static final double MIN_FOREGROUND = 0.05;
    /** Pixels whose every channel is above this are background. */
    private static final int WHITE = 225;

    static {
        PALETTE.put("red", new int[] {215, 40, 45});
        PALETTE.put("orange", new int[] {245, 140, 30});
        PALETTE.put("yellow", new int[] {250, 205, 50});
        PALETTE.put("green", new int[] {70, 170, 70});
        PALETTE.put("blue", new int[] {50, 110, 220});
        PALETTE.put("purple", new int[] {145, 75, 185});
        PALETTE.put("pink", new int[] {245, 135, 175});
        PALETTE.put("brown", new int[] {135, 85, 45});
        PALETTE.put("black", new int[] {35, 35, 35});
        PALETTE.put("grey", new int[] {150, 150, 150});
        NAMES = PALETTE.keySet().toArray(new String[0]);
        COLOURS = PALETTE.values().toArray(new int[0][]);
        Set<String> words = new LinkedHashSet<>(PALETTE.keySet());
        words.addAll(List.of("white", "gray", "violet", "gold", "golden", "silver", "cyan", "magenta", "turquoise"));
        WORDS = Set.copyOf(words);
    }

    private ColourWords() {
    }

    /** The picture's dominant colour name, if it has one. */
    static Optional<String> dominant(RgbImage picture) {
        byte[] d = picture.data();
        int plane = picture.height() * picture.width();
        int[] counts = new int[NAMES.length];
        int foreground = 0;
        for (int i = 0; i < plane; i++) {
            int r = d[i] & 0xFF;
            int g = d[plane + i] & 0xFF;
            int b = d[2 * plane + i] & 0xFF;
            if (r > WHITE && g > WHITE && b > WHITE) {
                continue;
            }
            foreground++;
            int best = 0;
            long bestDist = Long.MAX_VALUE;
            for (int k = 0; k < COLOURS.length; k++) {
                long dr = r - COLOURS[k][0];
                long dg = g - COLOURS[k][1];
                long db = b - COLOURS[k][2];
                long dist = dr * dr + dg * dg + db * db;
                if (dist < bestDist) {
                    bestDist = dist;
                    best = k;
                }
            }
            counts[best]++;
        }
        if (foreground < MIN_FOREGROUND * plane) {
            return Optional.empty();
        }
        int top = 0;
        for (int k = 1; k < counts.length; k++) {
            if (counts[k] > counts[top]) {
                top = k;
            }
        }
        return counts[top] >= MIN_SHARE * foreground ? Optional.of(NAMES[top]) : Optional.empty();
    }

    /** The captions, each followed by its coloured form ("yellow " + caption) unless it names a colour already. */
    static List<String> withColour(List<String> captions, String colour) {
        Set<String> out = new LinkedHashSet<>(captions);
        for (String c : captions) {
            if (!namesAColour(c)) {
                out.add(colour + " " + c);
            }
        }
        return List.copyOf(out);
    }

    static boolean namesAColour(String caption) {
        for (String w : caption.toLowerCase(Locale.ROOT).split("[^a-z]+")) {
            if (WORDS.contains(w)) {
                return true;
            }
        }
        return false;
    }
}
