package io.github.glidejava.nn.unet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.nn.layers.AttentionBlock;
import io.github.glidejava.nn.layers.Conv2d;
import io.github.glidejava.nn.layers.Downsample;
import io.github.glidejava.nn.layers.GroupNorm32;
import io.github.glidejava.nn.layers.Linear;
import io.github.glidejava.nn.layers.ResBlock;
import io.github.glidejava.nn.layers.TimestepEmbedding;
import io.github.glidejava.nn.layers.Upsample;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * GLIDE's text-conditional ADM U-Net (glide-text2im's {@code Text2ImUNet}), with parameters under the exact
 * PyTorch state-dict names. Build one with {@link #create(GlideModelConfig)} (which picks the super-resolution /
 * inpainting subclass the config asks for), give it weights with {@link #load(Path)}, {@link #loadStateDict} or
 * {@link #initParameters(long)}, then run {@link #forward(INDArray, INDArray, INDArray, INDArray)} eagerly or
 * build a SameDiff graph with {@link UNetGraph}.
 *
 * <p>The network is defined once in {@link #forward(TensorOps, UNetInputs, BiConsumer)}; data flow: timestep
 * embedding -> time_embed MLP (+ transformer_proj of the text), input blocks (each output kept as a skip),
 * middle block, output blocks (each takes {@code cat([h, skip])}), then GroupNorm+SiLU and a 3x3 conv to
 * {@code [eps (3), variance values (3)]}.
 */
public class Text2ImUNet {
    private static final BiConsumer<String, Object> NO_TRACE = (k, v) -> { };

    protected final GlideModelConfig config;
    private final int modelChannels;
    private final Linear timeEmbed0;
    private final Linear timeEmbed2;
    private final List<TimestepEmbedSequential> inputBlocks = new ArrayList<>();
    private final TimestepEmbedSequential middleBlock;
    private final List<TimestepEmbedSequential> outputBlocks = new ArrayList<>();
    private final GroupNorm32 outNorm;
    private final Conv2d outConv;
    private final TextEncoder text;
    private final List<ParamSpec> specs;
    private final int downsamplings;
    private volatile ParameterStore params;

    /** The model class {@code config} asks for (super_res / inpaint), without weights. */
    public static Text2ImUNet create(GlideModelConfig config) {
        return switch (Objects.requireNonNull(config, "config").kind()) {
            case BASE -> new Text2ImUNet(config);
            case UPSAMPLE -> new SuperResText2ImUNet(config);
            case BASE_INPAINT -> new InpaintText2ImUNet(config);
            case UPSAMPLE_INPAINT -> new SuperResInpaintText2ImUNet(config);
        };
    }

    protected Text2ImUNet(GlideModelConfig c) {
        GlideBackend.init();
        this.config = c;
        this.modelChannels = c.numChannels();
        int mc = modelChannels;
        int timeEmbedDim = mc * 4;
        int[] mult = c.channelMultiplier();
        int[] attentionDs = c.attentionDownsampleRates();
        Integer encoderChannels = c.xfWidth() > 0 ? c.xfWidth() : null;
        int headsUp = c.numHeadsUpsample() == -1 ? c.numHeads() : c.numHeadsUpsample();
        double dropout = c.dropout();
        boolean ss = c.useScaleShiftNorm();

        timeEmbed0 = new Linear("time_embed.0", mc, timeEmbedDim);
        timeEmbed2 = new Linear("time_embed.2", timeEmbedDim, timeEmbedDim);

        int ch = mult[0] * mc;
        int inputCh = ch;
        UNetBlocks blocks = UNetBlocks.of(mult, c.numResBlocks(), c.attentionDownsampleRates());
        Deque<Integer> inputBlockChans = new ArrayDeque<>();
        for (UNetBlocks.Block spec : blocks.input()) {
            TimestepEmbedSequential b = new TimestepEmbedSequential(spec.prefix());
            if (spec.index() == 0) {
                b.add(Conv2d.conv3x3(b.nextKey(), c.unetInChannels(), ch, false));
            } else if (spec.res()) {
                b.add(new ResBlock(b.nextKey(), ch, timeEmbedDim, dropout, mult[spec.level()] * mc, false, ss, false,
                        false));
                ch = mult[spec.level()] * mc;
                if (spec.attention()) {
                    b.add(new AttentionBlock(b.nextKey(), ch, c.numHeads(), c.numHeadChannels(), encoderChannels));
                }
            } else if (c.resblockUpdown()) {
                b.add(new ResBlock(b.nextKey(), ch, timeEmbedDim, dropout, ch, false, ss, false, true));
            } else {
                b.add(new Downsample(b.nextKey(), ch, true, ch));
            }
            inputBlocks.add(b);
            inputBlockChans.push(ch);
        }
        middleBlock = new TimestepEmbedSequential(blocks.middle().prefix());
        middleBlock.add(new ResBlock(middleBlock.nextKey(), ch, timeEmbedDim, dropout, null, false, ss, false, false));
        middleBlock.add(new AttentionBlock(middleBlock.nextKey(), ch, c.numHeads(), c.numHeadChannels(), encoderChannels));
        middleBlock.add(new ResBlock(middleBlock.nextKey(), ch, timeEmbedDim, dropout, null, false, ss, false, false));

        for (UNetBlocks.Block spec : blocks.output()) {
            int ich = inputBlockChans.pop();
            TimestepEmbedSequential b = new TimestepEmbedSequential(spec.prefix());
            b.add(new ResBlock(b.nextKey(), ch + ich, timeEmbedDim, dropout, mc * mult[spec.level()], false, ss, false,
                    false));
            ch = mc * mult[spec.level()];
            if (spec.attention()) {
                b.add(new AttentionBlock(b.nextKey(), ch, headsUp, c.numHeadChannels(), encoderChannels));
            }
            if (spec.resample()) {
                if (c.resblockUpdown()) {
                    b.add(new ResBlock(b.nextKey(), ch, timeEmbedDim, dropout, ch, false, ss, true, false));
                } else {
                    b.add(new Upsample(b.nextKey(), ch, true, ch));
                }
            }
            outputBlocks.add(b);
        }
        outNorm = new GroupNorm32("out.0", ch, 1.0);
        outConv = Conv2d.conv3x3("out.2", inputCh, c.outChannels(), true);
        text = c.xfWidth() > 0 ? new TextEncoder(c) : null;
        downsamplings = mult.length - 1;

        List<ParamSpec> list = new ArrayList<>();
        if (text != null) {
            text.collectDirectParams(list);
        }
        timeEmbed0.collectParams(list);
        timeEmbed2.collectParams(list);
        for (TimestepEmbedSequential b : inputBlocks) {
            b.collectParams(list);
        }
        middleBlock.collectParams(list);
        for (TimestepEmbedSequential b : outputBlocks) {
            b.collectParams(list);
        }
        outNorm.collectParams(list);
        outConv.collectParams(list);
        if (text != null) {
            text.collectModuleParams(list);
        }
        specs = Collections.unmodifiableList(list);
    }

    public GlideModelConfig config() {
        return config;
    }

    /** Every parameter the model expects, in PyTorch {@code state_dict()} order. */
    public List<ParamSpec> parameterSpecs() {
        return specs;
    }

    /** State-dict key -> PyTorch shape of every parameter (for {@code StateDict.checkMatches}). */
    public Map<String, long[]> expectedShapes() {
        return ParameterStore.torchShapes(specs);
    }

    // ---- weights -------------------------------------------------------------------------------------------------

    /** The model's parameters; fails when none were loaded or initialised. */
    public ParameterStore parameters() {
        ParameterStore p = params;
        if (p == null) {
            throw new IllegalStateException("the " + config.modelClass()
                    + " has no parameters yet: call load(path), loadStateDict(...) or initParameters(seed)");
        }
        return p;
    }

    public boolean hasParameters() {
        return params != null;
    }

    /** Replaces the parameters with {@code store}, which must hold exactly this model's keys and shapes. */
    public Text2ImUNet setParameters(ParameterStore store) {
        Map<String, long[]> have = store.torchShapes();
        Map<String, long[]> want = expectedShapes();
        boolean same = have.size() == want.size() && want.entrySet().stream()
                .allMatch(e -> have.containsKey(e.getKey()) && Arrays.equals(have.get(e.getKey()), e.getValue()));
        if (!same) {
            throw new IllegalArgumentException("parameter store does not match this " + config.modelClass()
                    + " (" + have.size() + " tensors given, " + want.size() + " expected)");
        }
        this.params = store;
        return this;
    }

    /** Fresh parameters initialised like a new PyTorch model (glide's zero_module outputs are zero). */
    public Text2ImUNet initParameters(long seed) {
        this.params = ParameterStore.initialise(specs, seed);
        return this;
    }

    /**
     * Loads a state dict strictly (every missing, unexpected and mis-shaped key is reported at once by a
     * {@code StateDictMismatchException}); fp16 tensors are used as float32.
     */
    public Text2ImUNet loadStateDict(StateDict stateDict) {
        this.params = ParameterStore.fromStateDict(specs, stateDict);
        return this;
    }

    /**
     * Loads the parameters tensor by tensor ({@link ParameterStore#read}): {@code shapes} are the checkpoint's
     * tensor shapes under glide's names, {@code reader} gives each as a fresh array.
     */
    public Text2ImUNet readParameters(String source, Map<String, long[]> shapes, ParameterStore.TensorReader reader) {
        this.params = ParameterStore.read(specs, source, shapes, reader);
        return this;
    }

    /**
     * Loads a checkpoint strictly: a PyTorch {@code torch.save(model.state_dict())} file (.pt, fp16 or fp32) or a
     * safetensors file whose tensor names are the state-dict keys. Half-precision tensors are decoded exactly to
     * float32.
     */
    public Text2ImUNet load(Path file) throws IOException {
        return loadStateDict(StateDict.load(file));
    }

    /** The parameters as a PyTorch-layout state dict (fresh float32 arrays) under glide's names. */
    public StateDict stateDict() {
        return parameters().toStateDict();
    }

    /**
     * Saves the parameters as safetensors under their PyTorch state-dict names in PyTorch layout (float32),
     * atomically; the metadata records the model class and its options as JSON.
     */
    public void save(Path file) throws IOException {
        Map<String, String> md = new LinkedHashMap<>();
        md.put("format", "pt");
        md.put("model_class", config.modelClass());
        md.put("options", config.toJson());
        stateDict().save(file, md);
    }

    // ---- forward -------------------------------------------------------------------------------------------------

    /**
     * The network, written once for both back-ends. {@code trace} receives named intermediate results (glide's
     * module names: unet_input, time_embed, transformer, xf_proj, xf_out, emb, input_blocks.i, middle_block,
     * output_blocks.i).
     */
    public <T> T forward(TensorOps<T> ops, UNetInputs<T> in, BiConsumer<String, T> trace) {
        return forward(ops, in, null, trace);
    }

    /**
     * The forward with the text encoder's output given ({@code text}, e.g. computed once by
     * {@link #encodeText} and reused at every diffusion step, as glide's {@code cache_text_emb}); with
     * {@code text == null} it is computed from the inputs' tokens and mask.
     */
    public <T> T forward(TensorOps<T> ops, UNetInputs<T> in, TextEncoder.Output<T> text, BiConsumer<String, T> trace) {
        Objects.requireNonNull(in.x(), "x");
        Objects.requireNonNull(in.timesteps(), "timesteps");
        checkImage(ops, in.x(), "x", config.imageChannels());
        T h = unetInput(ops, in);
        trace.accept("unet_input", h);
        TextEncoder.Output<T> textOut = text;
        if (this.text != null && textOut == null) {
            if (in.tokens() == null) {
                throw new IllegalArgumentException("this " + config.modelClass() + " is text-conditional: tokens [N, "
                        + config.textCtx() + "] are required");
            }
            textOut = encodeText(ops, in.tokens(), in.mask(), trace);
        }
        return forwardUNet(ops, h, in.timesteps(), textOut, trace);
    }

    public <T> T forward(TensorOps<T> ops, UNetInputs<T> in) {
        return forward(ops, in, noTrace());
    }

    @SuppressWarnings("unchecked")
    private static <T> BiConsumer<String, T> noTrace() {
        return (BiConsumer<String, T>) (BiConsumer<String, ?>) NO_TRACE;
    }

    /** glide's {@code get_text_emb}: the text encoder alone (its result can be reused across diffusion steps). */
    public <T> TextEncoder.Output<T> encodeText(TensorOps<T> ops, T tokens, T mask, BiConsumer<String, T> trace) {
        if (text == null) {
            throw new IllegalStateException("this model has no text encoder (xf_width = 0)");
        }
        return text.forward(ops, tokens, mask, trace);
    }

    /** The U-Net given its (already concatenated) input and, for text models, the text encoder's output. */
    public <T> T forwardUNet(TensorOps<T> ops, T h, T timesteps, TextEncoder.Output<T> textOut,
            BiConsumer<String, T> trace) {
        long[] hs = ops.shape(h);
        long n = hs[0];
        long[] ts = ops.shape(timesteps);
        if (ts.length != 1 || ts[0] != n) {
            throw new IllegalArgumentException("timesteps must be [" + n + "], got " + Arrays.toString(ts));
        }
        if (text != null && textOut == null) {
            throw new IllegalArgumentException("this model is text-conditional: the text encoder output is required");
        }
        T emb = ops.block("time_embed", () -> timeEmbed2.forward(ops,
                ops.silu(timeEmbed0.forward(ops, TimestepEmbedding.forward(ops, timesteps, modelChannels)))));
        trace.accept("time_embed", emb);
        T encoderOut = null;
        if (textOut != null) {
            emb = ops.add(emb, textOut.xfProj);
            encoderOut = textOut.xfOut;
        }
        trace.accept("emb", emb);
        Deque<T> skips = new ArrayDeque<>();
        for (int i = 0; i < inputBlocks.size(); i++) {
            h = inputBlocks.get(i).forward(ops, h, emb, encoderOut);
            trace.accept("input_blocks." + i, h);
            skips.push(h);
        }
        h = middleBlock.forward(ops, h, emb, encoderOut);
        trace.accept("middle_block", h);
        for (int i = 0; i < outputBlocks.size(); i++) {
            T skip = skips.pop();
            T next = outputBlocks.get(i).forward(ops, h, skip, emb, encoderOut);
            ops.release(h);
            ops.release(skip);
            h = next;
            trace.accept("output_blocks." + i, h);
        }
        T last = h;
        T out = ops.block("out", () -> outConv.forward(ops, outNorm.forward(ops, last)));
        ops.release(last);
        return out;
    }

    /** The U-Net's input: {@code x} for the base model; subclasses concatenate their conditioning. */
    protected <T> T unetInput(TensorOps<T> ops, UNetInputs<T> in) {
        return ops.toFloat(in.x());
    }

    /** Checks {@code [N, channels, H, W]} with H and W divisible by 2^(levels-1). */
    protected <T> void checkImage(TensorOps<T> ops, T image, String name, int channels) {
        long[] s = ops.shape(image);
        long f = 1L << downsamplings;
        if (s.length != 4 || s[1] != channels || s[2] % f != 0 || s[3] % f != 0 || s[2] == 0 || s[3] == 0) {
            throw new IllegalArgumentException(name + " must be [N, " + channels + ", H, W] with H and W divisible by "
                    + f + " (" + config.channelMultiplier().length + " resolution levels), got " + Arrays.toString(s));
        }
    }

    // ---- eager convenience ---------------------------------------------------------------------------------------

    /**
     * Eager forward of the base model: {@code x [N, 3, H, W]}, {@code timesteps [N]} int64, {@code tokens [N,
     * text_ctx]} int64, {@code mask [N, text_ctx]} bool; returns {@code [N, 6, H, W]}.
     */
    public INDArray forward(INDArray x, INDArray timesteps, INDArray tokens, INDArray mask) {
        return forward(UNetInputs.of(x, timesteps, tokens, mask));
    }

    /** Eager forward inside a workspace; the result is a fresh array outside any workspace. */
    public INDArray forward(UNetInputs<INDArray> in) {
        return forward(in, Precision.FP32);
    }

    /** {@link #forward(UNetInputs)} with convolutions computed as {@code precision} says. */
    public INDArray forward(UNetInputs<INDArray> in, Precision precision) {
        validateEager(in);
        EagerOps ops = new EagerOps(parameters()::get, true, precision);
        return ops.run(() -> forward(ops, in));
    }

    /**
     * Eager text encoder: {@code xf_proj} and {@code xf_out} for {@code tokens [N, text_ctx]} and {@code mask},
     * detached, to pass to {@link #forward(UNetInputs, TextEncoder.Output)} at every diffusion step.
     */
    public TextEncoder.Output<INDArray> encodeText(INDArray tokens, INDArray mask) {
        validateEager(UNetInputs.of(null, null, tokens, mask));
        EagerOps ops = new EagerOps(parameters()::get);
        Map<String, INDArray> out = ops.runAll(() -> {
            TextEncoder.Output<INDArray> o = encodeText(ops, tokens, mask, noTrace());
            Map<String, INDArray> m = new LinkedHashMap<>();
            m.put("xf_proj", o.xfProj);
            m.put("xf_out", o.xfOut);
            return m;
        });
        return new TextEncoder.Output<>(out.get("xf_proj"), out.get("xf_out"));
    }

    /** Eager forward reusing a text encoding from {@link #encodeText(INDArray, INDArray)}. */
    public INDArray forward(UNetInputs<INDArray> in, TextEncoder.Output<INDArray> text) {
        return forward(in, text, Precision.FP32);
    }

    /** {@link #forward(UNetInputs, TextEncoder.Output)} with convolutions computed as {@code precision} says. */
    public INDArray forward(UNetInputs<INDArray> in, TextEncoder.Output<INDArray> text, Precision precision) {
        validateEager(in);
        EagerOps ops = new EagerOps(parameters()::get, true, precision);
        return ops.run(() -> forward(ops, in, text, noTrace()));
    }

    /** Eager forward that also returns every traced intermediate (detached), output under "out". */
    public Map<String, INDArray> forwardWithTrace(UNetInputs<INDArray> in) {
        validateEager(in);
        EagerOps ops = new EagerOps(parameters()::get);
        Map<String, INDArray> traces = new LinkedHashMap<>();
        // copies: the forward releases block outputs once used
        INDArray out = ops.run(() -> forward(ops, in, (k, v) -> traces.put(k, v.isAttached() ? v.detach() : v.dup())));
        traces.put("out", out);
        return traces;
    }

    /** Checks eager inputs beyond shapes: token ids in range and integer / boolean types. */
    protected void validateEager(UNetInputs<INDArray> in) {
        if (in.tokens() != null && text != null) {
            INDArray t = in.tokens();
            if (!t.dataType().isIntType()) {
                throw new IllegalArgumentException("tokens must be an integer tensor (int64), got " + t.dataType());
            }
            if (t.length() > 0) {
                long min = t.minNumber().longValue();
                long max = t.maxNumber().longValue();
                if (min < 0 || max >= config.vocabSize()) {
                    throw new IllegalArgumentException("token ids must be in [0, " + config.vocabSize() + "), found "
                            + (min < 0 ? min : max));
                }
            }
        }
        if (in.mask() != null && in.mask().dataType() != DataType.BOOL && !in.mask().dataType().isIntType()
                && !in.mask().dataType().isFPType()) {
            throw new IllegalArgumentException("mask must be bool, got " + in.mask().dataType());
        }
    }
}
