package io.github.glidejava.nn.clip;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.layers.LayerNorm;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's clip/encoders.py {@code ImageEncoder} with a timestep table (the noised CLIP): images in 0..255 are
 * normalised with CLIP's channel statistics, cut into patches by a strided convolution without bias, the timestep's
 * row of {@code w_t} is prepended as the first token, {@code w_pos} added, LayerNorm, the transformer blocks (no
 * mask), and the output is {@code f(LayerNorm(h[:, 0]))} (no bias) of that first token. State-dict keys as in
 * {@code image_enc.pt}: {@code blocks.input.*}, {@code blocks.block_<i>.*}, {@code blocks.output.*}.
 */
public final class ImageEncoder {
    /** CLIP's image channel means and standard deviations (0..255 scale), as encoders.py. */
    static final double[] CHANNEL_MEANS = {122.77093945, 116.74601272, 104.09373519};
    static final double[] CHANNEL_STDS = {68.50053285, 66.63215831, 70.32316309};

    private final ClipConfig config;
    private final int width;
    private final int nPatch;
    private final LayerNorm inputLn;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final LayerNorm outputLn;

    public ImageEncoder(ClipConfig config) {
        this.config = config;
        this.width = config.imageWidth();
        this.nPatch = config.imageSize() / config.patchSize();
        this.inputLn = new LayerNorm("blocks.input.ln", width, 1e-5, "g", "b");
        for (int i = 0; i < config.nXfBlocksImage(); i++) {
            blocks.add(new TransformerBlock("blocks.block_" + i, config.nHeadImage(), config.nHeadStateImage()));
        }
        this.outputLn = new LayerNorm("blocks.output.ln", width, 1e-5, "g", "b");
    }

    /** Parameters in state_dict order. */
    public List<ParamSpec> parameterSpecs() {
        List<ParamSpec> out = new ArrayList<>();
        int p = config.patchSize();
        out.add(new ParamSpec("blocks.input.w_t", new long[] {config.nTimesteps(), width}, ParamLayout.TORCH,
                ParamInit.normal(1.0 / Math.sqrt(width))));
        out.add(new ParamSpec("blocks.input.patch_proj", new long[] {width, 3, p, p}, ParamLayout.CONV2D,
                ParamInit.normal(Math.sqrt(2.0 / (width * p * p)))));
        out.add(new ParamSpec("blocks.input.w_pos", new long[] {1 + (long) nPatch * nPatch, width}, ParamLayout.TORCH,
                ParamInit.normal(1.0 / Math.sqrt(width))));
        inputLn.collectParams(out);
        for (TransformerBlock b : blocks) {
            b.collectParams(out);
        }
        outputLn.collectParams(out);
        out.add(new ParamSpec("blocks.output.f.w", new long[] {config.nEmbd(), width}, ParamLayout.TORCH,
                ParamInit.normal(Math.sqrt(2.0 / (width + config.nEmbd())))));
        return out;
    }

    /**
     * {@code images [N, 3, S, S]} in 0..255 (not clamped), {@code timesteps [N]} integer (ORIGINAL diffusion steps)
     * -> raw features {@code [N, n_embd]}. {@code trace} receives the output of {@code input} and of each block.
     */
    public <T> T forward(TensorOps<T> ops, T images, T timesteps, BiConsumer<String, T> trace) {
        long[] s = ops.shape(images);
        int size = config.imageSize();
        if (s.length != 4 || s[1] != 3 || s[2] != size || s[3] != size) {
            throw new IllegalArgumentException("CLIP images must be [N, 3, " + size + ", " + size + "], got " + Arrays.toString(s));
        }
        long n = s[0];
        long[] ts = ops.shape(timesteps);
        if (ts.length != 1 || ts[0] != n) {
            throw new IllegalArgumentException("CLIP timesteps must be [" + n + "] like the images, got " + Arrays.toString(ts));
        }
        T h = ops.block("blocks.input", () -> {
            T x = ops.div(ops.sub(images, channelConstant(ops, CHANNEL_MEANS)), channelConstant(ops, CHANNEL_STDS));
            x = ops.conv2d(x, ops.param("blocks.input.patch_proj"), null, config.patchSize(), 0);   // [N, C, P, P]
            x = ops.permute(ops.reshape(x, n, width, (long) nPatch * nPatch), 0, 2, 1);             // [N, P*P, C]
            T sot = ops.reshape(ops.gatherRows(ops.param("blocks.input.w_t"), timesteps), n, 1, width);
            x = ops.add(ops.concat(1, sot, x), ops.param("blocks.input.w_pos"));
            return inputLn.forward(ops, x);
        });
        trace.accept("input", h);
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).forward(ops, h, null);
            trace.accept("block_" + i, h);
        }
        T first = ops.reshape(ops.slice(h, 1, 0, 1), n, width);
        return ops.linear(outputLn.forward(ops, first), ops.param("blocks.output.f.w"), null);
    }

    private static <T> T channelConstant(TensorOps<T> ops, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return ops.constant(Nd4j.createFromArray(f).castTo(DataType.FLOAT).reshape(1, f.length, 1, 1));
    }
}
