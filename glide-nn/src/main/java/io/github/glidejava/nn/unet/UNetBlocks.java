package io.github.glidejava.nn.unet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The block structure of glide's {@code UNetModel}, the one place that spells it out: which block of
 * {@code input_blocks}, {@code middle_block} and {@code output_blocks} sits at which level, has a ResBlock, an
 * AttentionBlock, or resamples. {@link Text2ImUNet} builds its layers from it, {@link GlideModelConfig} checks the
 * attention heads with it, and checkpoint inspection reads a state dict along it.
 *
 * <pre>
 * input_blocks:  [conv3x3],  per level: num_res_blocks x [ResBlock (+ attention)],  then [downsample] but at the
 *                last level; the downsampling doubles ds (image_size / resolution)
 * middle_block:  [ResBlock, attention, ResBlock] at the last level
 * output_blocks: per level from the last: num_res_blocks + 1 x [ResBlock (+ attention)], the last of each level
 *                but level 0 with an upsampling module after them, which halves ds
 * </pre>
 * Attention is used where ds is one of the attention downsample rates.
 */
public final class UNetBlocks {
    /** Which list a block is in. */
    public enum Part {
        INPUT("input"), MIDDLE("middle"), OUTPUT("output");

        private final String label;

        Part(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * One block ({@code TimestepEmbedSequential}).
     *
     * @param part      input, middle or output
     * @param index     its index in its list (its state-dict prefix is {@code input_blocks.<index>}, ...)
     * @param level     the resolution level (0 = full size) of its ResBlock's output
     * @param ds        image_size / resolution at the block's input
     * @param res       whether it starts with a ResBlock (not: the first convolution, a downsampling block)
     * @param attention whether a ResBlock is followed by an AttentionBlock
     * @param resample  downsampling (an input block of its own) or upsampling (the last module of an output block)
     */
    public record Block(Part part, int index, int level, int ds, boolean res, boolean attention, boolean resample) {
        /** The state-dict prefix of the block, e.g. {@code input_blocks.3} or {@code middle_block}. */
        public String prefix() {
            return part == Part.MIDDLE ? "middle_block" : part.label() + "_blocks." + index;
        }
    }

    private final List<Block> input = new ArrayList<>();
    private final Block middle;
    private final List<Block> output = new ArrayList<>();

    private UNetBlocks(int levels, int numResBlocks, int[] attentionDs) {
        if (levels < 1 || numResBlocks < 1) {
            throw new IllegalArgumentException("a U-Net needs >= 1 level and >= 1 res block per level, got " + levels
                    + " levels and " + numResBlocks + " res blocks");
        }
        input.add(new Block(Part.INPUT, 0, 0, 1, false, false, false));
        int ds = 1;
        for (int level = 0; level < levels; level++) {
            for (int r = 0; r < numResBlocks; r++) {
                input.add(new Block(Part.INPUT, input.size(), level, ds, true, contains(attentionDs, ds), false));
            }
            if (level != levels - 1) {
                input.add(new Block(Part.INPUT, input.size(), level, ds, false, false, true));
                ds *= 2;
            }
        }
        middle = new Block(Part.MIDDLE, 0, levels - 1, ds, true, true, false);
        for (int level = levels - 1; level >= 0; level--) {
            for (int i = 0; i <= numResBlocks; i++) {
                boolean up = level > 0 && i == numResBlocks;
                output.add(new Block(Part.OUTPUT, output.size(), level, ds, true, contains(attentionDs, ds), up));
                if (up) {
                    ds /= 2;
                }
            }
        }
    }

    /**
     * The blocks of a U-Net with {@code levels} resolution levels ({@code len(channel_mult)}), {@code numResBlocks}
     * per level, and attention at the downsample rates {@code attentionDs}.
     */
    public static UNetBlocks of(int levels, int numResBlocks, int[] attentionDs) {
        return new UNetBlocks(levels, numResBlocks, attentionDs.clone());
    }

    static UNetBlocks of(int[] channelMult, int numResBlocks, int[] attentionDs) {
        return of(channelMult.length, numResBlocks, attentionDs);
    }

    /** {@code input_blocks}, in order. */
    public List<Block> input() {
        return Collections.unmodifiableList(input);
    }

    public Block middle() {
        return middle;
    }

    /** {@code output_blocks}, in order. */
    public List<Block> output() {
        return Collections.unmodifiableList(output);
    }

    /** Every block with an AttentionBlock: input, middle, output. */
    public List<Block> attentionBlocks() {
        List<Block> out = new ArrayList<>();
        input.stream().filter(Block::attention).forEach(out::add);
        out.add(middle);
        output.stream().filter(Block::attention).forEach(out::add);
        return out;
    }

    private static boolean contains(int[] a, int v) {
        return Arrays.stream(a).anyMatch(x -> x == v);
    }
}
