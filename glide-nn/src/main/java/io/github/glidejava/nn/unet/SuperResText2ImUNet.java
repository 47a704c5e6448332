package io.github.glidejava.nn.unet;

import java.util.Arrays;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.layers.BilinearResize;
import io.github.glidejava.nn.ops.TensorOps;

/**
 * glide's SuperResText2ImUNet: {@code low_res} is resized to x's size with bilinear interpolation
 * (align_corners=False) and concatenated after x: {@code cat([x, upsampled], dim=1)}.
 */
public class SuperResText2ImUNet extends Text2ImUNet {
    protected SuperResText2ImUNet(GlideModelConfig c) {
        super(c);
    }

    /** Eager forward: {@code lowRes [N, 3, h, w]} is the image to upsample. */
    public INDArray forward(INDArray x, INDArray timesteps, INDArray tokens, INDArray mask, INDArray lowRes) {
        return forward(UNetInputs.of(x, timesteps, tokens, mask).withLowRes(lowRes));
    }

    @Override
    protected <T> T unetInput(TensorOps<T> ops, UNetInputs<T> in) {
        return ops.concat(1, ops.toFloat(in.x()), upsampledLowRes(ops, in));
    }

    static <T> T upsampledLowRes(TensorOps<T> ops, UNetInputs<T> in) {
        if (in.lowRes() == null) {
            throw new IllegalArgumentException("a super-resolution model needs low_res [N, 3, h, w]");
        }
        long[] x = ops.shape(in.x());
        long[] lr = ops.shape(in.lowRes());
        if (lr.length != 4 || lr[0] != x[0] || lr[1] != x[1]) {
            throw new IllegalArgumentException("low_res must be [" + x[0] + ", " + x[1] + ", h, w], got "
                    + Arrays.toString(lr));
        }
        return BilinearResize.forward(ops, ops.toFloat(in.lowRes()), x[2], x[3]);
    }
}
