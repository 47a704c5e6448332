package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;

/**
 * DPM-Solver++(2M) (Lu et al. 2022), multistep data-prediction solver of the probability-flow ODE, as diffusers'
 * {@code DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2, solver_type="midpoint")}.
 * With {@code lambda = log(alpha / sigma)}, {@code alpha = sqrt(ab)}, {@code sigma = sqrt(1 - ab)} and
 * {@code h = lambda_next - lambda}:
 * <pre>
 *   x_next = (sigma_next / sigma) x + alpha_next (1 - e^-h) (D + (D - D_prev) / (2 r)),   r = h_prev / h
 * </pre>
 * The first step is first order (no history) and so is the final step into the clean sample (sigma = 0, which
 * makes it {@code x = D}), the "lower order final" behaviour. Deterministic: it draws no noise. Uses only the
 * eps channels of the model output (learned variance channels are ignored). Stateful, see {@link Sampler}.
 * Order 1 (DPM-Solver++(1)) is the same method as DDIM with eta = 0.
 */
public final class DpmSolverMultistepSampler extends AbstractSampler {
    private final int order;
    private INDArray prevD;
    private double prevLambda;
    private int nextStep;

    /** DPM-Solver++(2M), or the options' {@code solverOrder}. */
    public DpmSolverMultistepSampler(GaussianDiffusion diffusion, SamplerOptions options) {
        this(diffusion, options, options.solverOrderOr(2));
    }

    /** @param order 1 or 2 */
    public DpmSolverMultistepSampler(GaussianDiffusion diffusion, SamplerOptions options, int order) {
        super(diffusion, options);
        if (order != 1 && order != 2) {
            throw new IllegalArgumentException("DPM-Solver++ order must be 1 or 2, got " + order);
        }
        this.order = order;
    }

    public int order() {
        return order;
    }

    public DpmSolverMultistepSampler(GaussianDiffusion diffusion) {
        this(diffusion, SamplerOptions.defaults());
    }

    @Override
    public String name() {
        return order == 2 ? "dpm++2m" : "dpm++1";
    }

    @Override
    public synchronized StepOutput step(INDArray modelOutput, int stepIndex, INDArray x, NoiseSource noise) {
        int t = timestepAt(stepIndex);
        if (stepIndex == 0) {
            prevD = null;
        } else if (stepIndex != nextStep) {
            throw new IllegalStateException(name() + " is a multistep sampler: expected step " + nextStep
                    + " (or 0 to start a new run), got " + stepIndex);
        }
        int n = (int) x.size(0);
        int[] ts = GaussianDiffusion.fill(t, n);
        INDArray d = predictXStart(modelOutput, x, ts);
        double ab = diffusion.alphaCumprod(t);
        double alpha = Math.sqrt(ab);
        double sigma = Math.sqrt(1 - ab);
        double lambda = Math.log(alpha) - Math.log(sigma);
        INDArray next;
        if (stepIndex == timesteps.length - 1) {
            next = d.dup(); // into sigma = 0: the first-order update is exactly the data prediction
        } else {
            double abNext = diffusion.alphaCumprod(timesteps[stepIndex + 1]);
            double alphaNext = Math.sqrt(abNext);
            double sigmaNext = Math.sqrt(1 - abNext);
            double h = Math.log(alphaNext) - Math.log(sigmaNext) - lambda;
            double cx = sigmaNext / sigma;
            double cd = -alphaNext * Math.expm1(-h);
            if (prevD == null || order == 1) {
                next = x.mul(cx).addi(d.mul(cd));
            } else {
                double r = (lambda - prevLambda) / h;
                // cd * (D + (D - D_prev) / (2 r)) = cd (1 + 1/(2r)) D - cd / (2r) D_prev
                double c1 = cd * (1 + 0.5 / r);
                double c0 = -cd * 0.5 / r;
                next = x.mul(cx).addi(d.mul(c1)).addi(prevD.mul(c0));
            }
        }
        prevD = d;
        prevLambda = lambda;
        nextStep = stepIndex + 1;
        return new StepOutput(next, d);
    }
}
