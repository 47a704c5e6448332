package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.TensorInfo;

/** Names, dtypes and shapes of a checkpoint's tensors, read without loading the data. */
record TensorTable(String format, List<Tensor> tensors, Map<String, String> metadata) {

    record Tensor(String name, String dtype, long[] shape) {
        long numel() {
            return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }
    }

    static TensorTable read(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            try (SafeTensors st = SafeTensors.open(file)) {
                List<Tensor> ts = new ArrayList<>();
                for (String n : st.names()) {
                    TensorInfo info = st.info(n);
                    ts.add(new Tensor(n, info.dtype().name(), info.shape()));
                }
                return new TensorTable("safetensors", ts, st.metadata());
            }
        }
        throw new GlideCli.UserException("cannot read " + file + ": expected a .safetensors file");
    }
}
