package io.github.glidejava.bench;

import java.util.List;
import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.kernels.DnnlConv;
import io.github.glidejava.nn.ops.kernels.DnnlConv.Algorithm;

/**
 * Interleaved comparison of the 3x3 convolutions at GLIDE's shapes: ND4J's {@code conv2d} / {@code conv2d_bp}
 * against {@link DnnlConv}'s primitives (direct float32, Winograd, bfloat16 forward; both backward passes), with
 * each variant's largest difference from ND4J's result. Usage: {@code ConvProbe [reps] [shape ...]}, a shape being
 * {@code N,C,H,O} (3x3, stride 1, padding 1).
 */
public final class ConvProbe {
    static {
        GlideBackend.init();
    }

    private ConvProbe() {
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        String[] shapes = args.length > 1 ? java.util.Arrays.copyOfRange(args, 1, args.length)
                : new String[] {"2,192,64,192", "2,384,32,384", "2,768,8,768", "16,64,32,64", "16,128,16,128",
                        "1,192,256,192"};
        System.out.println("machine: " + MachineInfo.describe());
        Nd4j.getRandom().setSeed(1);
        EagerOps eager = new EagerOps(name -> null, false);
        for (String s : shapes) {
            String[] p = s.split(",");
            int n = Integer.parseInt(p[0]), c = Integer.parseInt(p[1]), h = Integer.parseInt(p[2]);
            int o = Integer.parseInt(p[3]);
            INDArray x = Nd4j.randn(DataType.FLOAT, n, c, h, h);
            INDArray w = Nd4j.randn(DataType.FLOAT, 3, 3, c, o).muli(1.0 / Math.sqrt(9.0 * c));
            INDArray b = Nd4j.randn(DataType.FLOAT, o);
            INDArray g = Nd4j.randn(DataType.FLOAT, n, o, h, h);
            double flops = 2.0 * n * o * h * h * c * 9;
            INDArray ref = eager.conv2d(x, w, b, 1, 1);
            for (Algorithm a : Algorithm.values()) {
                INDArray y = Nd4j.createUninitialized(DataType.FLOAT, n, o, h, h);
                boolean ok = DnnlConv.forward(x, w, b, 1, 1, y, a);
                System.out.printf(Locale.ROOT, "%s %s: %s, max |diff| %.3g (max |y| %.3g)%n", s, a,
                        ok ? "implemented" : "NOT implemented", ok ? y.sub(ref).amaxNumber().doubleValue() : 0.0,
                        ref.amaxNumber().doubleValue());
            }
            INDArray[] bp = nd4jBackward(x, w, b, g);
            INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
            INDArray dw = Nd4j.createUninitialized(DataType.FLOAT, w.shape());
            INDArray db = Nd4j.createUninitialized(DataType.FLOAT, b.shape());
            DnnlConv.backwardData(g, w, 1, 1, dx, DnnlConv.Algorithm.DIRECT);
            DnnlConv.backwardWeights(x, g, 1, 1, dw, db, DnnlConv.Algorithm.DIRECT);
            System.out.printf(Locale.ROOT, "%s backward: max |dx diff| %.3g (max %.3g), |dw diff| %.3g (max %.3g),"
                    + " |db diff| %.3g%n", s, dx.sub(bp[0]).amaxNumber().doubleValue(),
                    bp[0].amaxNumber().doubleValue(), dw.sub(bp[1]).amaxNumber().doubleValue(),
                    bp[1].amaxNumber().doubleValue(), db.sub(bp[2]).amaxNumber().doubleValue());
            INDArray y = Nd4j.createUninitialized(DataType.FLOAT, n, o, h, h);
            KernelProbe.compare(s + " forward", flops, reps, List.of(
                    new KernelProbe.Variant("nd4j conv2d", () -> eager.conv2d(x, w, b, 1, 1).close()),
                    new KernelProbe.Variant("dnnl direct",
                            () -> DnnlConv.forward(x, w, b, 1, 1, y, Algorithm.DIRECT)),
                    new KernelProbe.Variant("dnnl winograd",
                            () -> DnnlConv.forward(x, w, b, 1, 1, y, Algorithm.WINOGRAD)),
                    new KernelProbe.Variant("dnnl bf16",
                            () -> DnnlConv.forward(x, w, b, 1, 1, y, Algorithm.BF16))));
            KernelProbe.compare(s + " backward (data + weights)", 2 * flops, reps, List.of(
                    new KernelProbe.Variant("nd4j conv2d_bp", () -> {
                        for (INDArray r : nd4jBackward(x, w, b, g)) {
                            r.close();
                        }
                    }),
                    new KernelProbe.Variant("dnnl backward", () -> {
                        DnnlConv.backwardData(g, w, 1, 1, dx, DnnlConv.Algorithm.DIRECT);
                        DnnlConv.backwardWeights(x, g, 1, 1, dw, db, DnnlConv.Algorithm.DIRECT);
                    })));
        }
    }

    private static INDArray[] nd4jBackward(INDArray x, INDArray w, INDArray b, INDArray g) {
        INDArray gx = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        INDArray gw = Nd4j.createUninitialized(DataType.FLOAT, w.shape());
        INDArray gb = Nd4j.createUninitialized(DataType.FLOAT, b.shape());
        Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(x, w, b, g).addOutputs(gx, gw, gb)
                .addIntegerArguments(3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0).build());
        return new INDArray[] {gx, gw, gb};
    }
}
