package io.github.glidejava.core.data;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a training data set is read and its pictures prepared. Immutable; made with {@link #builder()} and checked in
 * {@link Builder#build()}.
 *
 * <ul>
 *   <li>{@code imageSize} S: pictures are resized (Pillow bicubic) so the shorter side is S, then cut to S x S.</li>
 *   <li>{@code crop}: {@link Crop#CENTER} always takes the middle window; {@link Crop#RANDOM} lets
 *       {@link TrainingBatches} draw the window's offset along the longer side per draw.</li>
 *   <li>{@code flipProbability}: chance that {@link TrainingBatches} mirrors a picture left-right.</li>
 *   <li>{@code background}: opaque colour {@code 0xRRGGBB} that transparent pixels are composited on (white).</li>
 *   <li>{@code captionColumn}: the caption field of metadata.jsonl / CSV / TSV files ({@code text}).</li>
 *   <li>{@code colourCaptions}: each picture's dominant colour, read from its pixels, is added to its captions as
 *       alternatives ("yellow grinning face") unless they name a colour already (off by default).</li>
 *   <li>{@code strict}: the first bad item (unreadable picture, missing caption, absent file) is an error instead
 *       of being skipped and listed in one warning.</li>
 *   <li>{@code decodeThreads}: threads that decode pictures when the data set is opened and assemble batches.</li>
 *   <li>{@code cacheDirectory}: where prepared pictures are kept between runs (none by default).</li>
 * </ul>
 */
public final class DatasetOptions {
    /** Where the S x S training window is cut from a picture whose shorter side is S. */
    public enum Crop {
        CENTER, RANDOM
    }

    private final int imageSize;
    private final Crop crop;
    private final double flipProbability;
    private final int background;
    private final String captionColumn;
    private final boolean strict;
    private final boolean colourCaptions;
    private final int decodeThreads;
    private final Path cacheDirectory;

    private DatasetOptions(Builder b) {
        this.imageSize = b.imageSize;
        this.crop = b.crop;
        this.flipProbability = b.flipProbability;
        this.background = b.background;
        this.captionColumn = b.captionColumn;
        this.strict = b.strict;
        this.colourCaptions = b.colourCaptions;
        this.decodeThreads = b.decodeThreads;
        this.cacheDirectory = b.cacheDirectory;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: 64 x 64, center crop, no flips, white background, caption column "text", lenient. */
    public static DatasetOptions defaults() {
        return builder().build();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.imageSize = imageSize;
        b.crop = crop;
        b.flipProbability = flipProbability;
        b.background = background;
        b.captionColumn = captionColumn;
        b.strict = strict;
        b.colourCaptions = colourCaptions;
        b.decodeThreads = decodeThreads;
        b.cacheDirectory = cacheDirectory;
        return b;
    }

    public int imageSize() {
        return imageSize;
    }

    public Crop crop() {
        return crop;
    }

    public double flipProbability() {
        return flipProbability;
    }

    /** Background colour as {@code 0xRRGGBB}. */
    public int background() {
        return background;
    }

    public String captionColumn() {
        return captionColumn;
    }

    public boolean colourCaptions() {
        return colourCaptions;
    }

    public boolean strict() {
        return strict;
    }

    public int decodeThreads() {
        return decodeThreads;
    }

    public Optional<Path> cacheDirectory() {
        return Optional.ofNullable(cacheDirectory);
    }

    @Override
    public String toString() {
        return "DatasetOptions[imageSize=" + imageSize + ", crop=" + crop + ", flipProbability=" + flipProbability
                + ", background=#" + String.format("%06x", background) + ", captionColumn=" + captionColumn
                + ", colourCaptions=" + colourCaptions + ", strict=" + strict + ", decodeThreads=" + decodeThreads + ", cacheDirectory=" + cacheDirectory + "]";
    }

    public static final class Builder {
        private int imageSize = 64;
        private Crop crop = Crop.CENTER;
        private double flipProbability = 0.0;
        private int background = 0xFFFFFF;
        private String captionColumn = "text";
        private boolean strict = false;
        private boolean colourCaptions = false;
        private int decodeThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        private Path cacheDirectory;

        private Builder() {
        }

        public Builder imageSize(int size) {
            this.imageSize = size;
            return this;
        }

        public Builder crop(Crop crop) {
            this.crop = crop;
            return this;
        }

        public Builder flipProbability(double p) {
            this.flipProbability = p;
            return this;
        }

        /** Background colour {@code 0xRRGGBB} for transparent pixels. */
        public Builder background(int rgb) {
            this.background = rgb;
            return this;
        }

        /** Background colour as {@code #RRGGBB}, {@code RRGGBB} or a name: white, black, gray / grey. */
        public Builder background(String colour) {
            this.background = parseColour(colour);
            return this;
        }

        public Builder captionColumn(String column) {
            this.captionColumn = column;
            return this;
        }

        public Builder colourCaptions(boolean colourCaptions) {
            this.colourCaptions = colourCaptions;
            return this;
        }

        public Builder strict(boolean strict) {
            this.strict = strict;
            return this;
        }

        public Builder decodeThreads(int threads) {
            this.decodeThreads = threads;
            return this;
        }

        /** Keeps prepared pictures in this directory between runs; null for none. */
        public Builder cacheDirectory(Path dir) {
            this.cacheDirectory = dir;
            return this;
        }

        public DatasetOptions build() {
            if (imageSize < 8 || imageSize > 4096) {
                throw new IllegalArgumentException("image size must be between 8 and 4096 pixels, got " + imageSize);
            }
            Objects.requireNonNull(crop, "crop (CENTER or RANDOM)");
            if (!(flipProbability >= 0.0 && flipProbability <= 1.0)) {
                throw new IllegalArgumentException("flip probability must be in [0, 1], got " + flipProbability);
            }
            if ((background & ~0xFFFFFF) != 0) {
                throw new IllegalArgumentException(String.format(
                        "background must be an opaque RGB colour 0xRRGGBB, got 0x%x", background));
            }
            if (captionColumn == null || captionColumn.isBlank()) {
                throw new IllegalArgumentException("caption column must be a non-empty column name, got '" + captionColumn + "'");
            }
            if (decodeThreads < 1 || decodeThreads > 256) {
                throw new IllegalArgumentException("decode threads must be between 1 and 256, got " + decodeThreads);
            }
            return new DatasetOptions(this);
        }

        static int parseColour(String colour) {
            if (colour == null) {
                throw new IllegalArgumentException("background colour is missing; expected #RRGGBB or white, black, gray");
            }
            String s = colour.trim().toLowerCase(java.util.Locale.ROOT);
            switch (s) {
                case "white":
                    return 0xFFFFFF;
                case "black":
                    return 0x000000;
                case "gray":
                case "grey":
                    return 0x808080;
                default:
                    break;
            }
            String hex = s.startsWith("#") ? s.substring(1) : s;
            if (hex.length() != 6 || !hex.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
                throw new IllegalArgumentException("background colour '" + colour + "' is not #RRGGBB or one of white, black, gray");
            }
            return Integer.parseInt(hex, 16);
        }
    }
}
