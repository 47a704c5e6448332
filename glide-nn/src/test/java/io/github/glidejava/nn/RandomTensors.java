package io.github.glidejava.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.params.ParameterStore;

/** Seeded random parameters in PyTorch layout (no zero outputs, unlike a fresh model). */
final class RandomTensors {
    private RandomTensors() {
    }

    static ParameterStore store(List<ParamSpec> specs, long seed) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        Nd4j.getRandom().setSeed(seed);
        for (ParamSpec s : specs) {
            long[] shape = s.torchShape();
            INDArray t = Nd4j.randn(DataType.FLOAT, shape);
            boolean norm = s.key().contains("norm") || s.key().contains("ln_") || s.key().contains("in_layers.0")
                    || s.key().contains("out_layers.0") || s.key().equals("out.0.weight") || s.key().startsWith("out.0");
            if (shape.length == 1) {
                t.muli(0.1);
                if (norm && s.key().endsWith("weight")) {
                    t.addi(1.0);
                }
            } else if (shape.length >= 2 && !s.key().contains("embedding")) {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                t.muli(1.0 / Math.sqrt(fanIn));
            } else {
                t.muli(0.5);
            }
            m.put(s.key(), t);
        }
        return ParameterStore.fromStateDict(specs, StateDict.of(m));
    }

    static INDArray randn(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, shape);
    }
}
