package io.github.glidejava.nn.autodiff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.nn.params.ParamSpec;

/**
 * Central-difference gradient check of {@link TapeOps} in float64: parameters, inputs and every intermediate are
 * DOUBLE, ND4J's kernels only. The scalar is {@code sum(out * R)} for a fixed random R (so errors cannot cancel
 * out), i.e. backward is seeded with R. Each checked element's analytic gradient must match
 * {@code (L(w + eps) - L(w - eps)) / 2 eps} to a relative {@link #MAX_REL_ERROR}, unless both are zero to within
 * the differences' round-off.
 */
final class TapeGradCheck {
    static final double EPS = 1e-6;
    static final double MAX_REL_ERROR = 1e-6;
    static final double MIN_ABS_ERROR = 1e-8;
    static final int MAX_PER_VARIABLE = 12;

    /** The function under test on the tape, given its inputs in order. */
    interface Fn {
        Tensor apply(TapeOps ops, List<Tensor> inputs);
    }

    /** An input of the function: its value and whether it is differentiated (indices, masks are not). */
    record Input(String name, INDArray value, boolean differentiate) {
    }

    private TapeGradCheck() {
    }

    static Input in(String name, long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return new Input(name, Nd4j.randn(DataType.DOUBLE, shape), true);
    }

    static Input in(String name, INDArray value) {
        return new Input(name, value, value.dataType().isFPType());
    }

    /** Random float64 parameters at the scale of a trained layer (weights ~ 1/sqrt(fan_in), gains ~ 1, biases ~ 0.1). */
    static Map<String, INDArray> params(List<ParamSpec> specs, long seed) {
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (ParamSpec s : specs) {
            long[] shape = s.storedShape();
            INDArray t = Nd4j.randn(DataType.DOUBLE, shape);
            if (shape.length == 1) {
                t.muli(0.1);
                if (s.key().endsWith("weight")) {
                    t.addi(1.0);
                }
            } else {
                long[] torch = s.torchShape();
                long fanIn = 1;
                for (int i = 1; i < torch.length; i++) {
                    fanIn *= torch[i];
                }
                t.muli(1.0 / Math.sqrt(Math.max(1, fanIn)));
            }
            m.put(s.key(), t);
        }
        return m;
    }

    /** Runs the check and asserts every parameter and differentiated input; returns a report. */
    static String check(String what, Map<String, INDArray> params, List<Input> inputs, Fn f) {
        return check(what, params, inputs, f, o -> o);
    }

    static String check(String what, Map<String, INDArray> params, List<Input> inputs, Fn f,
            java.util.function.UnaryOperator<TapeOps> configure) {
        // analytic: one backward seeded with R
        Gradients grads = Gradients.zerosLike(params, k -> true);
        TapeOps ops = configure.apply(new TapeOps(params::get, grads, false).precision(DataType.DOUBLE));
        List<Tensor> in = new ArrayList<>();
        for (Input i : inputs) {
            in.add(ops.input(i.value(), i.differentiate()));
        }
        Tensor out = f.apply(ops, in);
        assertEquals(DataType.DOUBLE, out.value().dataType(), what + ": computed in float64");
        Nd4j.getRandom().setSeed(99);
        INDArray r = Nd4j.randn(DataType.DOUBLE, out.shape());
        ops.backward(out, r);
        assertEquals(0, ops.tapeSize(), what + ": backward clears the tape");

        Map<String, INDArray> analytic = new LinkedHashMap<>();
        Map<String, INDArray> variables = new LinkedHashMap<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i).differentiate()) {
                INDArray g = in.get(i).grad();
                assertNotNull(g, what + ": no gradient reached input " + inputs.get(i).name());
                analytic.put(inputs.get(i).name(), g.dup());
                variables.put(inputs.get(i).name(), inputs.get(i).value());
            }
        }
        for (String k : params.keySet()) {
            analytic.put(k, grads.get(k));
            variables.put(k, params.get(k));
        }
        double loss = loss(params, inputs, f, r, configure);
        double floor = Math.max(MIN_ABS_ERROR, 16 * Math.ulp(Math.abs(loss)) / EPS);
        Random rnd = new Random(7);
        StringBuilder report = new StringBuilder(what);
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : variables.entrySet()) {
            INDArray w = e.getValue();
            INDArray a = analytic.get(e.getKey());
            long len = w.length();
            Set<Long> idx = new LinkedHashSet<>();
            if (len <= MAX_PER_VARIABLE) {
                for (long i = 0; i < len; i++) {
                    idx.add(i);
                }
            } else {
                idx.add(Nd4j.argMax(Transforms.abs(a, true).reshape(-1)).getLong(0));
                while (idx.size() < MAX_PER_VARIABLE) {
                    idx.add((long) (rnd.nextDouble() * len));
                }
            }
            double maxRel = 0;
            double maxGrad = Transforms.abs(a, true).maxNumber().doubleValue();
            for (long i : idx) {
                double orig = w.getDouble(i);
                w.putScalar(i, orig + EPS);
                double plus = loss(params, inputs, f, r, configure);
                w.putScalar(i, orig - EPS);
                double minus = loss(params, inputs, f, r, configure);
                w.putScalar(i, orig);
                double numeric = (plus - minus) / (2 * EPS);
                double an = a.getDouble(i);
                double abs = Math.abs(an - numeric);
                double rel = abs == 0 ? 0 : abs / (Math.abs(an) + Math.abs(numeric));
                if (!(rel <= MAX_REL_ERROR) && !(abs < floor)) {
                    failures.add(String.format("%s[%d]: analytic %.10g numeric %.10g", e.getKey(), i, an, numeric));
                }
                maxRel = Math.max(maxRel, rel);
            }
            report.append(String.format("%n  %-40s len %5d checked %2d maxRel %.2e max|g| %.3g", e.getKey(), len,
                    idx.size(), maxRel, maxGrad));
            assertTrue(maxGrad > 0, what + ": gradient of " + e.getKey() + " is identically zero" + report);
        }
        assertTrue(failures.isEmpty(), what + ": " + failures + report);
        return report.toString();
    }

    /** {@code sum(f(...) * r)} on a fresh tape (no gradients), freed afterwards. */
    static double loss(Map<String, INDArray> params, List<Input> inputs, Fn f, INDArray r,
            java.util.function.UnaryOperator<TapeOps> configure) {
        TapeOps ops = configure.apply(new TapeOps(params::get, Gradients.zerosLike(params, k -> false), false)
                .precision(DataType.DOUBLE));
        List<Tensor> in = new ArrayList<>();
        for (Input i : inputs) {
            in.add(ops.input(i.value(), false));
        }
        double v = f.apply(ops, in).value().mul(r).sumNumber().doubleValue();
        ops.clear();
        return v;
    }
}
