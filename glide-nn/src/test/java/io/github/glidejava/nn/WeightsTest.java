package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.io.StateDictMismatchException;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.core.testing.RefFixture;

/** Parameter names, strict loading from both checkpoint formats, layout conversion and saving. */
class WeightsTest {
    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    /** Every model checkpoint fixture: our expected keys, order and shapes are exactly the state dict's. */
    @TestFactory
    List<DynamicNode> expectedParametersMatchEveryCheckpointFixture() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path file : RefFixtures.list("models", ".safetensors")) {
            if (file.getFileName().toString().endsWith("_forward.safetensors")) {
                continue;
            }
            nodes.add(DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                RefFixture f = RefFixture.open(file);
                Text2ImUNet m = Text2ImUNet.create(GlideModelConfig.fromOptions(f.config.get("options")));
                StateDict t = f.stateDict("param.");
                List<String> expected = new ArrayList<>(m.expectedShapes().keySet());
                assertEquals(new ArrayList<>(t.keys()), expected, "state_dict keys and order");
                long n = 0;
                for (var e : m.expectedShapes().entrySet()) {
                    assertArrayEquals(t.shape(e.getKey()), e.getValue(), e.getKey());
                    long k = 1;
                    for (long d : e.getValue()) {
                        k *= d;
                    }
                    n += k;
                }
                if (f.config.has("num_parameters")) {
                    assertEquals(f.config.get("num_parameters").asLong(), n, "number of parameters");
                }
                if (f.config.has("model_class")) {
                    assertEquals(f.config.get("model_class").asText(), m.config().modelClass());
                }
            }));
        }
        return nodes;
    }

    /** The .pt twin of each safetensors checkpoint loads to identical parameters. */
    @TestFactory
    List<DynamicNode> torchAndSafetensorsCheckpointsLoadIdentically() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path file : RefFixtures.list("models", "_forward.safetensors")) {
            RefFixture f = RefFixture.open(file);
            String params = f.config.path("params_file").asText("");
            String pt = f.config.path("pt_file").asText("");
            if (params.isEmpty() || pt.isEmpty()) {
                continue;
            }
            nodes.add(DynamicTest.dynamicTest(pt + " = " + params, () -> {
                ModelCase mc = new ModelCase(f);
                Text2ImUNet fromSafetensors = mc.model();
                Text2ImUNet fromPt = Text2ImUNet.create(mc.config).load(RefFixtures.require(pt));
                for (String k : fromPt.parameters().keys()) {
                    assertEquals(fromSafetensors.parameters().get(k), fromPt.parameters().get(k), k);
                }
            }));
        }
        return nodes;
    }

    @Test
    void strictLoadingReportsEveryMissingUnexpectedAndMisShapedKey() {
        Text2ImUNet m = Text2ImUNet.create(tiny());
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        for (ParamSpec s : m.parameterSpecs()) {
            tensors.put(s.key(), Nd4j.zeros(DataType.FLOAT, s.torchShape()));
        }
        tensors.remove("time_embed.0.bias");
        tensors.remove("out.2.weight");
        tensors.put("label_emb.weight", Nd4j.zeros(DataType.FLOAT, 10, 128));
        tensors.put("input_blocks.0.0.weight", Nd4j.zeros(DataType.FLOAT, 32, 4, 3, 3));
        StateDictMismatchException e = assertThrows(StateDictMismatchException.class,
                () -> m.loadStateDict(StateDict.of(tensors)));
        assertEquals(2, e.missingKeys().size());
        assertEquals(1, e.unexpectedKeys().size());
        assertEquals(1, e.shapeMismatches().size());
        assertTrue(e.getMessage().contains("time_embed.0.bias") && e.getMessage().contains("out.2.weight")
                && e.getMessage().contains("label_emb.weight")
                && e.getMessage().contains("input_blocks.0.0.weight: checkpoint [32, 4, 3, 3], model expects [64, 3, 3, 3]"),
                e.getMessage());
    }

    @Test
    void halfPrecisionTensorsAreLoadedAsFloat32() {
        Text2ImUNet m = Text2ImUNet.create(tiny());
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        for (ParamSpec s : m.parameterSpecs()) {
            tensors.put(s.key(), Nd4j.rand(DataType.FLOAT, s.torchShape()).castTo(DataType.HALF));
        }
        m.loadStateDict(StateDict.of(tensors));
        INDArray w = m.parameters().getTorch("input_blocks.0.0.weight");
        assertEquals(DataType.FLOAT, w.dataType());
        assertEquals(tensors.get("input_blocks.0.0.weight").castTo(DataType.FLOAT), w);
    }

    @Test
    void readingTensorByTensorEqualsTheStateDictAndReleasesEveryReadCopy() {
        Text2ImUNet m = Text2ImUNet.create(tiny());
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (ParamSpec s : m.parameterSpecs()) {
            INDArray t = Nd4j.rand(DataType.FLOAT, s.torchShape());
            tensors.put(s.key(), s.key().startsWith("input_blocks.0") ? t.castTo(DataType.HALF) : t);
            shapes.put(s.key(), s.torchShape());
        }
        StateDict dict = StateDict.of(tensors);
        List<INDArray> read = new ArrayList<>();
        Text2ImUNet streamed = Text2ImUNet.create(tiny()).readParameters("test", shapes, k -> {
            INDArray copy = dict.get(k).dup();
            read.add(copy);
            return copy;
        });
        m.loadStateDict(dict);
        for (String k : m.parameters().keys()) {
            assertEquals(m.parameters().get(k), streamed.parameters().get(k), k);
        }
        assertEquals(tensors.size(), read.size());
        assertTrue(read.stream().allMatch(INDArray::wasClosed), "every tensor read is released once converted");

        Map<String, long[]> wrong = new LinkedHashMap<>(shapes);
        wrong.put("out.2.bias", new long[] {5});
        wrong.remove("out.0.weight");
        StateDictMismatchException e = assertThrows(StateDictMismatchException.class,
                () -> Text2ImUNet.create(tiny()).readParameters("file.pt", wrong, k -> {
                    throw new AssertionError("nothing is read before the shapes are checked");
                }));
        assertTrue(e.getMessage().contains("file.pt") && e.getMessage().contains("out.2.bias")
                && e.getMessage().contains("out.0.weight"), e.getMessage());
    }

    @Test
    void convolutionLayoutsConvertBothWays() {
        INDArray conv = Nd4j.linspace(DataType.FLOAT, 1, 2 * 3 * 3 * 3, 1).reshape(2, 3, 3, 3);
        INDArray yxio = ParamLayout.CONV2D.fromTorch(conv);
        assertArrayEquals(new long[] {3, 3, 3, 2}, yxio.shape());
        // [out=1, in=2, ky=0, kx=1] lands at [ky, kx, in, out]
        assertEquals(conv.getFloat(1, 2, 0, 1), yxio.getFloat(0, 1, 2, 1));
        assertEquals(conv, ParamLayout.CONV2D.toTorch(yxio));
        INDArray c1 = Nd4j.linspace(DataType.FLOAT, 1, 12, 1).reshape(4, 3, 1);
        INDArray s1 = ParamLayout.CONV1D.fromTorch(c1);
        assertArrayEquals(new long[] {1, 1, 3, 4}, s1.shape());
        assertEquals(c1.getFloat(2, 1, 0), s1.getFloat(0, 0, 1, 2));
        assertEquals(c1, ParamLayout.CONV1D.toTorch(s1));
    }

    @Test
    void saveWritesStateDictNamesInTorchLayoutAndReloads(@TempDir Path dir) throws Exception {
        GlideModelConfig c = tiny();
        Text2ImUNet m = Text2ImUNet.create(c);
        m.setParameters(RandomTensors.store(m.parameterSpecs(), 3));
        Path file = dir.resolve("tiny.safetensors");
        m.save(file);
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(new ArrayList<>(m.expectedShapes().keySet()), st.names());
            for (String k : st.names()) {
                assertArrayEquals(m.expectedShapes().get(k), st.info(k).shape(), k);
                assertEquals(m.parameters().getTorch(k), st.get(k), k);
            }
            assertEquals(c, GlideModelConfig.fromJson(st.metadata().get("options")));
            assertEquals("Text2ImUNet", st.metadata().get("model_class"));
        }
        Text2ImUNet back = Text2ImUNet.create(c).load(file);
        for (String k : m.parameters().keys()) {
            assertEquals(m.parameters().get(k), back.parameters().get(k), k);
        }
        assertTrue(Files.list(dir).allMatch(p -> p.equals(file)), "no temporary files left behind");
    }

    @Test
    void aFreshModelPredictsZeroLikeGlides() {
        // glide zero-initialises the output convolution, so a new model outputs zeros
        Text2ImUNet m = Text2ImUNet.create(tiny()).initParameters(42);
        INDArray out = m.forward(Nd4j.rand(DataType.FLOAT, 1, 3, 8, 8), Nd4j.createFromArray(10L),
                Nd4j.zeros(DataType.LONG, 1, 6), Nd4j.ones(DataType.BOOL, 1, 6));
        assertArrayEquals(new long[] {1, 6, 8, 8}, out.shape());
        assertEquals(0.0, out.amaxNumber().doubleValue());
        ParameterStore p = m.parameters();
        assertEquals(1.0, p.get("out.0.weight").minNumber().doubleValue());
        assertTrue(p.get("input_blocks.0.0.weight").std(true).getDouble() > 0);
    }

    @Test
    void initialisationUsesThePortableGeneratorNotNd4js() {
        Nd4j.getRandom().setSeed(1);
        ParameterStore a = Text2ImUNet.create(tiny()).initParameters(7).parameters();
        Nd4j.getRandom().setSeed(2);
        Nd4j.rand(DataType.FLOAT, 100);
        ParameterStore b = Text2ImUNet.create(tiny()).initParameters(7).parameters();
        for (String k : a.keys()) {
            assertEquals(a.get(k), b.get(k), k);
        }
        // the first parameter is drawn first: the generator's first values, in PyTorch layout
        ParamSpec first = Text2ImUNet.create(tiny()).parameterSpecs().get(0);
        float[] expected = new float[(int) a.getTorch(first.key()).length()];
        float bound = (float) first.init().value();
        if (first.init().kind() == io.github.glidejava.nn.params.ParamInit.Kind.UNIFORM) {
            new io.github.glidejava.core.random.PortableRandom(7).fillUniform(expected, -bound, bound);
        } else {
            new io.github.glidejava.core.random.PortableRandom(7).fillGaussian(expected);
            for (int i = 0; i < expected.length; i++) {
                expected[i] *= bound;
            }
        }
        assertArrayEquals(expected, a.getTorch(first.key()).dup().data().asFloat(), first.key());
    }

    @Test
    void initialisationIsReproducibleFromTheSeed() {
        ParameterStore a = Text2ImUNet.create(tiny()).initParameters(7).parameters();
        ParameterStore b = Text2ImUNet.create(tiny()).initParameters(7).parameters();
        ParameterStore c = Text2ImUNet.create(tiny()).initParameters(8).parameters();
        String k = "input_blocks.1.0.in_layers.2.weight";
        assertEquals(a.get(k), b.get(k));
        assertTrue(!a.get(k).equals(c.get(k)));
        // PyTorch's default bound for a 3x3 conv: 1/sqrt(fan_in)
        double bound = 1 / Math.sqrt(a.spec(k).torchShape()[1] * 9.0);
        assertTrue(a.get(k).amaxNumber().doubleValue() <= bound);
    }

    @Test
    void missingCheckpointFileIsAClearError() {
        Text2ImUNet m = Text2ImUNet.create(tiny());
        Exception e = assertThrows(java.io.IOException.class, () -> m.load(Path.of("/nonexistent/base.pt")));
        assertTrue(e.getMessage().contains("/nonexistent/base.pt"), e.getMessage());
    }

    static GlideModelConfig tiny() {
        return GlideModelConfig.builder().imageSize(8).numChannels(32).numResBlocks(1).channelMult("2")
                .attentionResolutions("8").numHeadChannels(32).xfWidth(16).xfLayers(1).xfHeads(2).textCtx(6)
                .vocabSize(20).dropout(0.0).build();
    }
}
