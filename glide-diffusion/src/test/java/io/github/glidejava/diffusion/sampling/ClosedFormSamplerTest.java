package io.github.glidejava.diffusion.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.diffusion.ClassifierFreeGuidance;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.GaussianDiffusion;
import io.github.glidejava.diffusion.NoiseSchedule;
import io.github.glidejava.diffusion.NoiseSource;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.VarianceType;

/**
 * Closed-form checks of every sampler with the exact eps predictor of Gaussian data N(mu, s^2) per pixel
 * ({@link AnalyticGaussianModel}), on GLIDE's base schedule (squaredcos_cap_v2, 1000 steps) respaced to N steps.
 *
 * <ul>
 * <li>Exact output distribution: every sampler is affine in (x_T, z_1..z_N) per pixel, so one run on a "probe"
 * row (pixel 0: x_T = 0, z = 0; pixel 1: x_T = 1; pixel 2 + k: z_k = 1) gives the output mean B and variance
 * A^2 + sum C_k^2 exactly (up to float32 round-off), without statistical noise.</li>
 * <li>Monte Carlo: many pixels from seeded noise reproduce mu and s^2 within statistical error.</li>
 * <li>Orders: deterministic samplers against a 1000-step DPM-Solver++ solution from the same x_T (log-log slope
 * ~1 for DDIM, ~2 for DPM-Solver++(2M)); stochastic samplers' distribution error shrinks ~1/N.</li>
 * <li>Classifier-free guidance: with cond mean mu_c and uncond mean mu_u, the guided eps is the exact eps of
 * N(mu_u + w (mu_c - mu_u), s^2), which every sampler must then reproduce.</li>
 * </ul>
 * The measured numbers are printed (they are recorded in docs/samplers.md).
 */
class ClosedFormSamplerTest {
    static final double MU = 0.3;
    static final double S = 0.5;
    static GaussianDiffusion base;

    @BeforeAll
    static void setUp() {
        GlideBackend.init();
        base = GaussianDiffusion.builder().schedule(NoiseSchedule.SQUAREDCOS_CAP_V2).steps(1000)
                .varianceType(VarianceType.FIXED_SMALL).build();
    }

    static SamplerOptions noClip() {
        return SamplerOptions.builder().clipDenoised(false).build();
    }

    static Sampler sampler(SamplerType type, int steps) {
        return type.create(base.respaced(Integer.toString(steps)), noClip());
    }

    /** Exact output mean and variance of a sampler (row 0 of the result), by affine probing. */
    static double[] exactMoments(Sampler sampler, DiffusionModel model, int rows) {
        int n = sampler.numSteps();
        int width = n + 2;
        INDArray xT = Nd4j.zeros(DataType.FLOAT, rows, 1, 1, width);
        for (int r = 0; r < rows; r++) {
            xT.putScalar(new long[] {r, 0, 0, 1}, 1f);
        }
        NoiseSource probeNoise = new NoiseSource() {
            int draw;

            @Override
            public INDArray next(long... shape) {
                INDArray z = Nd4j.zeros(DataType.FLOAT, shape);
                for (int r = 0; r < shape[0]; r++) {
                    z.putScalar(new long[] {r, 0, 0, 2 + draw}, 1f);
                }
                draw++;
                return z;
            }
        };
        INDArray out = SamplingLoop.sample(sampler, model, xT, probeNoise);
        double b = out.getDouble(0, 0, 0, 0);
        double a = out.getDouble(0, 0, 0, 1) - b;
        double var = a * a;
        for (int k = 0; k < n; k++) {
            double c = out.getDouble(0, 0, 0, 2 + k) - b;
            var += c * c;
        }
        return new double[] {b, var};
    }

    static double slope(int[] steps, double[] err) {
        int m = steps.length;
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < m; i++) {
            double x = Math.log(steps[i]);
            double y = Math.log(err[i]);
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        return -(m * sxy - sx * sy) / (m * sxx - sx * sx);
    }

    static double rms(INDArray a, INDArray b) {
        INDArray d = a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE));
        return Math.sqrt(d.mul(d).meanNumber().doubleValue());
    }

    @Test
    void exactDistributionErrorShrinksWithSteps() {
        int[] steps = {10, 25, 50, 100, 250};
        DiffusionModel model = new AnalyticGaussianModel(base, S, MU);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%nExact output distribution, data N(%.1f, %.2f), squaredcos_cap_v2 1000 -> N steps%n"
                        + "| sampler | N | mean error | variance error |%n|---|---|---|---|%n", MU, S * S));
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (SamplerType type : SamplerType.values()) {
            double[] err = new double[steps.length];
            for (int i = 0; i < steps.length; i++) {
                double[] m = exactMoments(sampler(type, steps[i]), model, 1);
                double meanErr = m[0] - MU;
                double varErr = m[1] - S * S;
                err[i] = Math.abs(meanErr) + Math.abs(varErr);
                table.append(String.format(Locale.ROOT, "| %s | %d | %+.2e | %+.2e |%n", type.configName(), steps[i],
                        meanErr, varErr));
            }
            final double p = slope(steps, err);
            table.append(String.format(Locale.ROOT, "| %s | slope | %.2f | |%n", type.configName(), p));
            checks.add(() -> {
                assertTrue(err[steps.length - 1] < err[0], type + ": error must shrink with steps");
                assertTrue(p > 0.8, type + ": distribution error order " + p + " (expected >= ~1)");
                assertTrue(err[steps.length - 1] < 0.01, type + ": distribution error at 250 steps "
                        + err[steps.length - 1]);
            });
        }
        System.out.print(table);
        org.junit.jupiter.api.Assertions.assertAll(checks.stream());
    }

    @Test
    void deterministicSamplersConvergeAtTheirOrder() {
        NoiseSource seeded = new SeededNoise(7);
        INDArray xT = seeded.next(2, 3, 8, 8);
        DiffusionModel model = new AnalyticGaussianModel(base, S, MU);
        Sampler refSampler = new DpmSolverMultistepSampler(base, noClip());
        INDArray ref = SamplingLoop.sample(refSampler, model, xT, seeded);
        int[] steps = {10, 20, 40, 80};
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%nODE solution error (RMS vs 1000-step DPM-Solver++ from the same x_T)%n"
                        + "| sampler | N=10 | N=20 | N=40 | N=80 | order |%n|---|---|---|---|---|---|%n"));
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (SamplerType type : new SamplerType[] {SamplerType.DDIM, SamplerType.DPM_SOLVER_PP_2M}) {
            double[] err = new double[steps.length];
            for (int i = 0; i < steps.length; i++) {
                err[i] = rms(SamplingLoop.sample(sampler(type, steps[i]), model, xT, seeded), ref);
            }
            final double p = slope(steps, err);
            table.append(String.format(Locale.ROOT, "| %s | %.2e | %.2e | %.2e | %.2e | %.2f |%n", type.configName(),
                    err[0], err[1], err[2], err[3], p));
            double expected = type == SamplerType.DDIM ? 1 : 2;
            checks.add(() -> assertTrue(Math.abs(p - expected) < 0.35,
                    type + ": observed order " + p + ", expected ~" + expected));
        }
        System.out.print(table);
        org.junit.jupiter.api.Assertions.assertAll(checks.stream());
    }

    static int enoughSteps(SamplerType type) {
        return type == SamplerType.DDPM || type == SamplerType.EULER_ANCESTRAL ? 100 : 50;
    }

    @Test
    void everySamplerReproducesTheDataDistributionStatistically() {
        long[] shape = {2, 3, 32, 32};
        long n = 2L * 3 * 32 * 32;
        double seMean = S / Math.sqrt(n);
        double seVar = S * S * Math.sqrt(2.0 / n);
        DiffusionModel model = new AnalyticGaussianModel(base, S, MU);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%nMonte Carlo, %d pixels (standard errors: mean %.1e, variance %.1e)%n"
                        + "| sampler | N | sample mean - mu | sample variance - s^2 | exact bias (mean, variance) |%n"
                        + "|---|---|---|---|---|%n", n, seMean, seVar));
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (SamplerType type : SamplerType.values()) {
            int steps = enoughSteps(type);
            INDArray x = SamplingLoop.sample(sampler(type, steps), model, shape, new SeededNoise(1234));
            final double mean = x.meanNumber().doubleValue();
            final double var = x.castTo(DataType.DOUBLE).varNumber().doubleValue();
            // the sampler's own discretisation bias at this step count, computed exactly
            double[] exact = exactMoments(sampler(type, steps), model, 1);
            table.append(String.format(Locale.ROOT, "| %s | %d | %+.2e | %+.2e | %+.1e, %+.1e |%n", type.configName(),
                    steps, mean - MU, var - S * S, exact[0] - MU, exact[1] - S * S));
            checks.add(() -> {
                assertEquals(exact[0], mean, 4 * seMean, type + ": sample mean vs the sampler's exact mean");
                assertEquals(exact[1], var, 4 * seVar, type + ": sample variance vs the sampler's exact variance");
                assertEquals(MU, exact[0], 1e-4, type + ": exact mean at " + steps + " steps");
                assertEquals(S * S, exact[1], 0.02, type + ": exact variance at " + steps + " steps");
            });
        }
        System.out.print(table);
        org.junit.jupiter.api.Assertions.assertAll(checks.stream());
    }

    @Test
    void classifierFreeGuidanceGivesTheGuidedGaussianWithEverySampler() {
        double muCond = 0.3;
        double muUncond = -0.1;
        double w = 3.0;
        double muGuided = muUncond + w * (muCond - muUncond);
        // the model's rows are [cond, uncond]; the guided wrapper feeds it x[:1] twice. The guided eps is exactly the
        // eps of N(muGuided, s^2), so every sampler must behave as with that model.
        DiffusionModel guided = ClassifierFreeGuidance.wrap(new AnalyticGaussianModel(base, S, muCond, muUncond), w);
        DiffusionModel target = new AnalyticGaussianModel(base, S, muGuided);
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%nClassifier-free guidance w=%.1f (cond mean %.1f, uncond mean %.1f): target N(%.2f, %.2f)%n"
                        + "| sampler | N | mean error | variance error |%n|---|---|---|---|%n",
                w, muCond, muUncond, muGuided, S * S));
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (SamplerType type : SamplerType.values()) {
            int steps = enoughSteps(type);
            double[] m = exactMoments(sampler(type, steps), guided, 2);
            double[] ref = exactMoments(sampler(type, steps), target, 1);
            table.append(String.format(Locale.ROOT, "| %s | %d | %+.2e | %+.2e |%n", type.configName(), steps,
                    m[0] - muGuided, m[1] - S * S));
            checks.add(() -> {
                assertEquals(ref[0], m[0], 1e-4, type + ": guided mean vs sampling N(mu_guided, s^2)");
                assertEquals(ref[1], m[1], 1e-4, type + ": guided variance vs sampling N(mu_guided, s^2)");
                assertEquals(muGuided, m[0], 1e-3, type + ": guided mean");
                assertEquals(S * S, m[1], 0.02, type + ": guided variance");
            });
        }
        System.out.print(table);
        org.junit.jupiter.api.Assertions.assertAll(checks.stream());
    }

    @Test
    void ddimEtaZeroIsDeterministicAndIgnoresNoise() {
        DiffusionModel model = new AnalyticGaussianModel(base, S, MU);
        INDArray xT = new SeededNoise(3).next(2, 3, 8, 8);
        Sampler ddim = sampler(SamplerType.DDIM, 25);
        INDArray a = SamplingLoop.sample(ddim, model, xT, new SeededNoise(1));
        INDArray b = SamplingLoop.sample(ddim, model, xT, new SeededNoise(2));
        INDArray c = SamplingLoop.sample(sampler(SamplerType.DDIM, 25), model, xT.dup(), new SeededNoise(1));
        assertArrayEquals(a.data().asFloat(), b.data().asFloat(), "DDIM eta=0 must not depend on the noise");
        assertArrayEquals(a.data().asFloat(), c.data().asFloat(), "DDIM eta=0 must be bit-reproducible");
        // eta > 0 does depend on it
        Sampler ddimEta = new DdimSampler(base.respaced("25"), noClip().toBuilder().eta(1.0).build());
        INDArray d = SamplingLoop.sample(ddimEta, model, xT, new SeededNoise(1));
        INDArray e = SamplingLoop.sample(ddimEta, model, xT, new SeededNoise(2));
        assertTrue(rms(d, e) > 1e-3, "DDIM eta=1 must depend on the noise");
        // DPM-Solver++ draws no noise at all
        INDArray f = SamplingLoop.sample(sampler(SamplerType.DPM_SOLVER_PP_2M, 25), model, xT, shape -> {
            throw new AssertionError("DPM-Solver++ drew noise");
        });
        INDArray g = SamplingLoop.sample(sampler(SamplerType.DPM_SOLVER_PP_2M, 25), model, xT, new SeededNoise(5));
        assertArrayEquals(f.data().asFloat(), g.data().asFloat(), "DPM-Solver++ must be deterministic");
    }

    @Test
    void eulerWithEtaZeroIsDdim() {
        DiffusionModel model = new AnalyticGaussianModel(base, S, MU);
        INDArray xT = new SeededNoise(11).next(1, 3, 8, 8);
        GaussianDiffusion d = base.respaced("20");
        INDArray ddim = SamplingLoop.sample(new DdimSampler(d, noClip()), model, xT, new SeededNoise(0));
        INDArray euler = SamplingLoop.sample(new EulerAncestralSampler(d, noClip().toBuilder().eta(0).build()), model,
                xT, new SeededNoise(0));
        double diff = rms(ddim, euler);
        assertTrue(diff < 1e-5, "Euler (eta=0) and DDIM are the same method; RMS difference " + diff);
        INDArray ancestral = SamplingLoop.sample(new EulerAncestralSampler(d, noClip()), model, xT, new SeededNoise(0));
        assertTrue(rms(ddim, ancestral) > 1e-2, "Euler ancestral (eta=1) adds noise");
    }

    @Test
    void eulerAncestralIsDdpmWithThePosteriorVariance() {
        // sigma_up^2 = sigma_next^2 (sigma^2 - sigma_next^2) / sigma^2 is the DDPM posterior variance and the
        // ancestral mean equals the posterior mean: the two samplers coincide for FIXED_SMALL (not for GLIDE's
        // learned variance, which Euler ancestral ignores)
        DiffusionModel model = new AnalyticGaussianModel(base, S, MU);
        INDArray xT = new SeededNoise(21).next(1, 3, 8, 8);
        GaussianDiffusion d = base.respaced("30");
        INDArray ddpm = SamplingLoop.sample(new DdpmSampler(d, noClip()), model, xT, new SeededNoise(4));
        INDArray euler = SamplingLoop.sample(new EulerAncestralSampler(d, noClip()), model, xT, new SeededNoise(4));
        double diff = rms(ddpm, euler);
        assertTrue(diff < 1e-5, "Euler ancestral vs DDPM (fixed small): RMS difference " + diff);
    }

    @Test
    void firstOrderDpmSolverIsDdim() {
        DiffusionModel model = new AnalyticGaussianModel(base, S, MU);
        INDArray xT = new SeededNoise(5).next(1, 3, 8, 8);
        GaussianDiffusion d = base.respaced("15");
        INDArray ddim = SamplingLoop.sample(new DdimSampler(d, noClip()), model, xT, new SeededNoise(0));
        INDArray dpm1 = SamplingLoop.sample(new DpmSolverMultistepSampler(d, noClip(), 1), model, xT,
                new SeededNoise(0));
        INDArray dpm2 = SamplingLoop.sample(new DpmSolverMultistepSampler(d, noClip(), 2), model, xT,
                new SeededNoise(0));
        assertTrue(rms(ddim, dpm1) < 1e-5, "DPM-Solver++(1) vs DDIM: RMS difference " + rms(ddim, dpm1));
        assertTrue(rms(ddim, dpm2) > 1e-3, "the second-order correction changes the result");
    }
}
