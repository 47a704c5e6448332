package io.github.glidejava.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.bench.kernels.FastEagerOps;
import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * The eager back-end with and without the sgemm kernels on each {@link LayerCase}, interleaved call by call (JMH runs
 * one benchmark after another, so on a shared machine a load change between them shows up as a difference).
 *
 * <pre>java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.LayerProbe [reps] [LAYER,...]</pre>
 */
public final class LayerProbe {
    static {
        GlideBackend.init();
    }

    private LayerProbe() {
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        List<LayerCase> cases = new ArrayList<>();
        if (args.length > 1) {
            for (String s : args[1].split(",")) {
                cases.add(LayerCase.valueOf(s.trim().toUpperCase(java.util.Locale.ROOT)));
            }
        } else {
            cases.addAll(List.of(LayerCase.values()));
        }
        System.out.println("machine: " + MachineInfo.describe());
        for (LayerCase lc : cases) {
            LayerCase.Instance inst = lc.create();
            ParameterStore p = inst.randomParameters(1);
            Map<String, INDArray> inputs = inst.randomInputs(2);
            List<INDArray> in = new ArrayList<>(inputs.values());
            EagerOps eager = new EagerOps(p::get);
            FastEagerOps fast = new FastEagerOps(eager);
            double gflop = BenchSummary.forwardFlops(inst) / 1e9;
            KernelProbe.compare(lc.description(), gflop * 1e9, reps, List.of(
                    new KernelProbe.Variant("eager", () -> eager.run(() -> inst.forward.apply(eager, in))),
                    new KernelProbe.Variant("eager+sgemm", () -> eager.run(() -> inst.forward.apply(fast, in)))));
        }
    }
}
