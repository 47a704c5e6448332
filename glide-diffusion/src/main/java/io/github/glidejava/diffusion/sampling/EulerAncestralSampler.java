package io.github.glidejava.diffusion.sampling;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSource;

/**
 * Euler ancestral sampling in sigma space (k-diffusion's {@code sample_euler_ancestral}, diffusers'
 * {@code EulerAncestralDiscreteScheduler}) for a discrete-time eps model. With {@code sigma = sqrt((1 - ab)/ab)},
 * the variance-exploding state {@code x_ve = x / sqrt(ab)} and the data prediction D:
 * <pre>
 *   sigma_up   = min(sigma_next, eta sqrt(sigma_next^2 (sigma^2 - sigma_next^2) / sigma^2))
 *   sigma_down = sqrt(sigma_next^2 - sigma_up^2)
 *   x_ve_next  = x_ve + (x_ve - D) / sigma * (sigma_down - sigma) + sigma_up z
 * </pre>
 * x is kept in the model's (variance-preserving) scale between steps, {@code x = x_ve / sqrt(1 + sigma^2)}, so the
 * model is called exactly as by the other samplers. The last step goes to sigma = 0 and returns D. eta = 1 (default)
 * is ancestral; eta = 0 is the deterministic Euler method, which coincides with DDIM(eta = 0). Draws noise every
 * step (multiplied by 0 on the last). Uses only the eps channels of the model output.
 */
public final class EulerAncestralSampler extends AbstractSampler {
    private final double eta;

    public EulerAncestralSampler(GaussianDiffusion diffusion, SamplerOptions options) {
        super(diffusion, options);
        this.eta = options.etaOr(1.0);
    }

    public EulerAncestralSampler(GaussianDiffusion diffusion) {
        this(diffusion, SamplerOptions.defaults());
    }

    public double eta() {
        return eta;
    }

    @Override
    public String name() {
        return "euler_a";
    }

    /** sigma of respaced index t. */
    double sigma(int t) {
        double ab = diffusion.alphaCumprod(t);
        return Math.sqrt((1 - ab) / ab);
    }

    @Override
    public StepOutput step(INDArray modelOutput, int stepIndex, INDArray x, NoiseSource noise) {
        int t = timestepAt(stepIndex);
        int n = (int) x.size(0);
        int[] ts = GaussianDiffusion.fill(t, n);
        INDArray d = predictXStart(modelOutput, x, ts);
        double s = sigma(t);
        double sNext = stepIndex == timesteps.length - 1 ? 0.0 : sigma(timesteps[stepIndex + 1]);
        double sUp = Math.min(sNext, eta * Math.sqrt(sNext * sNext * (s * s - sNext * sNext) / (s * s)));
        double sDown = Math.sqrt(Math.max(sNext * sNext - sUp * sUp, 0));
        // x_ve = x * sqrt(1 + s^2); x_ve_next = x_ve * sDown / s + D * (s - sDown) / s + sUp z; x_next = x_ve_next / k
        double k = Math.sqrt(1 + sNext * sNext);
        double cx = Math.sqrt(1 + s * s) * sDown / s / k;
        double cd = (s - sDown) / s / k;
        double cz = sUp / k;
        INDArray z = noise.next(x.shape());
        INDArray next = cx == 0 ? d.mul(cd) : x.mul(cx).addi(d.mul(cd));
        if (cz != 0) {
            next.addi(z.mul(cz));
        }
        return new StepOutput(next, d);
    }
}
