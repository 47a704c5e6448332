package io.github.glidejava.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.autodiff.Gradients;
import io.github.glidejava.nn.autodiff.TapeOps;
import io.github.glidejava.nn.autodiff.Tensor;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.SameDiffOps;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * The eager back-end with and without the sgemm kernels on each {@link BaseLayerShape}, interleaved call by call
 * (JMH runs one benchmark after another, so on a shared machine a load change between them shows up as a difference).
 *
 * With {@code --samediff} the SameDiff forward and forward+backward (training graph, see {@link LayerBenchmark})
 * join the rotation; with {@code --tape} the training back-end ({@link TapeOps}): its forward alone (tape cleared
 * after it) and forward+backward of the output's mean into every parameter and input, so the ratio of the two is the
 * layer's backward cost in forwards.
 *
 * <pre>java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.LayerProbe [--samediff] [--tape] [reps] [LAYER,...]</pre>
 */
public final class LayerProbe {
    static {
        GlideBackend.init();
    }

    private LayerProbe() {
    }

    public static void main(String[] args) {
        List<String> a = new ArrayList<>(List.of(args));
        boolean sameDiff = a.remove("--samediff");
        boolean tape = a.remove("--tape");
        int reps = a.size() > 0 ? Integer.parseInt(a.get(0)) : 9;
        List<BaseLayerShape> cases = new ArrayList<>();
        if (a.size() > 1) {
            for (String s : a.get(1).split(",")) {
                cases.add(BaseLayerShape.valueOf(s.trim().toUpperCase(java.util.Locale.ROOT)));
            }
        } else {
            cases.addAll(List.of(BaseLayerShape.values()));
        }
        System.out.println("machine: " + MachineInfo.describe());
        for (BaseLayerShape lc : cases) {
            BaseLayerShape.Instance inst = lc.create();
            ParameterStore p = inst.randomParameters(1);
            Map<String, INDArray> inputs = inst.randomInputs(2);
            List<INDArray> in = new ArrayList<>(inputs.values());
            EagerOps eager = new EagerOps(p::get, false);
            EagerOps fast = new EagerOps(p::get, true);
            double gflop = BenchSummary.forwardFlops(inst) / 1e9;
            List<KernelProbe.Variant> variants = new ArrayList<>(List.of(
                    new KernelProbe.Variant("eager", () -> eager.run(() -> inst.forward.apply(eager, in))),
                    new KernelProbe.Variant("eager+sgemm", () -> fast.run(() -> inst.forward.apply(fast, in)))));
            if (sameDiff) {
                // inference graph: parameters as constants, inputs as placeholders
                SameDiff fwd = SameDiff.create();
                SameDiffOps fo = new SameDiffOps(fwd, p, false, false);
                List<SDVariable> ph = new ArrayList<>();
                inputs.forEach((k, v) -> ph.add(fo.placeholder(k, v.dataType(), v.shape())));
                String out = inst.forward.apply(fo, ph).name();
                // training graph: parameters and inputs as variables, loss = mean of the output
                SameDiff train = SameDiff.create();
                SameDiffOps to = new SameDiffOps(train, p, true, true);
                List<SDVariable> vin = new ArrayList<>();
                inputs.forEach((k, v) -> vin.add(train.var(k, v.dup())));
                train.setLossVariables(inst.forward.apply(to, vin).mean());
                List<String> vars = new ArrayList<>(inputs.keySet());
                vars.addAll(p.keys());
                Quiet.run(() -> train.calculateGradients(Map.of(), vars));
                variants.add(new KernelProbe.Variant("SameDiff forward", () -> fwd.outputSingle(inputs, out)));
                variants.add(new KernelProbe.Variant("SameDiff forward+backward (time; GFLOP/s of fwd only)",
                        () -> train.calculateGradients(Map.of(), vars)));
            }
            if (tape) {
                Gradients grads = Gradients.zerosLike(p, k -> true);
                variants.add(new KernelProbe.Variant("tape forward", () -> {
                    TapeOps ops = new TapeOps(p, grads);
                    tapeForward(ops, inst, in);
                    ops.clear();
                }));
                variants.add(new KernelProbe.Variant("tape forward+backward (time; GFLOP/s of fwd only)", () -> {
                    TapeOps ops = new TapeOps(p, grads);
                    ops.backward(tapeForward(ops, inst, in));
                    grads.zero();
                }));
            }
            KernelProbe.compare(lc.description(), gflop * 1e9, reps, variants);
        }
    }

    /** The layer on the tape, inputs needing gradients, reduced to the mean of its output. */
    private static Tensor tapeForward(TapeOps ops, BaseLayerShape.Instance inst, List<INDArray> in) {
        List<Tensor> x = new ArrayList<>();
        for (INDArray v : in) {
            x.add(ops.input(v, v.dataType().isFPType()));
        }
        Tensor out = inst.forward.apply(ops, x);
        int[] axes = new int[ops.shape(out).length];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i;
        }
        return ops.mean(out, false, axes);
    }
}
