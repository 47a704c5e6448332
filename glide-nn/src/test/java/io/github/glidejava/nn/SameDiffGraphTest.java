package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.SameDiffOps;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetGraph;
import io.github.glidejava.nn.unet.UNetInputs;

/** The SameDiff path as a training graph: named parameters, gradients for every one, dropout only in training. */
class SameDiffGraphTest {
    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    private static Text2ImUNet tinyModel(double dropout) {
        Text2ImUNet m = Text2ImUNet.create(GlideModelConfig.builder().imageSize(8).numChannels(32).numResBlocks(1)
                .channelMult("2").attentionResolutions("8").numHeadChannels(32).xfWidth(16).xfLayers(1).xfHeads(2)
                .textCtx(6).vocabSize(20).dropout(dropout).build());
        m.setParameters(RandomTensors.store(m.parameterSpecs(), 8));
        return m;
    }

    private static UNetInputs<INDArray> inputs() {
        INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 5, 19, 0, 3, 19}, {19, 19, 19, 19, 19, 19}});
        INDArray mask = Nd4j.createFromArray(new boolean[][] {{true, true, true, false, false, false},
                {false, false, false, false, false, false}});
        return UNetInputs.of(RandomTensors.randn(1, 2, 3, 8, 8), Nd4j.createFromArray(1L, 500L), tokens, mask);
    }

    @Test
    void trainingGraphHasAGradientForEveryParameter() {
        Text2ImUNet m = tinyModel(0.0);
        UNetGraph g = UNetGraph.builder(m).batch(2).trainable(true).training(true).build();
        SameDiff sd = g.sameDiff();
        assertEquals(List.of("x", "timesteps", "tokens", "mask"), g.placeholders());
        SDVariable target = sd.placeHolder("target", DataType.FLOAT, 2, 6, 8, 8);
        SDVariable loss = sd.math().squaredDifference(g.output(), target).mean("loss");
        sd.setLossVariables(loss);
        Map<String, INDArray> feed = new LinkedHashMap<>(g.feed(inputs()));
        feed.put("target", RandomTensors.randn(2, 2, 6, 8, 8));
        List<String> params = m.parameters().keys();
        for (String k : params) {
            assertEquals(VariableType.VARIABLE, sd.getVariable(k).getVariableType(), k);
            // the graph shares the model's parameter arrays, so an optimiser updates the model in place
            assertSame(m.parameters().get(k), sd.getVariable(k).getArr(), k);
        }
        Map<String, INDArray> grads = sd.calculateGradients(feed, params);
        int nonZero = 0;
        for (String k : params) {
            INDArray gk = grads.get(k);
            assertNotNull(gk, "gradient of " + k);
            assertArrayEquals(m.parameters().get(k).shape(), gk.shape(), k);
            assertFalse(Transforms.abs(gk).sumNumber().doubleValue() != Transforms.abs(gk).sumNumber().doubleValue(),
                    "finite gradient of " + k);
            if (gk.amaxNumber().doubleValue() > 0) {
                nonZero++;
            }
        }
        // token rows never used have zero gradient; everything else takes part
        assertTrue(nonZero >= params.size() - 1, nonZero + " of " + params.size() + " gradients non-zero");
    }

    @Test
    void trainableGraphComputesTheSameForwardAndCanFreezeParameters() {
        Text2ImUNet m = tinyModel(0.0);
        UNetInputs<INDArray> in = inputs();
        INDArray eager = m.forward(in);
        UNetGraph g = UNetGraph.builder(m).batch(2).trainable(true).frozen(List.of("token_embedding.weight")).build();
        assertEquals(VariableType.CONSTANT, g.sameDiff().getVariable("token_embedding.weight").getVariableType());
        assertEquals(VariableType.VARIABLE, g.sameDiff().getVariable("positional_embedding").getVariableType());
        Close.assertClose("trainable graph, frozen token embedding", eager, g.forward(in), 2e-5, 2e-5);
        // a trainable token embedding is read through a one-hot product: same values
        UNetGraph all = UNetGraph.builder(m).batch(2).trainable(true).build();
        Close.assertClose("trainable graph", eager, all.forward(in), 2e-5, 2e-5);
    }

    @Test
    void dropoutOnlyWhileTraining() {
        Text2ImUNet m = tinyModel(0.5);
        UNetInputs<INDArray> in = inputs();
        INDArray eager = m.forward(in);
        INDArray inference = UNetGraph.builder(m).batch(2).build().forward(in);
        Close.assertClose("dropout is the identity at inference", eager, inference, 2e-5, 2e-5);
        INDArray training = UNetGraph.builder(m).batch(2).training(true).build().forward(in);
        assertFalse(eager.equalsWithEps(training, 1e-3), "dropout changes the training forward");
    }

    @Test
    void sameDiffDropoutDropsTheGivenFraction() {
        SameDiff sd = SameDiff.create();
        SameDiffOps ops = new SameDiffOps(sd, null, false, true);
        SDVariable x = ops.placeholder("x", DataType.FLOAT, 200, 100);
        SDVariable y = ops.dropout(x, 0.25);
        INDArray out = sd.outputSingle(Map.of("x", Nd4j.ones(DataType.FLOAT, 200, 100)), y.name());
        double zeros = out.eq(0).castTo(DataType.FLOAT).meanNumber().doubleValue();
        assertEquals(0.25, zeros, 0.02, "fraction dropped");
        assertEquals(1 / 0.75, out.maxNumber().doubleValue(), 1e-5, "kept values are scaled by 1/(1-p)");
    }
}
