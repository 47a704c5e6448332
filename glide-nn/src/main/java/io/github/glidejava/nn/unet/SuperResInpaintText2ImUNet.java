package io.github.glidejava.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.ops.TensorOps;

/**
 * glide's SuperResInpaintText2ImUnet: {@code cat([x, inpaint_image * inpaint_mask, inpaint_mask, upsampled],
 * dim=1)}.
 */
public class SuperResInpaintText2ImUNet extends Text2ImUNet {
    protected SuperResInpaintText2ImUNet(GlideModelConfig c) {
        super(c);
    }

    public INDArray forward(INDArray x, INDArray timesteps, INDArray tokens, INDArray mask, INDArray lowRes,
            INDArray inpaintImage, INDArray inpaintMask) {
        return forward(UNetInputs.of(x, timesteps, tokens, mask).withLowRes(lowRes)
                .withInpaint(inpaintImage, inpaintMask));
    }

    @Override
    protected <T> T unetInput(TensorOps<T> ops, UNetInputs<T> in) {
        List<T> parts = new ArrayList<>(InpaintText2ImUNet.inpaintChannels(ops, in, ops.toFloat(in.x())));
        parts.add(SuperResText2ImUNet.upsampledLowRes(ops, in));
        return ops.concat(1, parts);
    }
}
