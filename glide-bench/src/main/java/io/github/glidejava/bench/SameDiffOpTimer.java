package io.github.glidejava.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.SameDiffOps;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * Where a SameDiff forward+backward spends its time, by op type (a listener timing each op's execution; ops run
 * synchronously on the CPU). Runs the training graph of {@link BaseLayerShape}s as in {@link LayerBenchmark}.
 *
 * <pre>java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.SameDiffOpTimer [LAYER,...]</pre>
 */
public final class SameDiffOpTimer extends BaseListener {
    private final Map<String, long[]> byOp = new LinkedHashMap<>();
    private long start;

    @Override
    public boolean isActive(Operation operation) {
        return true;
    }

    @Override
    public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext opContext) {
        start = System.nanoTime();
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext,
            INDArray[] outputs) {
        long[] s = byOp.computeIfAbsent(op.getOp().opName(), k -> new long[2]);
        s[0] += System.nanoTime() - start;
        s[1]++;
    }

    public static void main(String[] args) {
        GlideBackend.init();
        List<BaseLayerShape> cases = new ArrayList<>();
        for (String s : (args.length > 0 ? args[0] : "RES32,ATTN32,XF").split(",")) {
            cases.add(BaseLayerShape.valueOf(s.trim().toUpperCase(Locale.ROOT)));
        }
        for (BaseLayerShape lc : cases) {
            BaseLayerShape.Instance inst = lc.create();
            ParameterStore p = inst.randomParameters(1);
            Map<String, INDArray> inputs = inst.randomInputs(2);
            SameDiff sd = SameDiff.create();
            SameDiffOps ops = new SameDiffOps(sd, p, true, true);
            List<SDVariable> in = new ArrayList<>();
            inputs.forEach((k, v) -> in.add(sd.var(k, v.dup())));
            sd.setLossVariables(inst.forward.apply(ops, in).mean());
            List<String> vars = new ArrayList<>(inputs.keySet());
            vars.addAll(p.keys());
            Quiet.run(() -> sd.calculateGradients(Map.of(), vars));
            sd.calculateGradients(Map.of(), vars);
            SameDiffOpTimer timer = new SameDiffOpTimer();
            sd.setListeners(timer);
            int reps = 3;
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                sd.calculateGradients(Map.of(), vars);
            }
            double wall = (System.nanoTime() - t0) / 1e6 / reps;
            long total = timer.byOp.values().stream().mapToLong(v -> v[0]).sum();
            System.out.printf(Locale.ROOT, "%s: forward+backward %.1f ms per call (wall), ops %.1f ms, load %.1f%n",
                    lc.description(), wall, total / 1e6 / reps, MachineInfo.loadAverage());
            List<Map.Entry<String, long[]>> es = new ArrayList<>(timer.byOp.entrySet());
            es.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
            for (Map.Entry<String, long[]> e : es.subList(0, Math.min(12, es.size()))) {
                System.out.printf(Locale.ROOT, "  %-28s %8.1f ms %5.1f%% %5d calls%n", e.getKey(),
                        e.getValue()[0] / 1e6 / reps, 100.0 * e.getValue()[0] / total, e.getValue()[1] / reps);
            }
        }
    }
}
