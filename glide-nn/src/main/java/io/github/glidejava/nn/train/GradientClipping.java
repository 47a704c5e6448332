package io.github.glidejava.nn.train;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Objects;

import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code torch.nn.utils.clip_grad_norm_} with the L2 norm, in place on plain gradient maps. */
public final class GradientClipping {
    private GradientClipping() {
    }

    /**
     * Scales every gradient in place so that their total L2 norm is at most {@code maxNorm}, as
     * {@code torch.nn.utils.clip_grad_norm_(params, max_norm)}: {@code total = ||(||g_1||, ||g_2||, ...)||} (each
     * norm rounded to float32), {@code coef = min(max_norm / (total + 1e-6), 1)} in float32, and every gradient is
     * multiplied by {@code coef} (a no-op when it is 1).
     *
     * @param grads   gradients (float32, dense); an empty map has norm 0
     * @param maxNorm the largest allowed total norm, finite and > 0
     * @return the total norm BEFORE clipping (float32, as a double)
     */
    public static double clipGradNorm(Map<String, INDArray> grads, double maxNorm) {
        if (!(maxNorm > 0 && Double.isFinite(maxNorm))) {
            throw new IllegalArgumentException("max_norm must be finite and > 0, got " + maxNorm);
        }
        float total = totalNorm(grads);
        float coef = clipCoefficient(total, maxNorm);
        if (coef < 1f) {
            for (Map.Entry<String, INDArray> e : grads.entrySet()) {
                FloatBuffer b = DenseFloats.of(e.getValue(), "gradient of " + e.getKey());
                DenseFloats.forRanges(b.limit(), (from, to) -> {
                    for (int i = from; i < to; i++) {
                        b.put(i, b.get(i) * coef);
                    }
                });
            }
        }
        return total;
    }

    /**
     * The L2 norm of the per-tensor L2 norms, without changing anything: torch's
     * {@code norm(stack([norm(g) for g in grads]))} in float32 (in the map's order). Each norm is accumulated as torch's vectorised CPU
     * kernel does on AVX2 (8 float32 lanes of {@code acc += x * x}, the lanes summed in order, then the remaining
     * elements): with the gradients in PyTorch layout and named_parameters() order this is torch's value to the bit;
     * a convolution weight in the stored layout sums in another order, which can move the result by an ulp. NaN or
     * infinite when a gradient is.
     */
    public static float totalNorm(Map<String, INDArray> grads) {
        Objects.requireNonNull(grads, "grads");
        float[] norms = new float[grads.size()];
        int i = 0;
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            norms[i++] = l2Norm(DenseFloats.of(e.getValue(), "gradient of " + e.getKey()));
        }
        return l2Norm(FloatBuffer.wrap(norms));
    }

    private static final int LANES = 8;

    /** The L2 norm of a buffer's elements in float32, summed like torch's AVX2 reduction. */
    static float l2Norm(FloatBuffer b) {
        int n = b.limit();
        float[] acc = new float[LANES];
        int d = 0;
        for (; d < n - n % LANES; d += LANES) {
            for (int j = 0; j < LANES; j++) {
                float v = b.get(d + j);
                acc[j] += v * v;
            }
        }
        float sum = acc[0];
        for (int j = 1; j < LANES; j++) {
            sum += acc[j];
        }
        for (; d < n; d++) {
            float v = b.get(d);
            sum += v * v;
        }
        return (float) Math.sqrt(sum);
    }

    /**
     * torch's clip coefficient for a total norm: {@code clamp(max_norm / (total + 1e-6), max=1)}, evaluated as
     * torch does it on a float32 tensor, {@code reciprocal(total + 1e-6) * max_norm}.
     */
    public static float clipCoefficient(float totalNorm, double maxNorm) {
        float coef = (1f / (totalNorm + 1e-6f)) * (float) maxNorm;
        return Math.min(coef, 1f);
    }
}
