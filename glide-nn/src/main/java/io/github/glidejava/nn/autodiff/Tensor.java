package io.github.glidejava.nn.autodiff;

import java.util.Arrays;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One value recorded by {@link TapeOps}: an operation's result (a node of the tape), a parameter, a constant or an
 * input. After {@link TapeOps#backward} the values of operation results are freed ({@link #value()} then fails);
 * an input created with {@code requiresGrad} keeps its value and holds its gradient in {@link #grad()}.
 */
public final class Tensor {
    /** What the backward pass of the operation that made a tensor does with the gradient of its result. */
    @FunctionalInterface
    interface Backward {
        /**
         * @param grad the gradient w.r.t. the result; the callee owns it (passes it on or closes it)
         * @param out  the result's value (still alive)
         */
        void apply(INDArray grad, INDArray out);
    }

    enum Kind { OP, PARAM, CONSTANT, INPUT }

    final Kind kind;
    final long[] shape;
    final boolean requiresGrad;
    /** The state-dict key of a parameter. */
    final String key;
    INDArray value;
    /** The array whose buffer this tensor owns and frees (its value, or the array a view was taken of), or null. */
    INDArray owner;
    Backward backward;
    /** The operation that made an OP tensor (for profiles and messages). */
    String op;
    /** The gradient accumulated so far during backward; the final gradient of an input. */
    INDArray grad;

    Tensor(Kind kind, INDArray value, INDArray owner, boolean requiresGrad, String key, Backward backward) {
        this.kind = kind;
        this.value = value;
        this.owner = owner;
        this.shape = value.shape();
        this.requiresGrad = requiresGrad;
        this.key = key;
        this.backward = backward;
    }

    /** The value; fails once backward (or {@link TapeOps#clear()}) has freed it. */
    public INDArray value() {
        if (value == null) {
            throw new IllegalStateException("this " + Arrays.toString(shape) + " activation was freed by backward"
                    + " (read values before calling backward)");
        }
        return value;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Whether a gradient flows to this tensor (it depends on a trainable parameter or a requiresGrad input). */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * The gradient of the last backward pass w.r.t. this tensor, for an input created with {@code requiresGrad}
     * (null if no gradient reached it); null for every other tensor.
     */
    public INDArray grad() {
        return kind == Kind.INPUT ? grad : null;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + (key != null ? " " + key : "") + " " + kind.name().toLowerCase()
                + (requiresGrad ? " requires grad" : "");
    }
}
