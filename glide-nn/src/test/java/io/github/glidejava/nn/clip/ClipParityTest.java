package io.github.glidejava.nn.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.io.StateDictMismatchException;
import io.github.glidejava.core.testing.RefFixture;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.nn.ops.Backends;
import io.github.glidejava.nn.ops.TensorFunction;

/**
 * The noised CLIP against the reference: encoders (raw features, per-block traces, embeddings) and cond_fn's
 * gradient. The model's config, weights, prompts and every shape come from the fixture files' metadata.
 */
class ClipParityTest {
    /** The fixtures' suggested tolerances: encoders / embeddings 1e-5, the cond_fn gradient 1e-4 (values up to ~10). */
    private static final double ENCODER_ATOL = 1e-5;
    private static final double GRAD_ATOL = 1e-4;

    static ClipModel model(RefFixture f) {
        ClipConfig config = config(f);
        RefFixture params = RefFixture.open(RefFixtures.require(f.cfg("clip_params_file").asText()));
        try (params) {
            return ClipModel.fromStateDicts(config, params.stateDict("param.image_encoder."), params.stateDict("param.text_encoder."));
        }
    }

    static ClipConfig config(RefFixture f) {
        try {
            return ClipConfig.load(RefFixtures.require(f.cfg("clip_config_file").asText()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static List<String> prompts(RefFixture f) {
        List<String> out = new ArrayList<>();
        f.cfg("prompts").forEach(p -> out.add(p.asText()));
        return out;
    }

    @Test
    void checkpointsLoadStrictlyAndHoldTheSameTensorsAsTheParamsFile() throws IOException {
        try (RefFixture tiny = RefFixture.open(RefFixtures.require("clip/clip_tiny.safetensors"))) {
            JsonNode md = tiny.cfg("config");
            ClipConfig config = ClipConfig.fromJson(md.toString());
            assertEquals(config, ClipConfig.load(RefFixtures.require(tiny.cfg("config_file").asText())));
            ClipModel fromPt = ClipModel.load(config, RefFixtures.require(tiny.cfg("image_enc_pt").asText()),
                    RefFixtures.require(tiny.cfg("text_enc_pt").asText()));
            StateDict image = tiny.stateDict("param.image_encoder.");
            StateDict text = tiny.stateDict("param.text_encoder.");
            assertEquals(tiny.cfg("num_parameters").get("image_encoder").asLong(), fromPt.imageParameters().numParameters());
            assertEquals(tiny.cfg("num_parameters").get("text_encoder").asLong(), fromPt.textParameters().numParameters());
            for (String k : image.keys()) {
                assertEquals(image.get(k), fromPt.imageParameters().getTorch(k), "image_encoder." + k);
            }
            for (String k : text.keys()) {
                assertEquals(text.get(k), fromPt.textParameters().getTorch(k), "text_encoder." + k);
            }
            assertEquals(tiny.get("param.logit_scale").getFloat(0), (float) Math.log(config.logitScale()), 0f, "logit_scale");

            // Strict: a missing key, an unexpected key and a wrong shape are all reported at once.
            Map<String, INDArray> broken = new LinkedHashMap<>(image.asMap());
            broken.remove("blocks.input.w_t");
            broken.put("blocks.input.pred_state", image.get("blocks.input.ln.g"));
            broken.put("blocks.output.f.w", image.get("blocks.output.f.w").reshape(-1));
            StateDictMismatchException e = assertThrows(StateDictMismatchException.class,
                    () -> ClipModel.fromStateDicts(config, StateDict.of(broken), text));
            assertEquals(List.of("blocks.input.w_t"), e.missingKeys());
            assertEquals(List.of("blocks.input.pred_state"), e.unexpectedKeys());
            assertEquals("blocks.output.f.w", e.shapeMismatches().get(0).key());
        }
    }

    @Test
    void encodersMatchTheReference() {
        try (RefFixture f = RefFixture.open(RefFixtures.require("clip/encoders.safetensors"))) {
            ClipModel clip = model(f);
            INDArray images = f.get("input.images");
            INDArray t = f.get("input.t");
            Map<String, INDArray> image = clip.imageFeaturesWithTrace(images.add(1.0).muli(127.5), t);
            Close.assertClose("image_raw", f.get("output.image_raw"), image.get("out"), ENCODER_ATOL);
            compareTraces(f, "image", image);
            Close.assertClose("image_embeddings", f.get("output.image_embeddings"), clip.imageEmbeddings(images, t), ENCODER_ATOL);

            // The prompts tokenize to the recorded tokens and lengths.
            var batch = clip.encodePrompts(prompts(f));
            assertEquals(f.get("input.tokens").castTo(DataType.LONG), batch.tokens(), "tokens of the prompts");
            assertEquals(f.get("input.text_len").castTo(DataType.LONG), batch.lengths(), "text_len of the prompts");
            Map<String, INDArray> text = clip.textFeaturesWithTrace(f.get("input.tokens"), f.get("input.text_len"));
            Close.assertClose("text_raw", f.get("output.text_raw"), text.get("out"), ENCODER_ATOL);
            compareTraces(f, "text", text);
            Close.assertClose("text_embeddings", f.get("output.text_embeddings"), clip.textEmbeddings(prompts(f)), ENCODER_ATOL);
        }
    }

    private static void compareTraces(RefFixture f, String side, Map<String, INDArray> actual) {
        String prefix = "output.trace." + side + ".";
        int n = 0;
        for (String name : f.tensors.names()) {
            if (name.startsWith(prefix)) {
                String block = name.substring(prefix.length());
                if (!actual.containsKey(block)) {
                    fail(side + " encoder produced no trace '" + block + "'; it has " + actual.keySet());
                }
                Close.assertClose(name, f.get(name), actual.get(block), ENCODER_ATOL);
                n++;
            }
        }
        assertTrue(n > 0, "no " + prefix + "* traces in " + f.name());
    }

    @Test
    void encodersAgreeOnTheSameDiffBackEnd() {
        try (RefFixture f = RefFixture.open(RefFixtures.require("clip/encoders.safetensors"))) {
            ClipModel clip = model(f);
            INDArray textLen = f.get("input.text_len");
            TensorFunction image = new TensorFunction() {
                @Override
                public <T> Map<String, T> apply(io.github.glidejava.nn.ops.TensorOps<T> ops, Map<String, T> in) {
                    return Map.of("out", clip.imageEncoder().forward(ops, in.get("images"), in.get("t"), (k, v) -> { }));
                }
            };
            TensorFunction text = new TensorFunction() {
                @Override
                public <T> Map<String, T> apply(io.github.glidejava.nn.ops.TensorOps<T> ops, Map<String, T> in) {
                    return Map.of("out", clip.textEncoder().forward(ops, in.get("tokens"), textLen, (k, v) -> { }));
                }
            };
            Map<String, INDArray> imageIn = Map.of("images", f.get("input.images").add(1.0).muli(127.5), "t", f.get("input.t"));
            Map<String, INDArray> textIn = Map.of("tokens", f.get("input.tokens"));
            Close.assertClose("image encoder, SameDiff vs eager", Backends.eager(clip.imageParameters(), imageIn, image).get("out"),
                    Backends.sameDiff(clip.imageParameters(), imageIn, image).get("out"), ENCODER_ATOL);
            Close.assertClose("text encoder, SameDiff vs eager", Backends.eager(clip.textParameters(), textIn, text).get("out"),
                    Backends.sameDiff(clip.textParameters(), textIn, text).get("out"), ENCODER_ATOL);
        }
    }

    @Test
    void condFnGradientMatchesTheReference() {
        try (RefFixture f = RefFixture.open(RefFixtures.require("clip/cond_fn.safetensors"))) {
            ClipModel clip = model(f);
            var batch = clip.encodePrompts(prompts(f));
            assertEquals(f.get("input.clip_tokens").castTo(DataType.LONG), batch.tokens(), "clip_tokens of the prompts");
            assertEquals(f.get("input.clip_text_len").castTo(DataType.LONG), batch.lengths(), "clip_text_len of the prompts");
            INDArray zText = clip.textEmbeddings(prompts(f));
            Close.assertClose("text_embeddings", f.get("output.text_embeddings"), zText, ENCODER_ATOL);
            INDArray x = f.get("input.x");
            INDArray t = f.get("input.t");
            Close.assertClose("image_embeddings", f.get("output.image_embeddings"), clip.imageEmbeddings(x, t), ENCODER_ATOL);
            assertEquals(f.get("output.exp_logit_scale").getFloat(0), clip.expLogitScale(), 0f, "exp(logit_scale)");
            float loss = f.get("output.loss").getFloat(0);
            assertEquals(loss, clip.score(zText, x, t), 1e-5 * Math.max(1, Math.abs(loss)), "loss");
            double scale = f.cfg("grad_scale").asDouble();
            INDArray grad = clip.condGradient(zText, x, t, scale);
            Close.assertClose("grad", f.get("output.grad"), grad, GRAD_ATOL);
            assertArrayEquals(x.shape(), grad.shape());
            // Twice in a row: the tape keeps nothing between calls.
            Close.assertClose("grad (second call)", grad, clip.condGradient(zText, x, t, scale), 0);
        }
    }

    @Test
    void badInputsAreNamed() {
        ClipConfig config = ClipConfig.builder().imageSize(8).patchSize(4).nVocab(49408).maxTextLen(6).nEmbd(4)
                .nHeadStateText(2).nHeadText(2).nXfBlocksText(1).nHeadStateImage(2).nHeadImage(2).nXfBlocksImage(1)
                .nTimesteps(10).build();
        ClipModel clip = ClipModel.initialise(config, 1);
        INDArray x = org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 1, 3, 8, 8);
        INDArray z = org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 1, 4);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> clip.condGradient(z, x, org.nd4j.linalg.factory.Nd4j.createFromArray(10L), 1.0))
                .getMessage().contains("0..9"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> clip.condGradient(org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 2, 4), x,
                        org.nd4j.linalg.factory.Nd4j.createFromArray(3L), 1.0)).getMessage().contains("per image row"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> clip.imageEmbeddings(org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 1, 3, 4, 4),
                        org.nd4j.linalg.factory.Nd4j.createFromArray(3L))).getMessage().contains("[N, 3, 8, 8]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClipConfig.fromJson("{\"n_heads\": 3}"))
                .getMessage().contains("unknown CLIP config key 'n_heads'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClipConfig.builder().imageSize(10).build())
                .getMessage().contains("multiple of patch_size"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClipModel.initialise(config.toBuilder().nVocab(300).build(), 1)
                .textEmbeddings(List.of("a cat"))).getMessage().contains("CLIP token ids must be in 0..299"));
        // Every weight read: the gradient is finite and non-zero for random weights.
        INDArray g = clip.condGradient(clip.textEmbeddings(List.of("a cat")), x.add(0.3), org.nd4j.linalg.factory.Nd4j.createFromArray(5L), 2.0);
        assertTrue(g.norm2Number().doubleValue() > 0, "zero gradient");
    }

    /** Element-wise comparison with a readable failure. */
    static final class Close {
        static void assertClose(String what, INDArray expected, INDArray actual, double atol) {
            assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
            INDArray e = expected.castTo(DataType.DOUBLE);
            INDArray a = actual.castTo(DataType.DOUBLE);
            double max = e.sub(a).amaxNumber().doubleValue();
            System.out.printf("%s: max |diff| %.3g%n", what, max);
            if (!(max <= atol)) {
                fail(String.format("%s: max |diff| %.3e > atol %.1e (max |expected| %.3g)", what, max, atol,
                        e.amaxNumber().doubleValue()));
            }
        }
    }
}
