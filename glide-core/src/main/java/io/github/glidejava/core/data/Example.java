package io.github.glidejava.core.data;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training example: the picture at training size, its captions and descriptive labels.
 *
 * @param index position in its data set
 * @param id where it came from, for messages (a file path relative to the data set, or an archive entry)
 * @param image {@code [3, size, size]} float32 values in [-1, 1], C order (RGB planes)
 * @param size the training size S
 * @param captions one or more alternative captions (never empty); a trainer picks one per draw
 * @param labels descriptive fields, e.g. {@code category} and {@code subcategory} of an emoji, or the other
 *        columns of a metadata file; empty when there are none
 */
public record Example(int index, String id, float[] image, int size, List<String> captions, Map<String, String> labels) {
    /** Label key of an emoji's category ("Animals & Nature"). */
    public static final String CATEGORY = "category";
    /** Label key of an emoji's subcategory ("animal-mammal"). */
    public static final String SUBCATEGORY = "subcategory";
    /** Label key of a skin-tone variant's tones ("medium", "light, dark"); absent on other examples. */
    public static final String SKIN_TONE = "skin_tone";

    public Example {
        if (image.length != 3 * size * size) {
            throw new IllegalArgumentException("image of " + image.length + " values is not [3, " + size + ", " + size + "]");
        }
        if (captions.isEmpty()) {
            throw new IllegalArgumentException("example " + id + " has no caption");
        }
        captions = List.copyOf(captions);
        labels = Map.copyOf(labels);
    }

    /** The picture as a new {@code [3, S, S]} float32 array. */
    public INDArray imageArray() {
        return Nd4j.create(image.clone(), new long[] {3, size, size}, DataType.FLOAT);
    }

    public Optional<String> category() {
        return Optional.ofNullable(labels.get(CATEGORY));
    }

    public Optional<String> subcategory() {
        return Optional.ofNullable(labels.get(SUBCATEGORY));
    }

    /** Whether this is a skin-tone variant of an emoji (its tones are the {@link #SKIN_TONE} label). */
    public boolean skinToneVariant() {
        return labels.containsKey(SKIN_TONE);
    }
}
