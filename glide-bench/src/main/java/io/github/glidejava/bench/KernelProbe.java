package io.github.glidejava.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.ops.kernels.Gemm;
import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;

/**
 * Interleaved comparison of kernel variants at GLIDE's shapes (the machine is shared and noisy, so variants are
 * compared inside one run, round-robin, medians reported): ND4J's matmul vs oneDNN's sgemm on the linear layers,
 * 1x1 convolutions and attention products of the base model, and ND4J's conv2d at the four resolutions.
 */
public final class KernelProbe {
    static {
        GlideBackend.init();
    }

    private KernelProbe() {
    }

    record Variant(String name, Runnable body) {
    }

    static void compare(String what, double flops, int reps, List<Variant> variants) {
        Map<String, List<Double>> t = new LinkedHashMap<>();
        for (Variant v : variants) {
            v.body().run();   // warm-up
            t.put(v.name(), new ArrayList<>());
        }
        for (int r = 0; r < reps; r++) {
            for (Variant v : variants) {
                long s = System.nanoTime();
                v.body().run();
                t.get(v.name()).add((System.nanoTime() - s) / 1e6);
            }
        }
        System.out.printf(Locale.ROOT, "%s (%.2f GFLOP), load %.1f%n", what, flops / 1e9, MachineInfo.loadAverage());
        t.forEach((k, xs) -> {
            double med = FullModelHarness.median(xs);
            System.out.printf(Locale.ROOT, "  %-56s %8.2f ms  %6.1f GFLOP/s%n", k, med, flops / med / 1e6);
        });
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        System.out.println("machine: " + MachineInfo.describe());
        Nd4j.getRandom().setSeed(1);
        // linear layers of the text transformer: [256, 512] x W^T
        for (int[] mnk : new int[][] {{256, 1536, 512}, {256, 2048, 512}, {256, 512, 2048}}) {
            int m = mnk[0], n = mnk[1], k = mnk[2];
            INDArray x = Nd4j.randn(DataType.FLOAT, m, k);
            INDArray w = Nd4j.randn(DataType.FLOAT, n, k);
            INDArray c = Nd4j.create(DataType.FLOAT, m, n);
            compare(String.format("linear [%d,%d] x [%d,%d]^T", m, k, n, k), 2.0 * m * n * k, reps, List.of(
                    new Variant("Nd4j.matmul(x, w, T_b) [EagerOps]", () -> Nd4j.matmul(x, w, false, true, false)),
                    new Variant("x.mmul(w.transpose())", () -> x.mmul(w.transpose())),
                    new Variant("dnnl_sgemm N,T", () -> Gemm.sgemm(false, true, m, n, k, 1f, x, 0, k, w, 0, k, 0f, c, 0, n)),
                    new Variant("cblas_sgemm (OpenBLAS) N,T",
                            () -> sgemmOpenBlas(false, true, m, n, k, 1f, x, 0, k, w, 0, k, 0f, c, 0, n))));
        }
        // 1x1 convolutions of the attention blocks (qkv at 32x32, 384 -> 1152 channels) and a ResBlock skip
        for (int[] s : new int[][] {{384, 1152, 32}, {576, 1728, 16}, {768, 2304, 8}, {384, 384, 32}}) {
            int cin = s[0], cout = s[1], hw = s[2] * s[2];
            INDArray x = Nd4j.randn(DataType.FLOAT, 2, cin, s[2], s[2]);
            INDArray w = Nd4j.randn(DataType.FLOAT, 1, 1, cin, cout);
            INDArray wt = w.reshape(cin, cout);   // [in, out]
            INDArray b = Nd4j.randn(DataType.FLOAT, cout);
            INDArray y = Nd4j.create(DataType.FLOAT, 2, cout, s[2], s[2]);
            EagerOps ops = new EagerOps(k -> null, false);
            compare(String.format("conv1x1 [2,%d,%dx%d] -> %d", cin, s[2], s[2], cout), 2.0 * 2 * cout * cin * hw, reps,
                    List.of(new Variant("ND4J conv2d (EagerOps)", () -> ops.conv2d(x, w, b, 1, 0)),
                            new Variant("dnnl_sgemm per sample (no bias)", () -> {
                                for (int i = 0; i < 2; i++) {
                                    Gemm.sgemm(true, false, cout, hw, cin, 1f, wt, 0, cout, x, (long) i * cin * hw, hw,
                                            0f, y, (long) i * cout * hw, hw);
                                }
                            }),
                            new Variant("cblas_sgemm per sample (no bias)", () -> {
                                for (int i = 0; i < 2; i++) {
                                    sgemmOpenBlas(true, false, cout, hw, cin, 1f, wt, 0, cout, x,
                                            (long) i * cin * hw, hw, 0f, y, (long) i * cout * hw, hw);
                                }
                            })));
        }
        // attention products at 32x32 / 16x16 / 8x8: [B*H] x ([T, ch] x [ch, S]) and ([ch, S] x [S, T])
        for (int[] s : new int[][] {{12, 1024, 64, 1152}, {18, 256, 64, 384}, {24, 64, 64, 192}}) {
            int bh = s[0], t = s[1], ch = s[2], sl = s[3];
            INDArray q = Nd4j.randn(DataType.FLOAT, bh, ch, t);
            INDArray k = Nd4j.randn(DataType.FLOAT, bh, ch, sl);
            INDArray w = Nd4j.create(DataType.FLOAT, bh, t, sl);
            compare(String.format("attention q^T k [%d x (%d,%d)x(%d,%d)]", bh, t, ch, ch, sl), 2.0 * bh * t * sl * ch,
                    reps, List.of(
                            new Variant("Nd4j.matmul batched", () -> Nd4j.matmul(q, k, true, false, false)),
                            new Variant("dnnl_sgemm loop over batch", () -> {
                                for (int i = 0; i < bh; i++) {
                                    Gemm.sgemm(true, false, t, sl, ch, 1f, q, (long) i * ch * t, t, k, (long) i * ch * sl,
                                            sl, 0f, w, (long) i * t * sl, sl);
                                }
                            }),
                            new Variant("cblas_sgemm loop over batch", () -> {
                                for (int i = 0; i < bh; i++) {
                                    sgemmOpenBlas(true, false, t, sl, ch, 1f, q, (long) i * ch * t, t, k,
                                            (long) i * ch * sl, sl, 0f, w, (long) i * t * sl, sl);
                                }
                            })));
        }
        // 3x3 convolutions at the four levels (ND4J / oneDNN through nd4j-native)
        for (int[] s : new int[][] {{192, 64}, {384, 32}, {576, 16}, {768, 8}}) {
            int c = s[0], hw = s[1];
            INDArray x = Nd4j.randn(DataType.FLOAT, 2, c, hw, hw);
            INDArray w = Nd4j.randn(DataType.FLOAT, 3, 3, c, c);
            INDArray b = Nd4j.randn(DataType.FLOAT, c);
            EagerOps ops = new EagerOps(k -> null, false);
            compare(String.format("conv3x3 [2,%d,%dx%d]", c, hw, hw), 2.0 * 2 * c * c * 9 * hw * hw, reps,
                    List.of(new Variant("ND4J conv2d (EagerOps)", () -> ops.conv2d(x, w, b, 1, 1))));
        }
    }

    static void unused(Supplier<?> s) {
    }

    /** The same product as {@link Gemm#sgemm} through OpenBLAS's {@code cblas_sgemm} (the BLAS ND4J links). */
    static void sgemmOpenBlas(boolean transA, boolean transB, long m, long n, long k, float alpha, INDArray a,
            long aOffset, long lda, INDArray b, long bOffset, long ldb, float beta, INDArray c, long cOffset,
            long ldc) {
        org.bytedeco.openblas.global.openblas.cblas_sgemm(org.bytedeco.openblas.global.openblas.CblasRowMajor,
                transA ? org.bytedeco.openblas.global.openblas.CblasTrans : org.bytedeco.openblas.global.openblas.CblasNoTrans,
                transB ? org.bytedeco.openblas.global.openblas.CblasTrans : org.bytedeco.openblas.global.openblas.CblasNoTrans,
                (int) m, (int) n, (int) k, alpha, Gemm.pointer(a, aOffset), (int) lda, Gemm.pointer(b, bOffset),
                (int) ldb, beta, Gemm.pointer(c, cOffset), (int) ldc);
    }
}
