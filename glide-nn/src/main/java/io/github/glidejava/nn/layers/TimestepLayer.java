package io.github.glidejava.nn.layers;

import io.github.glidejava.nn.ops.TensorOps;

/**
 * A layer inside a U-Net block (glide's TimestepEmbedSequential passes each child what it takes: ResBlocks get the
 * embedding, AttentionBlocks the encoder output, others only x).
 */
public interface TimestepLayer {
    <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut);
}
