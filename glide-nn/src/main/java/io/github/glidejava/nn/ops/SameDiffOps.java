package io.github.glidejava.nn.ops;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

import org.nd4j.autodiff.samediff.NameScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * SameDiff back-end: every operation adds a node to a graph. Parameters become SameDiff variables named by their
 * exact PyTorch state-dict keys that share the store's arrays (trainable VARIABLEs, or CONSTANTs for an
 * inference-only graph); inputs are placeholders made with {@link #placeholder}. SameDiff does not know the shapes
 * of intermediate results before execution, so this back-end tracks every shape itself.
 */
public final class SameDiffOps implements TensorOps<SDVariable> {
    private final SameDiff sd;
    private final boolean training;
    private final Map<String, long[]> shapes = new HashMap<>();

    /**
     * @param sd        the graph to add to
     * @param params    parameters to register (all of them, as variables named by their keys), or null
     * @param trainable parameters become trainable VARIABLEs (else CONSTANTs)
     * @param training  dropout is active (otherwise the identity)
     */
    public SameDiffOps(SameDiff sd, ParameterStore params, boolean trainable, boolean training) {
        this(sd, params, k -> trainable, training);
    }

    /**
     * @param trainable which parameters become trainable VARIABLEs (the others CONSTANTs), e.g. to freeze the
     *                  token embedding
     */
    public SameDiffOps(SameDiff sd, ParameterStore params, java.util.function.Predicate<String> trainable,
            boolean training) {
        GlideBackend.init();
        this.sd = sd;
        this.training = training;
        if (params != null) {
            for (String k : params.keys()) {
                if (sd.hasVariable(k)) {
                    throw new IllegalArgumentException("the graph already has a variable named " + k);
                }
                INDArray arr = params.get(k);
                SDVariable v = trainable.test(k) ? sd.var(k, arr) : sd.constant(k, arr);
                shapes.put(v.name(), arr.shape());
            }
        }
    }

    public SameDiff sameDiff() {
        return sd;
    }

    public boolean training() {
        return training;
    }

    /** Adds a placeholder input of a fixed shape. */
    public SDVariable placeholder(String name, DataType type, long... shape) {
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("placeholder " + name + " needs a fixed shape, got "
                        + Arrays.toString(shape));
            }
        }
        return record(sd.placeHolder(name, type, shape), shape);
    }

    /** Renames a variable (keeping its tracked shape). */
    public SDVariable rename(SDVariable v, String name) {
        long[] s = shape(v);
        SDVariable r = v.rename(name);
        shapes.put(r.name(), s);
        return r;
    }

    private SDVariable record(SDVariable v, long[] shape) {
        shapes.put(v.name(), shape);
        return v;
    }

    // ---- parameters and constants ---------------------------------------------------------------------------

    @Override
    public SDVariable param(String key) {
        if (!sd.hasVariable(key)) {
            throw new IllegalArgumentException("no parameter '" + key + "' in this graph");
        }
        return sd.getVariable(key);
    }

    @Override
    public SDVariable constant(INDArray value) {
        return record(sd.constant(value), value.shape());
    }

    @Override
    public long[] shape(SDVariable x) {
        long[] s = shapes.get(x.name());
        if (s == null) {
            long[] known = x.getShape();
            if (known == null) {
                throw new IllegalStateException("shape of " + x.name() + " is unknown (not created by SameDiffOps)");
            }
            return known.clone();
        }
        return s.clone();
    }

    @Override
    public SDVariable toFloat(SDVariable x) {
        return x.dataType() == DataType.FLOAT ? x : record(x.castTo(DataType.FLOAT), shape(x));
    }

    @Override
    public SDVariable block(String name, Supplier<SDVariable> body) {
        try (NameScope ignored = sd.withNameScope(name)) {
            return body.get();
        }
    }

    // ---- linear algebra -------------------------------------------------------------------------------------

    @Override
    public SDVariable conv2d(SDVariable x, SDVariable weight, SDVariable bias, int stride, int padding) {
        long[] w = shape(weight);
        long[] out = Shapes.conv2d(shape(x), w, stride, padding);
        Conv2DConfig cfg = Conv2DConfig.builder()
                .kH(w[0]).kW(w[1])
                .sH(stride).sW(stride).pH(padding).pW(padding).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID)
                .dataFormat(Conv2DConfig.NCHW)
                .weightsFormat(WeightsFormat.YXIO)
                .build();
        SDVariable y = bias == null ? sd.cnn().conv2d(x, weight, cfg) : sd.cnn().conv2d(x, weight, bias, cfg);
        return record(y, out);
    }

    @Override
    public SDVariable matmul(SDVariable a, SDVariable b, boolean transposeA, boolean transposeB) {
        long[] out = Shapes.matmul(shape(a), shape(b), transposeA, transposeB);
        return record(sd.mmul(a, b, transposeA, transposeB, false), out);
    }

    // ---- element-wise ---------------------------------------------------------------------------------------

    @Override
    public SDVariable add(SDVariable a, SDVariable b) {
        return record(a.add(b), Shapes.broadcast(shape(a), shape(b)));
    }

    @Override
    public SDVariable sub(SDVariable a, SDVariable b) {
        return record(a.sub(b), Shapes.broadcast(shape(a), shape(b)));
    }

    @Override
    public SDVariable mul(SDVariable a, SDVariable b) {
        return record(a.mul(b), Shapes.broadcast(shape(a), shape(b)));
    }

    @Override
    public SDVariable div(SDVariable a, SDVariable b) {
        return record(a.div(b), Shapes.broadcast(shape(a), shape(b)));
    }

    @Override
    public SDVariable add(SDVariable a, double s) {
        return record(a.add(s), shape(a));
    }

    @Override
    public SDVariable mul(SDVariable a, double s) {
        return record(a.mul(s), shape(a));
    }

    @Override
    public SDVariable exp(SDVariable x) {
        return record(sd.math().exp(x), shape(x));
    }

    @Override
    public SDVariable log(SDVariable x) {
        return record(sd.math().log(x), shape(x));
    }

    @Override
    public SDVariable sqrt(SDVariable x) {
        return record(sd.math().sqrt(x), shape(x));
    }

    @Override
    public SDVariable rsqrt(SDVariable x) {
        return record(sd.math().rsqrt(x), shape(x));
    }

    @Override
    public SDVariable clampMin(SDVariable x, double floor) {
        return record(sd.math().max(x, sd.constant(Nd4j.scalar(x.dataType(), floor))), shape(x));
    }

    @Override
    public SDVariable stopGradient(SDVariable x) {
        return record(new org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient(sd, x).outputVariable(), shape(x));
    }

    @Override
    public SDVariable square(SDVariable x) {
        return record(x.mul(x), shape(x));
    }

    @Override
    public SDVariable erf(SDVariable x) {
        return record(sd.math().erf(x), shape(x));
    }

    @Override
    public SDVariable tanh(SDVariable x) {
        return record(sd.math().tanh(x), shape(x));
    }

    @Override
    public SDVariable sigmoid(SDVariable x) {
        return record(sd.nn().sigmoid(x), shape(x));
    }

    @Override
    public SDVariable cos(SDVariable x) {
        return record(sd.math().cos(x), shape(x));
    }

    @Override
    public SDVariable sin(SDVariable x) {
        return record(sd.math().sin(x), shape(x));
    }

    // ---- shape ----------------------------------------------------------------------------------------------

    @Override
    public SDVariable reshape(SDVariable x, long... shape) {
        long[] s = Shapes.resolveReshape(shape(x), shape);
        return record(sd.reshape(x, s), s);
    }

    @Override
    public SDVariable permute(SDVariable x, int... axes) {
        return record(sd.permute(x, axes), Shapes.permute(shape(x), axes));
    }

    @Override
    public SDVariable concat(int axis, java.util.List<SDVariable> xs) {
        long[][] s = new long[xs.size()][];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape(xs.get(i));
        }
        return record(sd.concat(axis, xs.toArray(new SDVariable[0])), Shapes.concat(axis, s));
    }

    @Override
    public SDVariable slice(SDVariable x, int axis, long from, long to) {
        long[] s = shape(x);
        if (from < 0 || to > s[axis] || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") of axis " + axis + " of shape "
                    + Arrays.toString(s));
        }
        int[] begin = new int[s.length];
        int[] size = new int[s.length];
        long[] out = s.clone();
        for (int i = 0; i < s.length; i++) {
            begin[i] = i == axis ? (int) from : 0;
            size[i] = i == axis ? (int) (to - from) : (int) s[i];
        }
        out[axis] = to - from;
        return record(sd.slice(x, begin, size), out);
    }

    // ---- reductions and nn ----------------------------------------------------------------------------------

    @Override
    public SDVariable mean(SDVariable x, boolean keepDims, int... axes) {
        return record(sd.mean(x, keepDims, axes), Shapes.reduce(shape(x), keepDims, axes));
    }

    @Override
    public SDVariable softmax(SDVariable x, int axis) {
        return record(sd.nn().softmax(x, axis), shape(x));
    }

    @Override
    public SDVariable upsampleNearest2x(SDVariable x) {
        long[] s = shape(x);
        // ND4J M2.1's upsampling2d(x, 2) passes a single integer to the op and fails its shape inference
        return record(sd.cnn().upsampling2d(x, 2, 2, true), new long[] {s[0], s[1], s[2] * 2, s[3] * 2});
    }

    @Override
    public SDVariable avgPool2x2(SDVariable x) {
        long[] s = shape(x);
        return record(sd.cnn().avgPooling2d(x, EagerOps.AVG_POOL_2X2), new long[] {s[0], s[1], s[2] / 2, s[3] / 2});
    }

    @Override
    public SDVariable gatherRows(SDVariable table, SDVariable indices) {
        long[] t = shape(table);
        long[] i = shape(indices);
        if (i.length != 1 || t.length != 2) {
            throw new IllegalArgumentException("gatherRows needs a [V, D] table and [K] indices, got "
                    + Arrays.toString(t) + " and " + Arrays.toString(i));
        }
        long[] out = {i[0], t[1]};
        if (table.getVariableType() == VariableType.VARIABLE) {
            // SameDiff's gather has no working backward in M2.1 (its gradient graph fails at run time), so a
            // trainable table is read as one_hot(indices) x table: the same values (one product with 1.0 per
            // row), differentiable, at the cost of a [K, V] x [V, D] product.
            SDVariable oneHot = sd.oneHot(indices, (int) t[0], -1, 1.0, 0.0, table.dataType());
            return record(sd.mmul(oneHot, table), out);
        }
        return record(sd.gather(table, indices, 0), out);
    }

    @Override
    public SDVariable dropout(SDVariable x, double p) {
        if (!training || p == 0.0) {
            return x;
        }
        // inverted dropout as torch's nn.Dropout: keep with probability 1-p and scale kept values by 1/(1-p).
        // (SameDiff's own dropout op does not rescale.) The Bernoulli mask is redrawn at every execution.
        long[] s = shape(x);
        SDVariable keep = sd.random().bernoulli(1.0 - p, DataType.FLOAT, s);
        return record(x.mul(keep.mul(1.0 / (1.0 - p))), s);
    }
}
