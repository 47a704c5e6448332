package io.github.glidejava.diffusion;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The named beta schedules of glide-text2im ({@code get_named_beta_schedule}). */
public enum NoiseSchedule {
    /** Ho et al.'s linear schedule, scaled by 1000 / T (glide's upsampler). */
    LINEAR("linear"),
    /** The cosine schedule of improved-diffusion (glide's base and inpainting models). */
    SQUAREDCOS_CAP_V2("squaredcos_cap_v2");

    private final String configName;

    NoiseSchedule(String configName) {
        this.configName = configName;
    }

    /** The name used in glide's options ({@code noise_schedule}). */
    public String configName() {
        return configName;
    }

    /** float64 betas for {@code numTimesteps} steps. */
    public double[] betas(int numTimesteps) {
        return switch (this) {
            case LINEAR -> BetaSchedules.linear(numTimesteps);
            case SQUAREDCOS_CAP_V2 -> BetaSchedules.squaredCosCapV2(numTimesteps);
        };
    }

    /** Looks up a schedule by its glide name ("linear", "squaredcos_cap_v2"); "cosine" is accepted as an alias. */
    public static NoiseSchedule named(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (NoiseSchedule s : values()) {
                if (s.configName.equals(n)) {
                    return s;
                }
            }
            if (n.equals("cosine")) {
                return SQUAREDCOS_CAP_V2;
            }
        }
        throw new IllegalArgumentException("unknown noise schedule '" + name + "'; expected one of "
                + Arrays.stream(values()).map(NoiseSchedule::configName).collect(Collectors.joining(", ")));
    }
}
