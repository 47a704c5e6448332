package io.github.glidejava.diffusion.sampling;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

import io.github.glidejava.diffusion.GaussianDiffusion;

/** The available samplers by name (for configuration files and command lines). */
public enum SamplerType {
    /** Ancestral DDPM ({@code p_sample}); GLIDE's base model default. */
    DDPM("ddpm", "p_sample"),
    /** DDIM (eta default 0); GLIDE's upsampler default with "fast27". */
    DDIM("ddim"),
    /** DPM-Solver++(2M), deterministic, second order. */
    DPM_SOLVER_PP_2M("dpm++2m", "dpmpp_2m", "dpm-solver++"),
    /** Euler ancestral (eta default 1). */
    EULER_ANCESTRAL("euler_a", "euler_ancestral");

    private final String[] names;

    SamplerType(String... names) {
        this.names = names;
    }

    public String configName() {
        return names[0];
    }

    public Sampler create(GaussianDiffusion diffusion, SamplerOptions options) {
        return switch (this) {
            case DDPM -> new DdpmSampler(diffusion, options);
            case DDIM -> new DdimSampler(diffusion, options);
            case DPM_SOLVER_PP_2M -> new DpmSolverMultistepSampler(diffusion, options);
            case EULER_ANCESTRAL -> new EulerAncestralSampler(diffusion, options);
        };
    }

    /**
     * Rejects options this sampler does not use, naming them: eta belongs to DDIM and Euler ancestral, the solver
     * order to DPM-Solver++ (setting one elsewhere is a mistake, not something to ignore silently).
     */
    public SamplerOptions check(SamplerOptions options) {
        boolean eta = this == DDIM || this == EULER_ANCESTRAL;
        if (options.hasEta() && !eta) {
            throw new IllegalArgumentException("eta is an option of ddim and euler_a, not of " + configName());
        }
        if (options.hasSolverOrder() && this != DPM_SOLVER_PP_2M) {
            throw new IllegalArgumentException("the solver order is an option of " + DPM_SOLVER_PP_2M.configName()
                    + ", not of " + configName());
        }
        return options;
    }

    public static SamplerType named(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (SamplerType s : values()) {
                if (Arrays.asList(s.names).contains(n)) {
                    return s;
                }
            }
        }
        throw new IllegalArgumentException("unknown sampler '" + name + "'; expected one of "
                + Arrays.stream(values()).map(SamplerType::configName).collect(Collectors.joining(", ")));
    }
}
