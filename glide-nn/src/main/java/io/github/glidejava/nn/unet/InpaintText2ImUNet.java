package io.github.glidejava.nn.unet;

import java.util.Arrays;
import java.util.List;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.ops.TensorOps;

/**
 * glide's InpaintText2ImUNet: {@code cat([x, inpaint_image * inpaint_mask, inpaint_mask], dim=1)}; missing
 * inpainting inputs are zeros as in glide.
 */
public class InpaintText2ImUNet extends Text2ImUNet {
    protected InpaintText2ImUNet(GlideModelConfig c) {
        super(c);
    }

    /** Eager forward: {@code inpaintImage [N, 3, H, W]}, {@code inpaintMask [N, 1, H, W]} (1 = keep). */
    public INDArray forward(INDArray x, INDArray timesteps, INDArray tokens, INDArray mask, INDArray inpaintImage,
            INDArray inpaintMask) {
        return forward(UNetInputs.of(x, timesteps, tokens, mask).withInpaint(inpaintImage, inpaintMask));
    }

    @Override
    protected <T> T unetInput(TensorOps<T> ops, UNetInputs<T> in) {
        return ops.concat(1, inpaintChannels(ops, in, ops.toFloat(in.x())));
    }

    /** {@code [x, image * mask, mask]}. */
    static <T> List<T> inpaintChannels(TensorOps<T> ops, UNetInputs<T> in, T x) {
        long[] s = ops.shape(x);
        T image = in.inpaintImage() == null
                ? ops.constant(Nd4j.zeros(DataType.FLOAT, s[0], s[1], s[2], s[3])) : ops.toFloat(in.inpaintImage());
        T mask = in.inpaintMask() == null
                ? ops.constant(Nd4j.zeros(DataType.FLOAT, s[0], 1, s[2], s[3])) : ops.toFloat(in.inpaintMask());
        if (!Arrays.equals(ops.shape(image), s)) {
            throw new IllegalArgumentException("inpaint_image must be " + Arrays.toString(s) + " like x, got "
                    + Arrays.toString(ops.shape(image)));
        }
        long[] ms = ops.shape(mask);
        if (!Arrays.equals(ms, new long[] {s[0], 1, s[2], s[3]})) {
            throw new IllegalArgumentException("inpaint_mask must be [" + s[0] + ", 1, " + s[2] + ", " + s[3]
                    + "], got " + Arrays.toString(ms));
        }
        return List.of(x, ops.mul(image, mask), mask);
    }
}
