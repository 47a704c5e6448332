package io.github.glidejava.nn.params;

import java.util.Arrays;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How a parameter is stored relative to its PyTorch layout. Convolution weights are kept as YXIO
 * {@code [kH, kW, in, out]} because SameDiff's conv2d backward (ND4J M2.1) ignores the OIYX weight format and
 * computes wrong gradients; they are converted when a state dict is loaded and converted back when one is saved.
 */
public enum ParamLayout {
    /** Stored exactly as in PyTorch. */
    TORCH,
    /** torch Conv2d weight {@code [out, in, kH, kW]} stored as {@code [kH, kW, in, out]}. */
    CONV2D,
    /** torch Conv1d weight with kernel 1, {@code [out, in, 1]}, stored as a 1x1 conv2d weight {@code [1, 1, in, out]}. */
    CONV1D;

    /** The stored shape of a parameter whose PyTorch shape is {@code torch}. */
    public long[] storedShape(long[] torch) {
        switch (this) {
            case CONV2D:
                requireRank(torch, 4);
                return new long[] {torch[2], torch[3], torch[1], torch[0]};
            case CONV1D:
                requireRank(torch, 3);
                if (torch[2] != 1) {
                    throw new IllegalArgumentException("only kernel-size-1 Conv1d weights are supported, got shape "
                            + Arrays.toString(torch));
                }
                return new long[] {1, 1, torch[1], torch[0]};
            default:
                return torch.clone();
        }
    }

    /** Converts a float32 tensor in PyTorch layout to a fresh C-order array in this layout. */
    public INDArray fromTorch(INDArray torch) {
        switch (this) {
            case CONV2D:
                return torch.permute(2, 3, 1, 0).dup('c');
            case CONV1D:
                return torch.reshape('c', torch.size(0), torch.size(1), 1, 1).permute(2, 3, 1, 0).dup('c');
            default:
                return torch.dup('c');
        }
    }

    /** Converts a stored tensor back to a fresh C-order array in PyTorch layout. */
    public INDArray toTorch(INDArray stored) {
        switch (this) {
            case CONV2D:
                return stored.permute(3, 2, 0, 1).dup('c');
            case CONV1D:
                return stored.permute(3, 2, 0, 1).dup('c').reshape('c', stored.size(3), stored.size(2), 1);
            default:
                return stored.dup('c');
        }
    }

    private static void requireRank(long[] shape, int rank) {
        if (shape.length != rank) {
            throw new IllegalArgumentException("expected a rank-" + rank + " weight, got shape " + Arrays.toString(shape));
        }
    }
}
