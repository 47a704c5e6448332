package io.github.glidejava.diffusion.training;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.nn.autodiff.Gradients;
import io.github.glidejava.nn.autodiff.TapeOps;
import io.github.glidejava.nn.autodiff.Tensor;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * One optimisation step, as improved-diffusion's {@code TrainLoop.run_step} with gradient clipping: for each
 * micro-batch the U-Net runs on the tape back-end, the training losses are weighted by the timestep sampler's
 * importance weights and averaged over the whole batch, and backward adds the gradients up; then the global norm is
 * clipped, AdamW steps and every EMA follows. Inputs come ready-made (captions dropped, timesteps and noise drawn),
 * so the same step reproduces a reference step from its stored inputs.
 */
final class TrainingStep {
    private final Text2ImUNet model;
    private final io.github.glidejava.diffusion.loss.TrainingLosses losses;
    private final Optimisation optimisation;
    private final Gradients grads;
    private final Precision precision;

    TrainingStep(Text2ImUNet model, io.github.glidejava.diffusion.loss.TrainingLosses losses,
                 Optimisation optimisation, Precision precision) {
        this.model = model;
        this.losses = losses;
        this.optimisation = optimisation;
        this.grads = optimisation.gradients();
        this.precision = precision;
    }

    /**
     * The inputs of one step.
     *
     * @param xStart  {@code [B, 3, S, S]} images in [-1, 1]
     * @param t       {@code [B]} timesteps
     * @param noise   {@code [B, 3, S, S]}
     * @param tokens  {@code [B, text_ctx]} int64, after caption dropout
     * @param mask    {@code [B, text_ctx]} bool
     * @param lowRes  {@code [B, 3, s, s]} for super-resolution models, else null
     * @param weights {@code [B]} importance weights of the timesteps
     * @param dropoutSeed seed of the U-Net's dropout masks
     */
    record Inputs(INDArray xStart, int[] t, INDArray noise, INDArray tokens, INDArray mask, INDArray lowRes,
                  double[] weights, long dropoutSeed) {
        int batch() {
            return t.length;
        }
    }

    /**
     * The losses of every row, the weighted mean that was differentiated, what the optimiser did, and where the
     * time went (forward with the losses, backward, clipping + AdamW + EMA).
     */
    record Result(double lossMean, double[] loss, double[] mse, double[] vb, double gradNorm, double lr,
                  double forwardSeconds, double backwardSeconds, double optimiserSeconds) {
    }

    private long forwardNanos;
    private long backwardNanos;
    private double[] lastLoss;
    private double[] lastMse;
    private double[] lastVb;
    private double lastLossMean;

    Result run(Inputs in, int microBatch, double lr) {
        Gradients g = computeGradients(in, microBatch);
        long t0 = System.nanoTime();
        double norm = optimisation.step(lr);
        double optimiser = (System.nanoTime() - t0) / 1e9;
        return new Result(lastLossMean, lastLoss, lastMse, lastVb, norm, lr, forwardNanos / 1e9, backwardNanos / 1e9,
                optimiser);
    }

    /**
     * Forward and backward over every micro-batch: afterwards {@link Optimisation#gradients()} holds the gradient of
     * the batch's weighted mean loss (not yet clipped).
     */
    Gradients computeGradients(Inputs in, int microBatch) {
        int n = in.batch();
        lastLoss = new double[n];
        lastMse = new double[n];
        lastVb = new double[n];
        lastLossMean = 0;
        grads.zero();
        forwardNanos = 0;
        backwardNanos = 0;
        for (int from = 0; from < n; from += microBatch) {
            int to = Math.min(n, from + microBatch);
            lastLossMean += microStep(in, from, to, n, lastLoss, lastMse, lastVb);
        }
        return grads;
    }

    /** The loss terms of every row of the last {@link #computeGradients}. */
    double[] lastLoss() {
        return lastLoss.clone();
    }

    double lastLossMean() {
        return lastLossMean;
    }

    /** Forward and backward of rows [from, to); returns their share of the batch's weighted mean loss. */
    private double microStep(Inputs in, int from, int to, int batch, double[] loss, double[] mse, double[] vb) {
        long t0 = System.nanoTime();
        TapeOps ops = new TapeOps(model.parameters(), grads).training(true).dropoutSeed(in.dropoutSeed() + from)
                .convPrecision(precision);
        int[] t = java.util.Arrays.copyOfRange(in.t(), from, to);
        Tensor tokens = ops.input(rows(in.tokens(), from, to), false);
        Tensor mask = ops.input(rows(in.mask(), from, to), false);
        Tensor lowRes = in.lowRes() == null ? null : ops.input(rows(in.lowRes(), from, to), false);
        var terms = losses.compute(ops, (xT, timesteps) -> {
            UNetInputs<Tensor> u = UNetInputs.of(xT, timesteps, tokens, mask);
            return model.forward(ops, lowRes == null ? u : u.withLowRes(lowRes));
        }, rows(in.xStart(), from, to), t, rows(in.noise(), from, to));
        double[] w = java.util.Arrays.copyOfRange(in.weights(), from, to);
        // (terms.loss * weights).mean() over the whole batch: this micro-batch contributes its mean * rows / batch
        Tensor share = ops.mul(io.github.glidejava.diffusion.loss.TrainingLosses.weightedMean(ops, terms.loss(),
                Nd4j.createFromArray(toFloat(w))), (double) (to - from) / batch);
        double value = share.value().getDouble(0);
        copyRows(terms.loss(), loss, from);
        copyRows(terms.mse(), mse, from);
        copyRows(terms.vb(), vb, from);
        long t1 = System.nanoTime();
        ops.backward(share);
        forwardNanos += t1 - t0;
        backwardNanos += System.nanoTime() - t1;
        return value;
    }

    private static void copyRows(Tensor v, double[] out, int from) {
        if (v == null) {
            java.util.Arrays.fill(out, from, out.length, Double.NaN);
            return;
        }
        double[] d = v.value().toDoubleVector();
        System.arraycopy(d, 0, out, from, d.length);
    }

    private static INDArray rows(INDArray x, int from, int to) {
        return from == 0 && to == x.size(0) ? x : io.github.glidejava.diffusion.BatchOps.rows(x, from, to);
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
