package io.github.glidejava.diffusion.training;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.image.ImageTensors;

/**
 * The low-resolution input a super-resolution model is trained with, made from the training image as GLIDE's
 * upsampler sees it at sampling time: a quarter of the size (4x4 area average), quantised to 8 bits like a base
 * model's output ({@code ((x + 1) * 127.5).round() / 127.5 - 1}). The model itself resizes it back bilinearly.
 */
final class LowResolution {
    /** GLIDE's upsampler goes from 64 to 256 pixels. */
    static final int FACTOR = 4;

    private LowResolution() {
    }

    /** {@code images [N, C, S, S]} -> {@code [N, C, S/4, S/4]}. */
    static INDArray of(INDArray images) {
        long n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
        if (h % FACTOR != 0 || w % FACTOR != 0) {
            throw new IllegalArgumentException("a super-resolution model's image size must be a multiple of " + FACTOR
                    + ", got " + h + "x" + w);
        }
        return ImageTensors.quantize(images.dup('c').reshape(n, c, h / FACTOR, FACTOR, w / FACTOR, FACTOR).mean(3, 5));
    }
}
