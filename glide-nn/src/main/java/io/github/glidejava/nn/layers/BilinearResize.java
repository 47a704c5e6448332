package io.github.glidejava.nn.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.ops.TensorOps;

/**
 * {@code F.interpolate(x, (H, W), mode="bilinear", align_corners=False)}, the U-Net's resize of low_res, written as
 * two matrix
 * products with interpolation matrices whose weights are computed in float32 the way PyTorch's CPU kernel does:
 * scale = in/out from the sizes, source index {@code (dst + 0.5) * scale - 0.5} clamped at 0, the neighbour index
 * clamped at the border.
 */
public final class BilinearResize {
    private BilinearResize() {
    }

    /** The {@code [out, in]} interpolation matrix of one axis. */
    public static float[][] weights(int in, int out) {
        float[][] m = new float[out][in];
        if (in == out) {
            for (int i = 0; i < out; i++) {
                m[i][i] = 1f;
            }
            return m;
        }
        float scale = (float) in / (float) out;
        for (int o = 0; o < out; o++) {
            // torch evaluates scale * (dst + 0.5) - 0.5 in double and stores it as float
            float src = (float) (scale * (o + 0.5) - 0.5);
            if (src < 0f) {
                src = 0f;
            }
            int i0 = (int) src;
            int i1 = i0 + (i0 < in - 1 ? 1 : 0);
            float l1 = Math.min(Math.max(src - i0, 0f), 1f);
            float l0 = 1f - l1;
            m[o][i0] += l0;
            m[o][i1] += l1;
        }
        return m;
    }

    /** {@code x [N, C, h, w] -> [N, C, outH, outW]}. */
    public static <T> T forward(TensorOps<T> ops, T x, long outH, long outW) {
        long[] s = ops.shape(x);
        if (s.length != 4) {
            throw new IllegalArgumentException("bilinear resize expects [N, C, H, W], got " + java.util.Arrays.toString(s));
        }
        long n = s[0], c = s[1], h = s[2], w = s[3];
        T rw = ops.constant(matrix(weights((int) w, (int) outW)));   // [outW, w]
        T rh = ops.constant(matrix(weights((int) h, (int) outH)));   // [outH, h]
        // along W: [N*C*h, w] x [w, outW]
        T y = ops.matmul(ops.reshape(x, n * c * h, w), rw, false, true);
        // along H: [N*C, outW, h] x [h, outH]
        y = ops.permute(ops.reshape(y, n * c, h, outW), 0, 2, 1);
        y = ops.matmul(ops.reshape(y, n * c * outW, h), rh, false, true);
        y = ops.permute(ops.reshape(y, n * c, outW, outH), 0, 2, 1);
        return ops.reshape(y, n, c, outH, outW);
    }

    private static INDArray matrix(float[][] m) {
        return Nd4j.createFromArray(m).castTo(DataType.FLOAT);
    }
}
