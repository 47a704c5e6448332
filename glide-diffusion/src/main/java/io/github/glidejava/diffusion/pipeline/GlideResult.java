package io.github.glidejava.diffusion.pipeline;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.image.PngFiles;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The outcome of a pipeline call: the images, the raw tensors and the parameters used.
 *
 * <p>{@link #samples()} are the final images as float32 [N, 3, H, W] in [-1, 1] (256x256 after upsampling), and
 * {@link #baseSamples()} the base stage's [N, 3, 64, 64] (null for {@code upsample} calls). Pixels follow the
 * notebooks' rule {@code clamp(round((x + 1) * 127.5), 0, 255)}.
 */
public final class GlideResult {
    private final INDArray samples;
    private final INDArray baseSamples;
    private final GenerationParameters parameters;
    private final List<BufferedImage> images;

    GlideResult(INDArray samples, INDArray baseSamples, GenerationParameters parameters) {
        this.samples = Objects.requireNonNull(samples, "samples");
        this.baseSamples = baseSamples;
        this.parameters = Objects.requireNonNull(parameters, "parameters");
        this.images = List.copyOf(ImageTensors.toImages(samples));
    }

    /** The final images, in order (RGB). */
    public List<BufferedImage> images() {
        return images;
    }

    public BufferedImage image(int index) {
        return images.get(index);
    }

    public int size() {
        return images.size();
    }

    /** Final images as float32 [N, 3, H, W] in [-1, 1] (do not modify). */
    public INDArray samples() {
        return samples;
    }

    /** The base stage's output [N, 3, h, w] before upsampling; the same as {@link #samples()} without upsampler. */
    public INDArray baseSamples() {
        return baseSamples;
    }

    public GenerationParameters parameters() {
        return parameters;
    }

    /** Image {@code index} as PNG bytes carrying the generation parameters as text entries. */
    public byte[] png(int index) throws IOException {
        return PngFiles.encode(image(index), parameters.toPngText(index));
    }

    /** Writes image {@code index} as a PNG with the generation parameters, atomically; returns {@code file}. */
    public Path writePng(int index, Path file) throws IOException {
        PngFiles.write(image(index), file, parameters.toPngText(index));
        return file;
    }

    /**
     * Writes every image: {@code file} itself for a single image, else {@code name-0.png}, {@code name-1.png}, ...
     * next to it. Returns the paths written.
     */
    public List<Path> writePngs(Path file) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            out.add(writePng(i, size() == 1 ? file : numbered(file, i)));
        }
        return out;
    }

    /** {@code dir/name.png} -> {@code dir/name-i.png}. */
    static Path numbered(Path file, int i) {
        return numbered(file, Integer.toString(i));
    }

    /** {@code dir/name.png} -> {@code dir/name-suffix.png} (the numbering of {@link #writePngs}). */
    public static Path numbered(Path file, String suffix) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling(dot > 0 ? name.substring(0, dot) + "-" + suffix + name.substring(dot)
                : name + "-" + suffix);
    }
}
