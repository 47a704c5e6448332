package io.github.glidejava.nn.clip;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.layers.LayerNorm;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;

/**
 * glide's clip/encoders.py {@code TextEncoder}: {@code w_voc[tokens] + w_pos}, transformer blocks with a causal
 * mask, then {@code f(LayerNorm(h[:, text_len - 1]))} (no bias) of each prompt's end token. Padding after the end
 * token cannot influence it. State-dict keys as in {@code text_enc.pt}.
 */
public final class TextEncoder {
    /** What the reference adds to the logits of masked positions. */
    private static final float MASKED = -1e10f;

    private final ClipConfig config;
    private final int width;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final LayerNorm outputLn;

    public TextEncoder(ClipConfig config) {
        this.config = config;
        this.width = config.textWidth();
        for (int i = 0; i < config.nXfBlocksText(); i++) {
            blocks.add(new TransformerBlock("blocks.block_" + i, config.nHeadText(), config.nHeadStateText()));
        }
        this.outputLn = new LayerNorm("blocks.output.ln", width, 1e-5, "g", "b");
    }

    /** Parameters in state_dict order. */
    public List<ParamSpec> parameterSpecs() {
        List<ParamSpec> out = new ArrayList<>();
        out.add(new ParamSpec("blocks.input.w_voc", new long[] {config.nVocab(), width}, ParamLayout.TORCH, ParamInit.normal(0.02)));
        out.add(new ParamSpec("blocks.input.w_pos", new long[] {config.maxTextLen(), width}, ParamLayout.TORCH, ParamInit.normal(0.01)));
        for (TransformerBlock b : blocks) {
            b.collectParams(out);
        }
        outputLn.collectParams(out);
        out.add(new ParamSpec("blocks.output.f.w", new long[] {config.nEmbd(), width}, ParamLayout.TORCH,
                ParamInit.normal(Math.sqrt(2.0 / (width + config.nEmbd())))));
        return out;
    }

    /**
     * {@code tokens [N, max_text_len]} integer ids, {@code textLen [N]} the number of framed tokens of each prompt
     * (1..max_text_len) -> raw features {@code [N, n_embd]}. {@code trace} receives the output of {@code input} and
     * of each block.
     */
    public <T> T forward(TensorOps<T> ops, T tokens, INDArray textLen, BiConsumer<String, T> trace) {
        long[] s = ops.shape(tokens);
        int ctx = config.maxTextLen();
        if (s.length != 2 || s[1] != ctx) {
            throw new IllegalArgumentException("CLIP tokens must be [N, " + ctx + "], got " + Arrays.toString(s));
        }
        long n = s[0];
        if (textLen.rank() != 1 || textLen.length() != n) {
            throw new IllegalArgumentException("CLIP text lengths must be [" + n + "] like the tokens, got "
                    + Arrays.toString(textLen.shape()));
        }
        long[] lastRows = new long[(int) n];
        for (int i = 0; i < n; i++) {
            long len = textLen.getLong(i);
            if (len < 1 || len > ctx) {
                throw new IllegalArgumentException("CLIP text length of prompt " + i + " is " + len + ", expected 1.." + ctx);
            }
            lastRows[i] = i * (long) ctx + len - 1;
        }
        T h = ops.block("blocks.input", () -> {
            T ids = ops.reshape(tokens, n * ctx);
            T emb = ops.reshape(ops.gatherRows(ops.param("blocks.input.w_voc"), ids), n, ctx, width);
            return ops.add(emb, ops.param("blocks.input.w_pos"));
        });
        trace.accept("input", h);
        T causal = ops.constant(causalBias(ctx));
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).forward(ops, h, causal);
            trace.accept("block_" + i, h);
        }
        T last = ops.gatherRows(ops.reshape(h, n * ctx, width), ops.constant(Nd4j.createFromArray(lastRows)));
        return ops.linear(outputLn.forward(ops, last), ops.param("blocks.output.f.w"), null);
    }

    /** {@code [T, T]}: 0 where key <= query, -1e10 after. */
    static INDArray causalBias(int ctx) {
        float[][] m = new float[ctx][ctx];
        for (int q = 0; q < ctx; q++) {
            for (int k = q + 1; k < ctx; k++) {
                m[q][k] = MASKED;
            }
        }
        return Nd4j.createFromArray(m);
    }
}
