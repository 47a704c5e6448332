package io.github.glidejava.nn.clip;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.core.text.ClipTokenizer;
import io.github.glidejava.nn.autodiff.Gradients;
import io.github.glidejava.nn.autodiff.TapeOps;
import io.github.glidejava.nn.autodiff.Tensor;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * glide's noised CLIP ({@code glide_text2im/clip/model_creation.py} {@code CLIPModel}): an image encoder that sees
 * noisy images x_t together with their diffusion timestep, a text encoder, and the guidance gradient
 * {@link #condGradient} that CLIP-guided sampling adds at every step.
 *
 * <p>Embeddings are L2-normalised ({@code z / (|z| + 1e-12)}); images enter {@link #imageEmbeddings} in [-1, 1] and
 * are mapped to 0..255 without clamping. {@code logit_scale} is {@code float32(log(config.logit_scale))}, as the
 * reference creates it (it is not stored in the checkpoints).
 */
public final class ClipModel {
    private final ClipConfig config;
    private final ImageEncoder imageEncoder;
    private final TextEncoder textEncoder;
    private final ParameterStore imageParams;
    private final ParameterStore textParams;
    private final Gradients noParameterGradients;

    private ClipModel(ClipConfig config, ParameterStore imageParams, ParameterStore textParams) {
        this.config = config;
        this.imageEncoder = new ImageEncoder(config);
        this.textEncoder = new TextEncoder(config);
        this.imageParams = imageParams;
        this.textParams = textParams;
        // No key is trainable: the tape treats every parameter as a constant and keeps no parameter gradient.
        this.noParameterGradients = Gradients.zerosLike(imageParams, k -> false);
    }

    /**
     * Loads {@code image-enc} and {@code text-enc} checkpoints (PyTorch .pt or safetensors, keys as glide's
     * {@code state_dict()}) strictly: every missing, unexpected or mis-shaped key of either file is reported at once.
     */
    public static ClipModel load(ClipConfig config, Path imageEncoderFile, Path textEncoderFile) throws IOException {
        return fromStateDicts(config, StateDict.load(imageEncoderFile), StateDict.load(textEncoderFile));
    }

    /** {@link #load} from state dicts already read. */
    public static ClipModel fromStateDicts(ClipConfig config, StateDict imageEncoder, StateDict textEncoder) {
        Objects.requireNonNull(config, "config");
        GlideBackend.init();
        ParameterStore image = ParameterStore.fromStateDict(new ImageEncoder(config).parameterSpecs(), imageEncoder);
        ParameterStore text = ParameterStore.fromStateDict(new TextEncoder(config).parameterSpecs(), textEncoder);
        return new ClipModel(config, image, text);
    }

    /** Random weights (tests, benchmarks). */
    public static ClipModel initialise(ClipConfig config, long seed) {
        GlideBackend.init();
        return new ClipModel(config, ParameterStore.initialise(new ImageEncoder(config).parameterSpecs(), seed),
                ParameterStore.initialise(new TextEncoder(config).parameterSpecs(), seed + 1));
    }

    public ClipConfig config() {
        return config;
    }

    public ImageEncoder imageEncoder() {
        return imageEncoder;
    }

    public TextEncoder textEncoder() {
        return textEncoder;
    }

    public ParameterStore imageParameters() {
        return imageParams;
    }

    public ParameterStore textParameters() {
        return textParams;
    }

    /** {@code exp(logit_scale)} in float32: {@code exp(float32(log(100)))} = 100.00000762939453, not 100. */
    public float expLogitScale() {
        return (float) Math.exp((float) Math.log(config.logitScale()));
    }

    // ---- text -------------------------------------------------------------------------------------------------

    /** CLIPModel's {@code encode_prompts} with the bundled CLIP tokenizer and this model's text length. */
    public ClipTokenizer.Batch encodePrompts(List<String> prompts) {
        return ClipTokenizer.clip().encodeBatch(prompts, config.maxTextLen());
    }

    /** CLIPModel's {@code text_embeddings(prompts)}: {@code [N, n_embd]}, unit length. */
    public INDArray textEmbeddings(List<String> prompts) {
        ClipTokenizer.Batch b = encodePrompts(prompts);
        return textEmbeddings(b.tokens(), b.lengths());
    }

    /** Normalised text features of {@code tokens [N, max_text_len]} int64 and {@code textLen [N]}. */
    public INDArray textEmbeddings(INDArray tokens, INDArray textLen) {
        return runText(tokens, textLen, true, null).get("out");
    }

    /** Raw text features and the output of {@code input} and of every block (keys as the traces: input, block_i). */
    public Map<String, INDArray> textFeaturesWithTrace(INDArray tokens, INDArray textLen) {
        Map<String, INDArray> traces = new LinkedHashMap<>();
        INDArray out = runText(tokens, textLen, false, traces).get("out");
        traces.put("out", out);
        return traces;
    }

    private Map<String, INDArray> runText(INDArray tokens, INDArray textLen, boolean normalise, Map<String, INDArray> traces) {
        checkTokens(tokens);
        EagerOps ops = new EagerOps(textParams::get);
        BiConsumer<String, INDArray> trace = traces == null ? (k, v) -> { } : (k, v) -> traces.put(k, v.detach());
        return ops.runAll(() -> {
            INDArray z = textEncoder.forward(ops, tokens, textLen, trace);
            return Map.of("out", normalise ? normalise(ops, z) : z);
        });
    }

    private void checkTokens(INDArray tokens) {
        if (tokens.dataType().isFPType() || tokens.dataType() == DataType.BOOL) {
            throw new IllegalArgumentException("CLIP tokens must be integer ids, got " + tokens.dataType());
        }
        if (tokens.length() > 0) {
            long min = tokens.minNumber().longValue();
            long max = tokens.maxNumber().longValue();
            if (min < 0 || max >= config.nVocab()) {
                throw new IllegalArgumentException("CLIP token ids must be in 0.." + (config.nVocab() - 1) + ", got "
                        + min + ".." + max);
            }
        }
    }

    // ---- images -----------------------------------------------------------------------------------------------

    /** CLIPModel's {@code image_embeddings(x, t)}: x in [-1, 1] {@code [N, 3, S, S]}, ORIGINAL timesteps {@code [N]}. */
    public INDArray imageEmbeddings(INDArray x, INDArray timesteps) {
        checkTimesteps(timesteps);
        EagerOps ops = new EagerOps(imageParams::get);
        return ops.run(() -> imageEmbeddings(ops, x, timesteps));
    }

    /** Raw image features of images in 0..255 and the output of {@code input} and of every block. */
    public Map<String, INDArray> imageFeaturesWithTrace(INDArray images255, INDArray timesteps) {
        checkTimesteps(timesteps);
        EagerOps ops = new EagerOps(imageParams::get);
        Map<String, INDArray> traces = new LinkedHashMap<>();
        INDArray out = ops.run(() -> imageEncoder.forward(ops, images255, timesteps, (k, v) -> traces.put(k, v.detach())));
        traces.put("out", out);
        return traces;
    }

    private <T> T imageEmbeddings(TensorOps<T> ops, T x, T timesteps) {
        T images255 = ops.mul(ops.add(x, 1.0), 127.5);
        return normalise(ops, imageEncoder.forward(ops, images255, timesteps, (k, v) -> { }));
    }

    private void checkTimesteps(INDArray timesteps) {
        if (timesteps.dataType().isFPType() || timesteps.dataType() == DataType.BOOL) {
            throw new IllegalArgumentException("CLIP timesteps must be integer (original diffusion steps), got "
                    + timesteps.dataType());
        }
        if (timesteps.length() > 0) {
            long min = timesteps.minNumber().longValue();
            long max = timesteps.maxNumber().longValue();
            if (min < 0 || max >= config.nTimesteps()) {
                throw new IllegalArgumentException("CLIP timesteps must be in 0.." + (config.nTimesteps() - 1)
                        + " (original, un-respaced steps), got " + min + ".." + max);
            }
        }
    }

    /** {@code z / (|z| + 1e-12)} along the last axis of {@code [N, D]}. */
    private static <T> T normalise(TensorOps<T> ops, T z) {
        long d = ops.shape(z)[1];
        T norm = ops.sqrt(ops.mul(ops.mean(ops.square(z), true, 1), (double) d));
        return ops.div(z, ops.add(norm, 1e-12));
    }

    // ---- guidance ---------------------------------------------------------------------------------------------

    /**
     * CLIPModel's {@code cond_fn(prompts, gradScale)(x, t)}: {@code gradScale * d/dx [exp(logit_scale) *
     * sum(textEmbeddings * imageEmbeddings(x, t))]}, the sum over the whole batch (row i of x pairs with row i of
     * {@code textEmbeddings}). Reverse-mode on the tape back-end with every parameter a constant.
     *
     * @param textEmbeddings {@code [N, n_embd]} from {@link #textEmbeddings}
     * @param x              float32 {@code [N, 3, S, S]}, the noisy sample x_t
     * @param timesteps      int64 {@code [N]}, ORIGINAL diffusion timesteps
     */
    public INDArray condGradient(INDArray textEmbeddings, INDArray x, INDArray timesteps, double gradScale) {
        checkTimesteps(timesteps);
        long n = x.size(0);
        if (textEmbeddings.rank() != 2 || textEmbeddings.size(0) != n || textEmbeddings.size(1) != config.nEmbd()) {
            throw new IllegalArgumentException("CLIP guidance needs one text embedding [" + n + ", " + config.nEmbd()
                    + "] per image row, got " + Arrays.toString(textEmbeddings.shape()));
        }
        if (x.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("CLIP guidance takes a float32 x, got " + x.dataType());
        }
        TapeOps ops = new TapeOps(imageParams, noParameterGradients);
        Tensor xIn = ops.input(x, true);
        Tensor z = imageEmbeddings(ops, xIn, ops.input(timesteps, false));
        // d(exp(ls) * sum(z_t * z_i)) / d z_i = exp(ls) * z_t, the seed torch's autograd forms too.
        ops.backward(z, textEmbeddings.castTo(DataType.FLOAT).mul(expLogitScale()));
        return xIn.grad().mul(gradScale);
    }

    /** The score that {@link #condGradient} differentiates: {@code exp(logit_scale) * sum(z_text * z_image)}. */
    public double score(INDArray textEmbeddings, INDArray x, INDArray timesteps) {
        INDArray zi = imageEmbeddings(x, timesteps);
        return textEmbeddings.castTo(DataType.FLOAT).mul(zi).sumNumber().floatValue() * expLogitScale();
    }

    @Override
    public String toString() {
        return "ClipModel" + config.toJson();
    }
}
