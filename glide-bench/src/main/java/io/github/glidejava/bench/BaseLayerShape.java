package io.github.glidejava.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.Conv2d;
import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.ResBlock;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.xf.Transformer;

/**
 * GLIDE's layers at the shapes the {@code base} preset runs them with, at batch 2 (one classifier-free-guidance
 * step: conditional + unconditional sample): the channel counts of {@link GlideModelConfig#base()} (192 channels x
 * multipliers 1,2,3,4; 64 channels per attention head; 512-wide text transformer of 16 layers over 128 tokens).
 */
public enum BaseLayerShape {
    /** ResBlock at the first level: 192 channels at 64x64 (scale-shift norm, identity skip). */
    RES64("ResBlock 192ch 64x64"),
    RES32("ResBlock 384ch 32x32"),
    RES16("ResBlock 576ch 16x16"),
    RES8("ResBlock 768ch 8x8"),
    /** AttentionBlock with the text transformer's keys/values (512 channels, 128 tokens) in front. */
    ATTN32("AttentionBlock 384ch 32x32, 6 heads, +128 text keys"),
    ATTN16("AttentionBlock 576ch 16x16, 9 heads, +128 text keys"),
    ATTN8("AttentionBlock 768ch 8x8, 12 heads, +128 text keys"),
    /** The whole text transformer: width 512, 16 layers, 8 heads, on [2, 128, 512]. */
    XF("text transformer 512 x 16 layers, 128 tokens"),
    /** One 3x3 convolution, 192 -> 192 channels at 64x64. */
    CONV64("conv3x3 192->192ch 64x64");

    public static final int BATCH = 2;
    static final GlideModelConfig BASE = GlideModelConfig.base();

    private final String description;

    BaseLayerShape(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** A generic forward over the inputs in {@link #inputShapes()} order. */
    public interface Forward {
        <T> T apply(TensorOps<T> ops, List<T> inputs);
    }

    /** A layer instance with its inputs' shapes and its forward. */
    public static final class Instance {
        public final BaseLayerShape kind;
        public final Layer layer;
        public final Map<String, long[]> inputShapes;
        public final Forward forward;

        Instance(BaseLayerShape kind, Layer layer, Map<String, long[]> inputShapes, Forward forward) {
            this.kind = kind;
            this.layer = layer;
            this.inputShapes = inputShapes;
            this.forward = forward;
        }

        public ParameterStore randomParameters(long seed) {
            return RandomWeights.of(layer.params(), seed);
        }

        /** Standard-normal float32 inputs. */
        public Map<String, INDArray> randomInputs(long seed) {
            Nd4j.getRandom().setSeed(seed);
            Map<String, INDArray> m = new LinkedHashMap<>();
            inputShapes.forEach((k, s) -> m.put(k, Nd4j.randn(DataType.FLOAT, s)));
            return m;
        }

        public List<String> inputNames() {
            return new ArrayList<>(inputShapes.keySet());
        }
    }

    public Instance create() {
        int mc = BASE.numChannels();
        int emb = 4 * mc;
        int hc = BASE.numHeadChannels();
        int xfw = BASE.xfWidth();
        int ctx = BASE.textCtx();
        switch (this) {
            case RES64:
                return res(mc, 64, emb);
            case RES32:
                return res(2 * mc, 32, emb);
            case RES16:
                return res(3 * mc, 16, emb);
            case RES8:
                return res(4 * mc, 8, emb);
            case ATTN32:
                return attn(2 * mc, 32, hc, xfw, ctx);
            case ATTN16:
                return attn(3 * mc, 16, hc, xfw, ctx);
            case ATTN8:
                return attn(4 * mc, 8, hc, xfw, ctx);
            case XF: {
                Transformer t = new Transformer("transformer", xfw, BASE.xfLayers(), BASE.xfHeads());
                return new Instance(this, t, shapes("x", BATCH, ctx, xfw), new Forward() {
                    public <T> T apply(TensorOps<T> ops, List<T> in) {
                        return t.forward(ops, in.get(0));
                    }
                });
            }
            case CONV64: {
                Conv2d c = Conv2d.conv3x3("conv", mc, mc, false);
                return new Instance(this, c, shapes("x", BATCH, mc, 64, 64), new Forward() {
                    public <T> T apply(TensorOps<T> ops, List<T> in) {
                        return c.forward(ops, in.get(0));
                    }
                });
            }
            default:
                throw new IllegalStateException(name());
        }
    }

    private Instance res(int ch, int size, int emb) {
        ResBlock rb = new ResBlock("rb", ch, emb, 0.0, ch, false, BASE.useScaleShiftNorm(), false, false);
        Map<String, long[]> in = shapes("x", BATCH, ch, size, size);
        in.putAll(shapes("emb", BATCH, emb));
        return new Instance(this, rb, in, new Forward() {
            public <T> T apply(TensorOps<T> ops, List<T> x) {
                return rb.forward(ops, x.get(0), x.get(1));
            }
        });
    }

    private Instance attn(int ch, int size, int headChannels, int xfWidth, int ctx) {
        AttentionBlock ab = new AttentionBlock("attn", ch, BASE.numHeads(), headChannels, xfWidth);
        Map<String, long[]> in = shapes("x", BATCH, ch, size, size);
        in.putAll(shapes("encoder_out", BATCH, xfWidth, ctx));
        return new Instance(this, ab, in, new Forward() {
            public <T> T apply(TensorOps<T> ops, List<T> x) {
                return ab.forward(ops, x.get(0), x.get(1));
            }
        });
    }

    private static Map<String, long[]> shapes(String name, long... shape) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put(name, shape);
        return m;
    }
}
