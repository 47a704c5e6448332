package io.github.glidejava.nn.unet;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.TorchCheckpoint;
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

    /** The tensors of a PyTorch {@code torch.save(state_dict)} zip archive. */
    public static ParameterStore.TorchTensors tensors(TorchCheckpoint ckpt) {
        List<String> keys = List.copyOf(ckpt.names());
        return new ParameterStore.TorchTensors() {
            @Override
            public List<String> keys() {
                return keys;
            }

            @Override
            public long[] shape(String key) {
                return ckpt.info(key).shape();
            }

            @Override
            public INDArray getFloat(String key) {
                return ckpt.getFloat(key);
            }

            @Override
            public String describe() {
                return ckpt.file().toString();
            }
        };
    }

    /** True when {@code file} is a zip archive (PyTorch's .pt format) rather than safetensors. */
    public static boolean isTorchZip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
        }
    }

    /** Opens {@code file} (safetensors or a torch .pt zip) and applies {@code use} to its tensors. */
    public static <R> R withTensors(Path file, Function<ParameterStore.TorchTensors, R> use) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, "checkpoint file not found");
        }
        if (isTorchZip(file)) {
            try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
                return use.apply(tensors(ckpt));
            }
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            return use.apply(tensors(st, ""));
        }
    }
}
