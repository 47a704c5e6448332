package io.github.glidejava.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.SameDiffOps;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * GLIDE's layers at the base model's real shapes ({@link BaseLayerShape}, batch 2): forward on the eager back-end (as
 * it is, and with oneDNN sgemm products: oneDNN kernels, {@link EagerOps#usesOneDnnKernels()}),
 * forward of a SameDiff inference graph (parameters as constants, inputs as placeholders), and forward+backward of
 * a SameDiff training graph (parameters and inputs as variables, so every gradient a layer inside the network needs is
 * computed; loss = mean of the output). Sample mode: JMH reports the median (p0.50) per call.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 4)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "-XX:+UseG1GC"})
public class LayerBenchmark {
    static {
        GlideBackend.init();
    }

    /** What every state holds: the layer, its random parameters and inputs. */
    @State(Scope.Benchmark)
    public abstract static class Base {
        @Param
        public BaseLayerShape layer;

        BaseLayerShape.Instance inst;
        ParameterStore params;
        Map<String, INDArray> inputs;

        void create() {
            inst = layer.create();
            params = inst.randomParameters(1);
            inputs = inst.randomInputs(2);
        }
    }

    public static class Eager extends Base {
        EagerOps ops;
        List<INDArray> in;

        @Setup(Level.Trial)
        public void setup() {
            create();
            ops = new EagerOps(params::get, false);
            in = new ArrayList<>(inputs.values());
        }
    }

    public static class EagerSgemm extends Base {
        EagerOps ops;
        List<INDArray> in;

        @Setup(Level.Trial)
        public void setup() {
            create();
            ops = new EagerOps(params::get, true);
            in = new ArrayList<>(inputs.values());
        }
    }

    public static class SameDiffForward extends Base {
        SameDiff sd;
        String out;

        @Setup(Level.Trial)
        public void setup() {
            create();
            sd = SameDiff.create();
            SameDiffOps ops = new SameDiffOps(sd, params, false, false);
            List<SDVariable> ph = new ArrayList<>();
            inputs.forEach((k, v) -> ph.add(ops.placeholder(k, v.dataType(), v.shape())));
            out = inst.forward.apply(ops, ph).name();
        }
    }

    public static class SameDiffTrain extends Base {
        SameDiff sd;
        List<String> variables;

        @Setup(Level.Trial)
        public void setup() {
            create();
            sd = SameDiff.create();
            SameDiffOps ops = new SameDiffOps(sd, params, true, true);
            List<SDVariable> in = new ArrayList<>();
            inputs.forEach((k, v) -> in.add(sd.var(k, v)));
            SDVariable loss = inst.forward.apply(ops, in).mean();
            sd.setLossVariables(loss);
            variables = new ArrayList<>(inputs.keySet());
            variables.addAll(params.keys());
            // builds the gradient function once, without its per-op console lines
            Quiet.run(() -> sd.calculateGradients(Map.of(), variables));
        }
    }

    @Benchmark
    public INDArray eagerForward(Eager s) {
        return s.ops.run(() -> s.inst.forward.apply(s.ops, s.in));
    }

    /** The eager back-end with oneDNN's kernels ({@link EagerOps#usesOneDnnKernels()}). */
    @Benchmark
    public INDArray eagerSgemmForward(EagerSgemm s) {
        return s.ops.run(() -> s.inst.forward.apply(s.ops, s.in));
    }

    @Benchmark
    public INDArray sameDiffForward(SameDiffForward s) {
        return s.sd.outputSingle(s.inputs, s.out);
    }

    @Benchmark
    public Map<String, INDArray> sameDiffForwardBackward(SameDiffTrain s) {
        return s.sd.calculateGradients(Map.of(), s.variables);
    }
}
