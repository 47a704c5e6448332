package io.github.glidejava.diffusion.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import org.junit.jupiter.api.Assumptions;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The reference fixtures' tiny GLIDE models, found through the forward fixtures' metadata
 * ({@code models/*_forward.safetensors}: {@code config.model_class}, {@code config.options}, {@code config.pt_file}),
 * loaded from their real PyTorch {@code .pt} files with the recorded configuration; loaded once per JVM.
 */
public final class TinyModels {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, GlideModel> LOADED = new ConcurrentHashMap<>();
    private static volatile Map<String, Entry> index;
    private static volatile BpeTokenizer tokenizer;

    /** A fixture model: its PyTorch file and the create_model options recorded with it. */
    public record Entry(String modelClass, Path ptFile, GlideModelConfig config) {
    }

    private TinyModels() {
    }

    /** model_class -> the first fixture (by file name) of that class that has a float32 .pt file. */
    public static synchronized Map<String, Entry> index() {
        if (index == null) {
            Map<String, Entry> m = new LinkedHashMap<>();
            Path dir = RefFixtures.requireDir();
            for (Path f : RefFixtures.list("models", "_forward.safetensors")) {
                try (SafeTensors st = SafeTensors.open(f)) {
                    JsonNode c = JSON.readTree(st.metadata().get("config"));
                    if (c.get("pt_file") == null || c.has("f16_keys")) {
                        continue; // the fp16 variant holds the same weights as its float32 twin
                    }
                    m.putIfAbsent(c.get("model_class").asText(), new Entry(c.get("model_class").asText(),
                            dir.resolve(c.get("pt_file").asText()), GlideModelConfig.fromOptions(c.get("options"))));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            index = m;
        }
        return index;
    }

    /** The fixture of a model class (e.g. "Text2ImUNet"); skips (fails under CI) when the set has none. */
    public static Entry entry(String modelClass) {
        Entry e = index().get(modelClass);
        if (e == null) {
            String msg = "no " + modelClass + " fixture in " + RefFixtures.dir() + "/models";
            if (RefFixtures.underCi()) {
                throw new AssertionError(msg);
            }
            Assumptions.abort(msg);
        }
        return e;
    }

    /** The model of that class, loaded from its .pt with its recorded config (cached). */
    public static GlideModel model(String modelClass) {
        Entry e = entry(modelClass);
        return LOADED.computeIfAbsent(modelClass, k -> {
            try {
                return GlideModel.load(e.ptFile(), e.config());
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        });
    }

    /**
     * A model of {@code config} whose every parameter is re-filled with seeded noise the way the reference fixtures'
     * weights were made (glide zero-initialises some output convolutions, which would make the
     * output trivial): norm weights (rank 1 {@code weight}) 1 + 0.1 N, biases 0.1 N, embeddings 0.5 N, conv/linear
     * weights N / sqrt(fan_in). No parameter element is zero.
     */
    public static GlideModel randomModel(GlideModelConfig config, long seed, String name) {
        Text2ImUNet unet = Text2ImUNet.create(config);
        Random rng = new Random(seed);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        for (ParamSpec spec : unet.parameterSpecs()) {
            long[] shape = spec.torchShape();
            String key = spec.key();
            long numel = 1;
            for (long d : shape) {
                numel *= d;
            }
            double scale;
            double offset = 0;
            if (key.endsWith("embedding") || key.endsWith("embedding.weight")) {
                scale = 0.5;
            } else if (key.endsWith("bias")) {
                scale = 0.1;
            } else if (shape.length == 1) {
                scale = 0.1;
                offset = 1;
            } else {
                scale = 1 / Math.sqrt((double) numel / shape[0]);
            }
            float[] v = new float[Math.toIntExact(numel)];
            for (int i = 0; i < v.length; i++) {
                float x;
                do {
                    x = (float) (offset + scale * rng.nextGaussian());
                } while (x == 0f);
                v[i] = x;
            }
            weights.put(key, Nd4j.create(v, shape, 'c'));
        }
        unet.loadStateDict(StateDict.of(weights));
        return GlideModel.of(unet, name);
    }

    public static synchronized BpeTokenizer tokenizer() {
        if (tokenizer == null) {
            try {
                tokenizer = BpeTokenizer.loadFromDirectory(RefFixtures.require("tokenizer/encoder.json.gz").getParent());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tokenizer;
    }
}
