package io.github.glidejava.diffusion.pipeline;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.function.UnaryOperator;

import io.github.glidejava.core.image.ImageTensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What inpainting keeps, at one stage's size: {@code image} [1, 3, s, s] in [-1, 1] and {@code keep} [1, 1, s, s],
 * 1 where the image is kept and 0 where it is generated.
 */
record KnownRegion(INDArray image, INDArray keep) {

    /**
     * The region at {@code size}: the image resized as the stage's input, the mask resized by nearest neighbour (the
     * inpainting notebook brings its 64x64 mask to 256x256 with {@code F.interpolate(mode="nearest")}).
     */
    static KnownRegion of(BufferedImage image, INDArray keep, int size) {
        return new KnownRegion(ImageTensors.fromImage(image, size, size), ImageTensors.resizeNearest(keep, size, size));
    }

    /**
     * GLIDE's mask tensor {@code keepMask} [1, 1, h, w] or [h, w] at the base model's {@code size} or the image's
     * size, as [1, 1, size, size] float32 (resized by nearest neighbour); a clear error for any other shape.
     */
    static INDArray keepMask(INDArray keepMask, int size, int imageWidth, int imageHeight) {
        long[] shape = keepMask.shape();
        boolean rank2 = shape.length == 2;
        boolean rank4 = shape.length == 4 && shape[0] == 1 && shape[1] == 1;
        long h = rank2 ? shape[0] : rank4 ? shape[2] : -1;
        long w = rank2 ? shape[1] : rank4 ? shape[3] : -1;
        if (!(rank2 || rank4) || !((h == size && w == size) || (h == imageHeight && w == imageWidth))) {
            throw new IllegalArgumentException("the inpainting mask must be [1, 1, H, W] or [H, W] with H x W = "
                    + size + "x" + size + " (the base model's size) or " + imageWidth + "x" + imageHeight
                    + " (the image's), got " + Arrays.toString(shape));
        }
        return ImageTensors.resizeNearest(keepMask.castTo(DataType.FLOAT).reshape(1, 1, h, w), size, size);
    }

    /**
     * The model's inpainting inputs for {@code rows} rows, as the notebook: {@code inpaint_image = image * mask} and
     * {@code inpaint_mask = mask}; and its {@code denoised_fn}, which re-imposes the kept pixels on every x_0
     * prediction: {@code x0 * (1 - mask) + inpaint_image * mask}.
     */
    Rows rows(int rows) {
        INDArray mask = keep.repeat(0, rows);
        INDArray maskedImage = image.mul(Nd4j.concat(1, keep, keep, keep)).repeat(0, rows);
        INDArray keep3 = Nd4j.concat(1, mask, mask, mask);
        INDArray drop3 = keep3.rsub(1.0);
        INDArray known = maskedImage.mul(keep3);
        return new Rows(maskedImage, mask, x0 -> x0.mul(drop3).addi(known));
    }

    record Rows(INDArray maskedImage, INDArray mask, UnaryOperator<INDArray> denoisedFn) {
    }
}
