package io.github.glidejava.core.data;

import java.util.List;
import java.util.Map;

import io.github.glidejava.core.image.RgbImage;

/**
 * Pictures with captions, prepared for training: every picture is held resized so that its shorter side is the
 * training size S (for {@link DatasetOptions.Crop#CENTER} already cut to its middle S x S window). Made by
 * {@link DatasetLoader#open}; {@link TrainingBatches} draws batches from it.
 */
public interface CaptionedImageDataset {
    /** Number of usable examples (after any skipped items). */
    int size();

    /** What the data set was read from, for messages and logs (a path and its format). */
    String source();

    /** The options the pictures were prepared with. */
    DatasetOptions options();

    /** Example {@code index}: its S x S picture (the middle window, not mirrored), captions and labels. */
    Example get(int index);

    /** The prepared picture of example {@code index}: shorter side S, the longer side kept for random crops. */
    RgbImage picture(int index);

    /** The alternative captions of example {@code index} (one or more). */
    List<String> captions(int index);

    /** Where example {@code index} came from (a path relative to the data set, or an archive entry). */
    String id(int index);

    /** Descriptive labels of example {@code index} (see {@link Example#labels()}). */
    Map<String, String> labels(int index);
}
