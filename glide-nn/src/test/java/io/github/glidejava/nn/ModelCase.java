package io.github.glidejava.nn;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.JsonNode;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;
import io.github.glidejava.core.testing.RefFixture;

/** A model forward fixture: the model built from its options, weights from params_file or pt_file. */
final class ModelCase {
    final RefFixture fixture;
    final GlideModelConfig config;

    ModelCase(RefFixture f) {
        this.fixture = f;
        JsonNode options = f.config.get("options");
        if (options == null) {
            throw new IllegalStateException(f.file + ": config has no 'options'");
        }
        this.config = GlideModelConfig.fromOptions(options);
        String cls = f.config.path("model_class").asText("");
        if (!cls.isEmpty() && !cls.equals(config.modelClass())) {
            throw new IllegalStateException(f.file + ": fixture model_class " + cls + " but options build "
                    + config.modelClass());
        }
    }

    /** The checkpoint this fixture names: params_file (safetensors, "param." names) if given, else pt_file. */
    Text2ImUNet model() {
        Text2ImUNet m = Text2ImUNet.create(config);
        String paramsFile = fixture.config.path("params_file").asText("");
        String ptFile = fixture.config.path("pt_file").asText("");
        try {
            if (!paramsFile.isEmpty()) {
                m.loadStateDict(StateDict.load(RefFixtures.require(paramsFile)).subDict("param."));
            } else if (!ptFile.isEmpty()) {
                m.load(RefFixtures.require(ptFile));
            } else {
                throw new IllegalStateException(fixture.file + ": config names neither params_file nor pt_file");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    UNetInputs<INDArray> inputs() {
        var in = fixture.inputs();
        for (String k : in.keySet()) {
            if (!java.util.Set.of("x", "timesteps", "tokens", "mask", "low_res", "inpaint_image", "inpaint_mask").contains(k)) {
                throw new IllegalStateException(fixture.file + ": unknown model input '" + k + "'");
            }
        }
        return new UNetInputs<>(in.get("x"), in.get("timesteps"), in.get("tokens"), in.get("mask"),
                in.get("low_res"), in.get("inpaint_image"), in.get("inpaint_mask"));
    }
}
