package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.TensorInfo;
import io.github.glidejava.core.io.TorchCheckpoint;

/** Names, dtypes and shapes of a checkpoint's tensors, read without loading the data. */
record TensorTable(String format, List<Tensor> tensors, Map<String, String> metadata) {

    record Tensor(String name, String dtype, long[] shape) {
        long numel() {
            return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }
    }

    /** Recognises the format by content: a zip archive is a PyTorch checkpoint, anything else must be safetensors. */
    static TensorTable read(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(4);
        }
        List<Tensor> ts = new ArrayList<>();
        if (head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            try (TorchCheckpoint tc = TorchCheckpoint.open(file)) {
                for (String n : tc.names()) {
                    TensorInfo info = tc.info(n);
                    ts.add(new Tensor(n, info.dtype().name(), info.shape()));
                }
                return new TensorTable("PyTorch zip (torch.save)", ts, Map.of());
            }
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String n : st.names()) {
                TensorInfo info = st.info(n);
                ts.add(new Tensor(n, info.dtype().name(), info.shape()));
            }
            return new TensorTable("safetensors", ts, st.metadata());
        }
    }
}
