package io.github.glidejava.nn.training;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.ops.SameDiffOps;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * Central-difference gradient check of a layer's SameDiff graph in a chosen floating-point type. The layer's
 * parameters and its inputs all become SameDiff VARIABLEs of that type, so the analytic gradients of both come from
 * the same backward pass; the scalar loss is {@code sum(out * R)} for a fixed random {@code R}, which weighs every
 * output element differently (a plain sum would hide errors whose contributions cancel, e.g. in a normalisation).
 */
final class GradientCheck {
    /** A graph ready to check: its variables (parameters and inputs) and the scalar loss. */
    static final class Graph {
        final SameDiff sd;
        final SDVariable loss;
        final List<String> parameters;
        final List<String> inputs;

        Graph(SameDiff sd, SDVariable loss, List<String> parameters, List<String> inputs) {
            this.sd = sd;
            this.loss = loss;
            this.parameters = parameters;
            this.inputs = inputs;
        }

        List<String> variables() {
            List<String> all = new ArrayList<>(inputs);
            all.addAll(parameters);
            return all;
        }
    }

    /** The forward under test, given the back-end and the input variables in declaration order. */
    interface Forward {
        SDVariable apply(SameDiffOps ops, List<SDVariable> inputs);
    }

    /**
     * The result for one variable: the largest relative error over the checked elements, and how many elements
     * fail the bound (relative error above it while the absolute difference is above the round-off floor).
     */
    record VarResult(String name, long length, int checked, int failures, double maxRelError, double maxAbsError,
            long worstIndex, double worstAnalytic, double worstNumeric, double maxAbsGradient) {
        @Override
        public String toString() {
            return String.format("%-42s len %6d checked %3d failing %d maxRel %.2e maxAbs %.2e (at %d: analytic %.9g"
                    + " numeric %.9g) max|g| %.3g", name, length, checked, failures, maxRelError, maxAbsError,
                    worstIndex, worstAnalytic, worstNumeric, maxAbsGradient);
        }
    }

    private GradientCheck() {
    }

    /**
     * Builds the graph of {@code forward} for {@code layer} with random parameters (fan-in scaled weights, norm gains
     * near 1) and random standard-normal inputs of the given shapes, all of type {@code type}.
     */
    static Graph build(Layer layer, DataType type, Map<String, long[]> inputShapes, long seed, Forward forward) {
        SameDiff sd = SameDiff.create();
        SameDiffOps ops = new SameDiffOps(sd, null, true, false);
        Nd4j.getRandom().setSeed(seed);
        List<String> params = new ArrayList<>();
        for (ParamSpec s : layer.params()) {
            sd.var(s.key(), randomParameter(s, type));
            params.add(s.key());
        }
        List<SDVariable> in = new ArrayList<>();
        for (Map.Entry<String, long[]> e : inputShapes.entrySet()) {
            in.add(sd.var(e.getKey(), Nd4j.randn(type, e.getValue())));
        }
        SDVariable out = forward.apply(ops, in);
        long[] outShape = ops.shape(out);
        SDVariable weights = sd.constant("loss_weights", Nd4j.randn(type, outShape));
        SDVariable loss = out.mul(weights).sum().rename("loss");
        sd.setLossVariables(loss);
        return new Graph(sd, loss, params, new ArrayList<>(inputShapes.keySet()));
    }

    /** Roughly the scale of a trained layer: weights ~ 1/sqrt(fan_in), norm gains 1 +- 0.1, biases +- 0.1. */
    static INDArray randomParameter(ParamSpec s, DataType type) {
        long[] shape = s.storedShape();
        INDArray t = Nd4j.randn(type, shape);
        if (shape.length == 1) {
            t.muli(0.1);
            boolean gain = s.key().endsWith("weight");
            if (gain) {
                t.addi(1.0);
            }
            return t;
        }
        long[] torch = s.torchShape();
        long fanIn = 1;
        for (int i = 1; i < torch.length; i++) {
            fanIn *= torch[i];
        }
        return t.muli(1.0 / Math.sqrt(fanIn));
    }

    /**
     * Compares the analytic gradient of every variable of {@code g} with central differences
     * {@code (L(w + eps) - L(w - eps)) / 2 eps}, on all elements of small variables and on {@code maxPerVariable}
     * random elements (always including the largest analytic gradient) of larger ones.
     *
     * <p>Relative error is {@code |a - n| / (|a| + |n|)}; an element fails when it exceeds {@code maxRelError},
     * except that element pairs whose absolute difference is below
     * {@code minAbsError}, or below 16 ulps of the loss divided by {@code eps}, count as agreeing (both gradients
     * vanish to within the round-off of the differences).
     */
    static List<VarResult> check(Graph g, double eps, double maxRelError, int maxPerVariable, double minAbsError,
            long seed) {
        List<String> vars = g.variables();
        Map<String, INDArray> analytic = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : g.sd.calculateGradients(Map.of(), vars).entrySet()) {
            analytic.put(e.getKey(), e.getValue().dup());
        }
        // the differences' round-off: a few ulps of the loss divided by the step
        double lossUlps = 16 * Math.ulp(Math.abs(lossValue(g))) / eps;
        double floor = Math.max(minAbsError, lossUlps);
        Random rnd = new Random(seed);
        List<VarResult> results = new ArrayList<>();
        for (String name : vars) {
            INDArray grad = analytic.get(name);
            if (grad == null) {
                throw new AssertionError("SameDiff returned no gradient for " + name + " (got " + analytic.keySet() + ")");
            }
            INDArray w = g.sd.getVariable(name).getArr();
            if (!w.isR() || w.ordering() != 'c') {
                throw new AssertionError(name + " must be a C-order floating-point array");
            }
            long len = w.length();
            Set<Long> idx = new LinkedHashSet<>();
            if (len <= maxPerVariable) {
                for (long i = 0; i < len; i++) {
                    idx.add(i);
                }
            } else {
                idx.add(Nd4j.argMax(Transforms.abs(grad, true).reshape(-1)).getLong(0));
                while (idx.size() < maxPerVariable) {
                    idx.add((long) (rnd.nextDouble() * len));
                }
            }
            double maxRel = 0, maxAbs = 0, worstA = 0, worstN = 0;
            long worst = -1;
            int failures = 0;
            for (long i : idx) {
                double orig = w.getDouble(i);
                w.putScalar(i, orig + eps);
                double plus = lossValue(g);
                w.putScalar(i, orig - eps);
                double minus = lossValue(g);
                w.putScalar(i, orig);
                double numeric = (plus - minus) / (2 * eps);
                double a = grad.getDouble(i);
                double abs = Math.abs(a - numeric);
                double rel = abs == 0 ? 0.0 : abs / (Math.abs(a) + Math.abs(numeric));
                if (Double.isNaN(rel)) {
                    rel = Double.POSITIVE_INFINITY;
                }
                if (!(rel <= maxRelError) && !(abs < floor)) {
                    failures++;
                }
                maxAbs = Math.max(maxAbs, abs);
                if (worst < 0 || rel > maxRel) {
                    maxRel = rel;
                    worst = i;
                    worstA = a;
                    worstN = numeric;
                }
            }
            double maxGrad = Transforms.abs(grad, true).maxNumber().doubleValue();
            results.add(new VarResult(name, len, idx.size(), failures, maxRel, maxAbs, worst, worstA, worstN, maxGrad));
        }
        return results;
    }

    static double lossValue(Graph g) {
        return g.sd.output(Map.of(), g.loss.name()).get(g.loss.name()).getDouble(0);
    }
}
