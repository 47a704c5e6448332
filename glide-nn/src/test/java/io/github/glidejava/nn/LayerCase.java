package io.github.glidejava.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.BilinearResize;
import io.github.glidejava.nn.layers.Downsample;
import io.github.glidejava.nn.layers.GroupNorm32;
import io.github.glidejava.nn.layers.Layer;
import io.github.glidejava.nn.layers.QKVAttention;
import io.github.glidejava.nn.layers.ResBlock;
import io.github.glidejava.nn.layers.TimestepEmbedding;
import io.github.glidejava.nn.layers.Upsample;
import io.github.glidejava.nn.ops.Backends;
import io.github.glidejava.nn.ops.TensorFunction;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.params.ParameterStore;
import io.github.glidejava.nn.xf.Mlp;
import io.github.glidejava.nn.xf.MultiheadAttention;
import io.github.glidejava.nn.xf.ResidualAttentionBlock;
import io.github.glidejava.nn.xf.Transformer;
import io.github.glidejava.core.testing.RefFixture;

/**
 * A layer fixture turned into something runnable: the layer built from the fixture's config (dispatched on the
 * reference's class / function name), its parameters loaded strictly from {@code param.*}, and a function from the
 * fixture's inputs to its outputs.
 */
final class LayerCase {
    final RefFixture fixture;
    final List<ParamSpec> specs;
    final TensorFunction function;
    /** Output name -> absolute tolerance (rtol is the same unless noted in {@link #rtol}). */
    final Map<String, Double> atol = new LinkedHashMap<>();
    final Map<String, Double> rtol = new LinkedHashMap<>();

    private LayerCase(RefFixture fixture, List<ParamSpec> specs, TensorFunction function) {
        this.fixture = fixture;
        this.specs = specs;
        this.function = function;
    }

    ParameterStore params() {
        return ParameterStore.fromStateDict(specs, fixture.stateDict("param."));
    }

    Map<String, INDArray> runEager() {
        return Backends.eager(params(), fixture.inputs(), function);
    }

    Map<String, INDArray> runSameDiff() {
        return Backends.sameDiff(params(), fixture.inputs(), function);
    }

    /** The single output of a layer fixture (e.g. "y"). */
    private static String singleOutput(RefFixture f) {
        List<String> names = new ArrayList<>(f.outputs().keySet());
        names.remove("freqs");
        if (names.size() != 1) {
            throw new IllegalStateException(f.file + ": expected one output, found " + names);
        }
        return names.get(0);
    }

    static LayerCase of(RefFixture f) {
        JsonNode c = f.config;
        String out = singleOutput(f);
        String callee = f.callee();
        LayerCase lc;
        switch (callee) {
            case "GroupNorm32": {
                GroupNorm32 l = new GroupNorm32("", f.intConfig("num_groups"), f.intConfig("num_channels"),
                        f.doubleConfig("swish", 0.0), f.doubleConfig("eps", 1e-5));
                lc = unary(f, l, out, new Unary() {
                    @Override
                    public <T> T apply(TensorOps<T> ops, T x) {
                        return l.forward(ops, x);
                    }
                });
                break;
            }
            case "Upsample": {
                requireDims2(f);
                Upsample l = new Upsample("", f.intConfig("channels"), f.boolConfig("use_conv", false), f.optInt("out_channels"));
                lc = unary(f, l, out, new Unary() {
                    @Override
                    public <T> T apply(TensorOps<T> ops, T x) {
                        return l.forward(ops, x);
                    }
                });
                break;
            }
            case "Downsample": {
                requireDims2(f);
                Downsample l = new Downsample("", f.intConfig("channels"), f.boolConfig("use_conv", false), f.optInt("out_channels"));
                lc = unary(f, l, out, new Unary() {
                    @Override
                    public <T> T apply(TensorOps<T> ops, T x) {
                        return l.forward(ops, x);
                    }
                });
                break;
            }
            case "interpolate": {
                if (!"bilinear".equals(c.path("mode").asText()) || c.path("align_corners").asBoolean(true)) {
                    throw new IllegalStateException(f.file + ": only bilinear, align_corners=False is implemented: " + c);
                }
                long h = c.get("size").get(0).asLong();
                long w = c.get("size").get(1).asLong();
                lc = new LayerCase(f, List.of(), new TensorFunction() {
                    @Override
                    public <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> in) {
                        return Map.of(out, BilinearResize.forward(ops, in.get("x"), h, w));
                    }
                });
                break;
            }
            case "QKVAttention": {
                QKVAttention a = new QKVAttention(f.intConfig("n_heads"));
                lc = new LayerCase(f, List.of(), new TensorFunction() {
                    @Override
                    public <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> in) {
                        return Map.of(out, a.forward(ops, in.get("qkv"), in.get("encoder_kv")));
                    }
                });
                break;
            }
            case "AttentionBlock": {
                AttentionBlock l = new AttentionBlock("", f.intConfig("channels"), f.intConfig("num_heads"),
                        f.intConfig("num_head_channels"), f.optInt("encoder_channels"));
                lc = new LayerCase(f, l.params(), new TensorFunction() {
                    @Override
                    public <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> in) {
                        return Map.of(out, l.forward(ops, in.get("x"), in.get("encoder_out")));
                    }
                });
                break;
            }
            case "ResBlock": {
                requireDims2(f);
                ResBlock l = new ResBlock("", f.intConfig("channels"), f.intConfig("emb_channels"),
                        f.doubleConfig("dropout", 0.0), f.optInt("out_channels"), f.boolConfig("use_conv", false),
                        f.boolConfig("use_scale_shift_norm", false), f.boolConfig("up", false), f.boolConfig("down", false));
                lc = new LayerCase(f, l.params(), new TensorFunction() {
                    @Override
                    public <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> in) {
                        return Map.of(out, l.forward(ops, in.get("x"), in.get("emb")));
                    }
                });
                break;
            }
            case "timestep_embedding": {
                int dim = f.intConfig("dim");
                double maxPeriod = f.doubleConfig("max_period", 10000);
                lc = new LayerCase(f, List.of(), new TensorFunction() {
                    @Override
                    public <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> in) {
                        return Map.of(out, TimestepEmbedding.forward(ops, in.get("timesteps"), dim, maxPeriod));
                    }
                });
                // torch's vectorised float32 exp is off by 1 ulp for some frequencies; the argument t * freq
                // amplifies that, so the tolerance grows with the largest timestep
                double tmax = f.inputs().get("timesteps").castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
                        .amaxNumber().doubleValue();
                double tol = tmax <= 1000 ? 1e-4 : 3e-4 * Math.max(1.0, tmax / 4000.0);
                lc.atol.put(out, tol);
                lc.rtol.put(out, 0.0);
                break;
            }
            case "MLP": {
                Mlp l = new Mlp("", f.intConfig("width"));
                lc = unary(f, l, out, new Unary() {
                    @Override
                    public <T> T apply(TensorOps<T> ops, T x) {
                        return l.forward(ops, x);
                    }
                });
                break;
            }
            case "MultiheadAttention": {
                MultiheadAttention l = new MultiheadAttention("", f.intConfig("width"), f.intConfig("heads"));
                lc = unary(f, l, out, new Unary() {
                    @Override
                    public <T> T apply(TensorOps<T> ops, T x) {
                        return l.forward(ops, x);
                    }
                });
                break;
            }
            case "ResidualAttentionBlock": {
                ResidualAttentionBlock l = new ResidualAttentionBlock("", f.intConfig("width"), f.intConfig("heads"));
                lc = unary(f, l, out, new Unary() {
                    @Override
                    public <T> T apply(TensorOps<T> ops, T x) {
                        return l.forward(ops, x);
                    }
                });
                break;
            }
            case "Transformer": {
                Transformer l = new Transformer("", f.intConfig("width"), f.intConfig("layers"), f.intConfig("heads"));
                lc = unary(f, l, out, new Unary() {
                    @Override
                    public <T> T apply(TensorOps<T> ops, T x) {
                        return l.forward(ops, x);
                    }
                });
                break;
            }
            default:
                throw new IllegalStateException("no implementation known for reference '" + f.reference + "' ("
                        + callee + ") in " + f.file);
        }
        lc.atol.putIfAbsent(out, 1e-5);
        lc.rtol.putIfAbsent(out, 1e-5);
        return lc;
    }

    private static void requireDims2(RefFixture f) {
        Integer dims = f.optInt("dims");
        if (dims != null && dims != 2) {
            throw new IllegalStateException(f.file + ": only dims=2 is implemented: " + f.config);
        }
    }

    interface Unary {
        <T> T apply(TensorOps<T> ops, T x);
    }

    private static LayerCase unary(RefFixture f, Layer layer, String out, Unary u) {
        return new LayerCase(f, layer.params(), new TensorFunction() {
            @Override
            public <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> in) {
                if (in.size() != 1) {
                    throw new IllegalStateException(f.file + ": expected one input, found " + in.keySet());
                }
                return Map.of(out, u.apply(ops, in.values().iterator().next()));
            }
        });
    }
}
