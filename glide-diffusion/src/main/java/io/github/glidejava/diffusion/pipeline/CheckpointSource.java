package io.github.glidejava.diffusion.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.io.CheckpointFormat;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.TensorInfo;
import io.github.glidejava.core.io.TorchCheckpoint;

/**
 * The tensor names, shapes and metadata of a checkpoint file, PyTorch {@code .pt} (zip) or safetensors, recognised by
 * content, without reading the tensor data. Names are the state-dict keys of the U-Net: a prefix common to the
 * U-Net's names (e.g. the fixture files' {@code param.}) is removed and other tensors are ignored.
 */
final class CheckpointSource implements AutoCloseable {
    private static final String CONV_IN = "input_blocks.0.0.weight";

    private final Path file;
    private final String format;
    private final SafeTensors safeTensors;
    private final TorchCheckpoint torch;
    private final String prefix;
    private final List<String> keys;

    private CheckpointSource(Path file, SafeTensors st, TorchCheckpoint tc) {
        this.file = file;
        this.safeTensors = st;
        this.torch = tc;
        this.format = (st != null ? CheckpointFormat.SAFETENSORS : CheckpointFormat.TORCH_ZIP).description();
        List<String> all = st != null ? st.names() : tc.names();
        this.prefix = all.stream().filter(n -> n.endsWith(CONV_IN)).findFirst()
                .map(n -> n.substring(0, n.length() - CONV_IN.length())).orElse("");
        List<String> ks = new ArrayList<>();
        for (String n : all) {
            if (n.startsWith(prefix)) {
                ks.add(n.substring(prefix.length()));
            }
        }
        this.keys = Collections.unmodifiableList(ks);
    }

    /**
     * Opens {@code file} by its content ({@link CheckpointFormat#requireSupported}): a legacy torch file or anything
     * that is neither safetensors nor a torch.save zip gets a {@link io.github.glidejava.core.io.CheckpointFormatException}
     * saying so.
     */
    static CheckpointSource open(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "checkpoint not found");
        }
        return switch (CheckpointFormat.requireSupported(file)) {
            case TORCH_ZIP -> new CheckpointSource(file, null, TorchCheckpoint.open(file));
            case SAFETENSORS -> new CheckpointSource(file, SafeTensors.open(file), null);
            default -> throw new IllegalStateException("requireSupported returned an unsupported format");
        };
    }

    Path file() {
        return file;
    }

    String format() {
        return format;
    }

    /** The U-Net's tensor shapes (prefix removed). */
    Map<String, long[]> shapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (String k : keys) {
            m.put(k, shape(k));
        }
        return m;
    }

    /** safetensors {@code __metadata__}; empty for .pt files. */
    Map<String, String> metadata() {
        return safeTensors != null ? safeTensors.metadata() : Map.of();
    }

    /** The prefix removed from the U-Net's names ("" for a plain state dict). */
    String prefix() {
        return prefix;
    }

    /** The U-Net tensor {@code key} (prefix removed) as a fresh float32 array; half precision decoded exactly. */
    INDArray readFloat(String key) {
        return safeTensors != null ? safeTensors.getFloat(prefix + key) : torch.getFloat(prefix + key);
    }

    long[] shape(String key) {
        TensorInfo info = safeTensors != null ? safeTensors.info(prefix + key) : torch.info(prefix + key);
        return info.shape();
    }

    @Override
    public void close() {
        if (safeTensors != null) {
            safeTensors.close();
        }
        if (torch != null) {
            torch.close();
        }
    }
}
