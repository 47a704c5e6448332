package io.github.glidejava.nn.layers;

import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.ops.TensorOps;

/**
 * glide's {@code timestep_embedding(timesteps, dim, max_period)}: {@code [cos(t f), sin(t f)]} (cos first) with
 * {@code f_i = exp(-ln(max_period) i / half)}, plus a zero column when {@code dim} is odd.
 */
public final class TimestepEmbedding {
    private TimestepEmbedding() {
    }

    /**
     * The frequencies in float32, computed as torch does (computed otherwise they differ in the last bits, and
     * timesteps up to 1000 amplify that): the float32 scalar {@code -ln(max_period)}
     * times the float32 index, divided by {@code half} in float32, then torch's vectorised float32 exp, which is not
     * always correctly rounded (see {@link #expf}).
     */
    public static float[] freqs(int dim, double maxPeriod) {
        int half = dim / 2;
        float c = (float) -Math.log(maxPeriod);
        float[] f = new float[half];
        for (int i = 0; i < half; i++) {
            float v = (c * (float) i) / (float) half;
            f[i] = expf(v);
        }
        return f;
    }

    /**
     * float32 exp evaluated the way SLEEF's 1-ulp {@code expf} (used by torch's CPU kernels) does with FMA: round
     * {@code d / ln 2} to an integer q, a two-part Cody-Waite reduction {@code s = d - q ln 2}, a degree-6
     * polynomial, then scale by {@code 2^q}. It reproduces torch's {@code exp} bit for bit where
     * {@code (float) Math.exp} is off by 1 ulp.
     */
    public static float expf(float d) {
        if (d < -104f) {
            return 0f;
        }
        if (d > 100f) {
            return Float.POSITIVE_INFINITY;
        }
        int q = (int) Math.rint(d * 1.442695040888963407359924681001892137426645954152985934135449406931f);
        float s = Math.fma((float) q, -0.693145751953125f, d);
        s = Math.fma((float) q, -1.428606765330187045e-06f, s);
        float u = 0.000198527617612853646278381f;
        u = Math.fma(u, s, 0.00139304355252534151077271f);
        u = Math.fma(u, s, 0.00833336077630519866943359f);
        u = Math.fma(u, s, 0.0416664853692054748535156f);
        u = Math.fma(u, s, 0.166666671633720397949219f);
        u = Math.fma(u, s, 0.5f);
        u = 1.0f + Math.fma(s * s, u, s);
        return Math.scalb(u, q);
    }

    /** {@code timesteps [N]} (int64 or float) -> {@code [N, dim]} float32. */
    public static <T> T forward(TensorOps<T> ops, T timesteps, int dim, double maxPeriod) {
        if (dim < 2) {
            throw new IllegalArgumentException("timestep embedding dimension must be >= 2, got " + dim);
        }
        long[] s = ops.shape(timesteps);
        if (s.length != 1) {
            throw new IllegalArgumentException("timesteps must be a 1-d tensor [N], got " + java.util.Arrays.toString(s));
        }
        long n = s[0];
        int half = dim / 2;
        T f = ops.constant(Nd4j.createFromArray(freqs(dim, maxPeriod)).reshape(1, half));
        T args = ops.mul(ops.reshape(ops.toFloat(timesteps), n, 1), f);
        T emb = ops.concat(1, ops.cos(args), ops.sin(args));
        if (dim % 2 == 1) {
            emb = ops.concat(1, emb, ops.constant(Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, 1)));
        }
        return emb;
    }

    public static <T> T forward(TensorOps<T> ops, T timesteps, int dim) {
        return forward(ops, timesteps, dim, 10000);
    }
}
