package io.github.glidejava.diffusion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Feeds recorded noise tensors back in order (parity tests against recorded reference runs, or re-running a
 * sample). Each draw must request exactly the recorded shape.
 */
public final class ReplayNoise implements NoiseSource {
    private final List<INDArray> draws;
    private int next;

    public ReplayNoise(List<INDArray> draws) {
        this.draws = new ArrayList<>(draws);
    }

    /** One draw per slice along dimension 0 of {@code stacked} (e.g. a recorded {@code [steps, N, C, H, W]}). */
    public static ReplayNoise ofStacked(INDArray stacked) {
        List<INDArray> list = new ArrayList<>();
        for (long i = 0; i < stacked.size(0); i++) {
            list.add(BatchOps.rows(stacked, i, i + 1).reshape(Arrays.copyOfRange(stacked.shape(), 1, stacked.rank())));
        }
        return new ReplayNoise(list);
    }

    public static ReplayNoise of(INDArray... draws) {
        return new ReplayNoise(Arrays.asList(draws));
    }

    /** Draws used so far. */
    public int used() {
        return next;
    }

    /** Draws left. */
    public int remaining() {
        return draws.size() - next;
    }

    @Override
    public INDArray next(long... shape) {
        if (next >= draws.size()) {
            throw new IllegalStateException("replay noise exhausted: " + draws.size() + " recorded draws, draw #"
                    + (next + 1) + " requested with shape " + Arrays.toString(shape));
        }
        INDArray d = draws.get(next);
        if (!Arrays.equals(d.shape(), shape)) {
            throw new IllegalArgumentException("replay noise draw #" + (next + 1) + " has shape "
                    + Arrays.toString(d.shape()) + " but " + Arrays.toString(shape) + " was requested");
        }
        next++;
        return d.dup();
    }
}
