package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.github.glidejava.core.io.CheckpointFormat;
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

    /**
     * Recognises the format by content ({@link CheckpointFormat#requireSupported}): safetensors or a torch.save zip;
     * a legacy torch file or anything else gets a {@link io.github.glidejava.core.io.CheckpointFormatException}
     * saying what the file is.
     */
    static TensorTable read(Path file) throws IOException {
        CheckpointFormat format = CheckpointFormat.requireSupported(file);
        List<Tensor> ts = new ArrayList<>();
        if (format == CheckpointFormat.TORCH_ZIP) {
            try (TorchCheckpoint tc = TorchCheckpoint.open(file)) {
                for (String n : tc.names()) {
                    TensorInfo info = tc.info(n);
                    ts.add(new Tensor(n, info.dtype().name(), info.shape()));
                }
                return new TensorTable(format.description(), ts, Map.of());
            }
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String n : st.names()) {
                TensorInfo info = st.info(n);
                ts.add(new Tensor(n, info.dtype().name(), info.shape()));
            }
            return new TensorTable(format.description(), ts, st.metadata());
        }
    }
}
