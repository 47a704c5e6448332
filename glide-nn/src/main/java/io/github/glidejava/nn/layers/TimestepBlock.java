package io.github.glidejava.nn.layers;

import io.github.glidejava.nn.ops.TensorOps;

/**
 * glide's {@code TimestepBlock}: a layer inside a U-Net block ({@code TimestepEmbedSequential}), which hands each
 * child x, the timestep embedding and the encoder output. glide checks each child's type to pass only what it takes
 * (ResBlocks the embedding, AttentionBlocks the encoder output, others x alone); here every child takes all three
 * and uses what it needs.
 */
public interface TimestepBlock {
    <T> T forward(TensorOps<T> ops, T x, T emb, T encoderOut);
}
