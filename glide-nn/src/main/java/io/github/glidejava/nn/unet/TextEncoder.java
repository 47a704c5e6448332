package io.github.glidejava.nn.unet;

import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

import io.github.glidejava.nn.layers.Embedding;
import io.github.glidejava.nn.layers.LayerNorm;
import io.github.glidejava.nn.layers.Linear;
import io.github.glidejava.nn.ops.TensorOps;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamLayout;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.xf.Transformer;

/**
 * The text side of Text2ImUNet ({@code get_text_emb}): token embedding + positional embedding,
 * padded positions REPLACED by {@code padding_embedding[pos]}, the transformer (no attention mask), final LayerNorm,
 * {@code xf_proj = transformer_proj(xf_out[:, -1])} of the LAST position and {@code xf_out} permuted to
 * {@code [N, C, L]}.
 */
public final class TextEncoder {
    private final int ctx;
    private final int width;
    private final int vocab;
    private final boolean padding;
    private final Embedding tokenEmbedding;
    private final Transformer transformer;
    private final LayerNorm finalLn;
    private final Linear proj;

    TextEncoder(GlideModelConfig c) {
        this.ctx = c.textCtx();
        this.width = c.xfWidth();
        this.vocab = c.vocabSize();
        this.padding = c.xfPadding();
        this.tokenEmbedding = new Embedding("token_embedding", vocab, width);
        this.transformer = new Transformer("transformer", width, c.xfLayers(), c.xfHeads());
        this.finalLn = c.xfFinalLn() ? new LayerNorm("final_ln", width) : null;
        this.proj = new Linear("transformer_proj", width, c.numChannels() * 4);
    }

    /** The parameters registered directly on the model (state_dict puts them first). */
    void collectDirectParams(List<ParamSpec> out) {
        out.add(new ParamSpec("positional_embedding", new long[] {ctx, width}, ParamLayout.TORCH, ParamInit.normal(0.01)));
        if (padding) {
            out.add(new ParamSpec("padding_embedding", new long[] {ctx, width}, ParamLayout.TORCH, ParamInit.normal(0.01)));
        }
    }

    /** The sub-module parameters (after the U-Net's in state_dict order). */
    void collectModuleParams(List<ParamSpec> out) {
        transformer.collectParams(out);
        if (finalLn != null) {
            finalLn.collectParams(out);
        }
        tokenEmbedding.collectParams(out);
        proj.collectParams(out);
    }

    /** The two outputs of {@code get_text_emb}. */
    public static final class Output<T> {
        /** {@code [N, 4 * model_channels]}, added to the timestep embedding. */
        public final T xfProj;
        /** {@code [N, xf_width, text_ctx]}, keys / values for the U-Net's attention blocks. */
        public final T xfOut;

        public Output(T xfProj, T xfOut) {
            this.xfProj = xfProj;
            this.xfOut = xfOut;
        }
    }

    /** {@code tokens [N, text_ctx]} (integer ids), {@code mask [N, text_ctx]} (bool or 0/1; needed with padding). */
    <T> Output<T> forward(TensorOps<T> ops, T tokens, T mask, BiConsumer<String, T> trace) {
        long[] ts = ops.shape(tokens);
        if (ts.length != 2 || ts[1] != ctx) {
            throw new IllegalArgumentException("tokens must be [N, " + ctx + "], got " + Arrays.toString(ts));
        }
        long n = ts[0];
        T xfIn = tokenEmbedding.forward(ops, tokens);
        xfIn = ops.add(xfIn, ops.param("positional_embedding"));
        if (padding) {
            if (mask == null) {
                throw new IllegalArgumentException("this model uses xf_padding and needs a mask [N, " + ctx + "]");
            }
            long[] ms = ops.shape(mask);
            if (!Arrays.equals(ms, ts)) {
                throw new IllegalArgumentException("mask must be [" + n + ", " + ctx + "] like tokens, got " + Arrays.toString(ms));
            }
            T m = ops.reshape(ops.toFloat(mask), n, ctx, 1);
            xfIn = ops.select(m, xfIn, ops.param("padding_embedding"));
        }
        T xfOut = transformer.forward(ops, xfIn);
        trace.accept("transformer", xfOut);
        if (finalLn != null) {
            xfOut = finalLn.forward(ops, xfOut);
        }
        T last = ops.reshape(ops.slice(xfOut, 1, ctx - 1, ctx), n, width);
        T xfProj = proj.forward(ops, last);
        T xfOutNcl = ops.permute(xfOut, 0, 2, 1);
        trace.accept("xf_proj", xfProj);
        trace.accept("xf_out", xfOutNcl);
        return new Output<>(xfProj, xfOutNcl);
    }
}
