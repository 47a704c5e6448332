package io.github.glidejava.nn.unet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.ops.SameDiffOps;

/**
 * A GLIDE U-Net as a SameDiff graph with fixed input shapes. Inputs are placeholders named as glide's forward
 * arguments ({@link #X}, {@link #TIMESTEPS}, {@link #TOKENS}, {@link #MASK}, {@link #LOW_RES},
 * {@link #INPAINT_IMAGE}, {@link #INPAINT_MASK}); parameters are variables named by their exact PyTorch state-dict
 * keys, sharing the model's parameter arrays (so training updates the model in place); the output
 * {@code [N, 6, H, W]} is the variable {@link #OUT}.
 *
 * <p>For training: {@code UNetGraph.builder(model).batch(b).trainable(true).training(true).build()}, then add a
 * loss on {@link #output()} (plus extra placeholders such as noise targets) with {@link #sameDiff()}, call
 * {@code sd.setLossVariables(loss)} and {@code sd.setTrainingConfig(...)}.
 */
public final class UNetGraph {
    public static final String X = "x";
    public static final String TIMESTEPS = "timesteps";
    public static final String TOKENS = "tokens";
    public static final String MASK = "mask";
    public static final String LOW_RES = "low_res";
    public static final String INPAINT_IMAGE = "inpaint_image";
    public static final String INPAINT_MASK = "inpaint_mask";
    public static final String OUT = "out";

    private final Text2ImUNet model;
    private final SameDiff sd;
    private final SameDiffOps ops;
    private final SDVariable output;
    private final List<String> placeholders;
    private final Map<String, SDVariable> traces;

    private UNetGraph(Builder b) {
        this.model = b.model;
        this.sd = SameDiff.create();
        this.ops = new SameDiffOps(sd, model.parameters(), k -> b.trainable && !b.frozen.contains(k), b.training);
        GlideModelConfig c = model.config();
        int h = b.height > 0 ? b.height : c.imageSize();
        int w = b.width > 0 ? b.width : c.imageSize();
        List<String> names = new ArrayList<>();
        SDVariable x = ops.placeholder(X, DataType.FLOAT, b.batch, c.imageChannels(), h, w);
        SDVariable t = ops.placeholder(TIMESTEPS, b.timestepType, b.batch);
        names.add(X);
        names.add(TIMESTEPS);
        SDVariable tokens = null;
        SDVariable mask = null;
        if (c.xfWidth() > 0) {
            tokens = ops.placeholder(TOKENS, DataType.LONG, b.batch, c.textCtx());
            names.add(TOKENS);
            if (c.xfPadding()) {
                mask = ops.placeholder(MASK, DataType.BOOL, b.batch, c.textCtx());
                names.add(MASK);
            }
        }
        UNetInputs<SDVariable> in = UNetInputs.of(x, t, tokens, mask);
        if (c.superRes()) {
            int lh = b.lowResHeight > 0 ? b.lowResHeight : Math.max(1, h / 4);
            int lw = b.lowResWidth > 0 ? b.lowResWidth : Math.max(1, w / 4);
            in = in.withLowRes(ops.placeholder(LOW_RES, DataType.FLOAT, b.batch, c.imageChannels(), lh, lw));
            names.add(LOW_RES);
        }
        if (c.inpaint()) {
            in = in.withInpaint(ops.placeholder(INPAINT_IMAGE, DataType.FLOAT, b.batch, c.imageChannels(), h, w),
                    ops.placeholder(INPAINT_MASK, DataType.FLOAT, b.batch, 1, h, w));
            names.add(INPAINT_IMAGE);
            names.add(INPAINT_MASK);
        }
        Map<String, SDVariable> tr = new LinkedHashMap<>();
        SDVariable out = model.forward(ops, in, b.keepTraces ? tr::put : (k, v) -> { });
        this.output = ops.rename(out, OUT);
        this.placeholders = Collections.unmodifiableList(names);
        this.traces = Collections.unmodifiableMap(tr);
    }

    public static Builder builder(Text2ImUNet model) {
        return new Builder(model);
    }

    public SameDiff sameDiff() {
        return sd;
    }

    /** The back-end that built the graph (to add more operations with tracked shapes). */
    public SameDiffOps ops() {
        return ops;
    }

    public Text2ImUNet model() {
        return model;
    }

    /** The {@code [N, 6, H, W]} output variable. */
    public SDVariable output() {
        return output;
    }

    /** Names of the input placeholders this graph needs. */
    public List<String> placeholders() {
        return placeholders;
    }

    /** Named intermediate variables (when built with {@link Builder#keepTraces}). */
    public Map<String, SDVariable> traces() {
        return traces;
    }

    /** Runs the graph on {@code inputs} (no gradients). */
    public INDArray forward(UNetInputs<INDArray> inputs) {
        return sd.outputSingle(feed(inputs), OUT);
    }

    /** Runs the graph returning the output and the requested variables. */
    public Map<String, INDArray> output(UNetInputs<INDArray> inputs, List<String> variables) {
        return sd.output(feed(inputs), variables);
    }

    /** The placeholder values for {@code inputs} (glide's defaults: zeros for missing inpainting inputs). */
    public Map<String, INDArray> feed(UNetInputs<INDArray> in) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (String p : placeholders) {
            INDArray v;
            switch (p) {
                case X: v = in.x(); break;
                case TIMESTEPS: v = in.timesteps(); break;
                case TOKENS: v = in.tokens(); break;
                case MASK: v = in.mask(); break;
                case LOW_RES: v = in.lowRes(); break;
                case INPAINT_IMAGE: v = in.inpaintImage() != null ? in.inpaintImage()
                        : org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, ops.shape(sd.getVariable(p))); break;
                case INPAINT_MASK: v = in.inpaintMask() != null ? in.inpaintMask()
                        : org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, ops.shape(sd.getVariable(p))); break;
                default: throw new IllegalStateException(p);
            }
            if (v == null) {
                throw new IllegalArgumentException("input '" + p + "' is required by this " + model.config().modelClass());
            }
            long[] want = ops.shape(sd.getVariable(p));
            if (!java.util.Arrays.equals(v.shape(), want)) {
                throw new IllegalArgumentException("input '" + p + "' must be " + java.util.Arrays.toString(want)
                        + " for this graph, got " + java.util.Arrays.toString(v.shape()));
            }
            DataType dt = sd.getVariable(p).dataType();
            m.put(p, v.dataType() == dt ? v : v.castTo(dt));
        }
        return m;
    }

    /** Graph options: batch size and image size are fixed when the graph is built. */
    public static final class Builder {
        private final Text2ImUNet model;
        private int batch = 1;
        private int height;
        private int width;
        private int lowResHeight;
        private int lowResWidth;
        private boolean trainable;
        private boolean training;
        private boolean keepTraces;
        private DataType timestepType = DataType.LONG;
        private final java.util.Set<String> frozen = new java.util.HashSet<>();

        private Builder(Text2ImUNet model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        public Builder batch(int n) {
            this.batch = n;
            return this;
        }

        /** Image size (default: the config's image_size). */
        public Builder imageSize(int h, int w) {
            this.height = h;
            this.width = w;
            return this;
        }

        /** Size of the low-resolution input of super-resolution models (default: image size / 4). */
        public Builder lowResSize(int h, int w) {
            this.lowResHeight = h;
            this.lowResWidth = w;
            return this;
        }

        /** Parameters as trainable VARIABLEs (default: CONSTANTs). */
        public Builder trainable(boolean v) {
            this.trainable = v;
            return this;
        }

        /**
         * Parameters kept constant in a trainable graph. Freezing {@code token_embedding.weight} avoids the
         * one-hot product that makes a trainable embedding lookup differentiable (costly with GPT-2's vocabulary).
         */
        public Builder frozen(java.util.Collection<String> keys) {
            for (String k : keys) {
                if (!model.parameters().contains(k)) {
                    throw new IllegalArgumentException("cannot freeze unknown parameter '" + k + "'");
                }
            }
            frozen.addAll(keys);
            return this;
        }

        /** Dropout active (default: inference, dropout is the identity). */
        public Builder training(boolean v) {
            this.training = v;
            return this;
        }

        /** Keep named intermediate variables (see {@link UNetGraph#traces()}). */
        public Builder keepTraces(boolean v) {
            this.keepTraces = v;
            return this;
        }

        /** Type of the timesteps placeholder: LONG (default, glide's int64) or FLOAT (fractional timesteps). */
        public Builder timestepType(DataType t) {
            this.timestepType = t;
            return this;
        }

        public UNetGraph build() {
            if (batch <= 0) {
                throw new IllegalArgumentException("batch must be positive, got " + batch);
            }
            return new UNetGraph(this);
        }
    }
}
