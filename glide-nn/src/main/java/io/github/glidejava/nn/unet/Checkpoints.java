package io.github.glidejava.nn.unet;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.io.DType;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.StateDict;

/** Checkpoint loading helpers. */
public final class Checkpoints {
    private Checkpoints() {
    }

    /**
     * {@link StateDict#load(Path)}, except that a file whose 9th byte opens a JSON header is read as safetensors
     * first: a safetensors header length whose low bytes happen to be {@code 0x80 0x02..0x05} looks like a legacy
     * pickle to content sniffing.
     */
    public static StateDict load(Path file) throws IOException {
        if (looksLikeSafetensors(file)) {
            Map<String, INDArray> m = new LinkedHashMap<>();
            try (SafeTensors st = SafeTensors.open(file)) {
                for (String n : st.names()) {
                    DType t = st.info(n).dtype();
                    m.put(n, t == DType.F16 || t == DType.BF16 ? st.getFloat(n) : st.get(n));
                }
            }
            return StateDict.of(m);
        }
        return StateDict.load(file);
    }

    static boolean looksLikeSafetensors(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(9);
            return head.length == 9 && head[8] == '{';
        }
    }
}
