package io.github.glidejava.nn.unet;

import java.util.ArrayList;
import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.nn.params.ParameterStore;

/** Adapters from checkpoint readers to {@link ParameterStore.TorchTensors}. */
public final class Checkpoints {
    private Checkpoints() {
    }

    /** The tensors of {@code st} whose names start with {@code prefix}, with the prefix removed. */
    public static ParameterStore.TorchTensors tensors(SafeTensors st, String prefix) {
        List<String> keys = new ArrayList<>();
        for (String n : st.names()) {
            if (n.startsWith(prefix)) {
                keys.add(n.substring(prefix.length()));
            }
        }
        return new ParameterStore.TorchTensors() {
            @Override
            public List<String> keys() {
                return keys;
            }

            @Override
            public long[] shape(String key) {
                return st.info(prefix + key).shape();
            }

            @Override
            public INDArray getFloat(String key) {
                return st.getFloat(prefix + key);
            }

            @Override
            public String describe() {
                return st.file() + (prefix.isEmpty() ? "" : " (tensors " + prefix + "*)");
            }
        };
    }
}
