package io.github.glidejava.diffusion.training;

import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.github.glidejava.diffusion.resample.LossSecondMomentResampler;
import io.github.glidejava.diffusion.resample.ScheduleSampler;

/** A timestep sampler's state as JSON in a checkpoint: its generator, and the loss history of a loss-aware one. */
final class SamplerState {
    private SamplerState() {
    }

    static JsonNode save(ScheduleSampler sampler) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("rng", Base64.getEncoder().encodeToString(sampler.rngState()));
        if (sampler instanceof LossSecondMomentResampler r) {
            LossSecondMomentResampler.State s = r.state();
            ArrayNode history = o.putArray("loss_history");
            for (double[] row : s.lossHistory()) {
                ArrayNode a = history.addArray();
                for (double v : row) {
                    a.add(v);
                }
            }
            ArrayNode counts = o.putArray("loss_counts");
            for (int c : s.lossCounts()) {
                counts.add(c);
            }
        }
        return o;
    }

    static void restore(ScheduleSampler sampler, JsonNode o) {
        byte[] rng = Base64.getDecoder().decode(o.get("rng").asText());
        if (sampler instanceof LossSecondMomentResampler r) {
            JsonNode history = o.get("loss_history");
            JsonNode counts = o.get("loss_counts");
            if (history == null || counts == null) {
                throw new IllegalArgumentException("the checkpoint's timestep sampler state has no loss history;"
                        + " was it written with --timestep-sampler uniform?");
            }
            double[][] h = new double[history.size()][];
            for (int t = 0; t < h.length; t++) {
                JsonNode row = history.get(t);
                h[t] = new double[row.size()];
                for (int i = 0; i < h[t].length; i++) {
                    h[t][i] = row.get(i).asDouble();
                }
            }
            int[] c = new int[counts.size()];
            for (int t = 0; t < c.length; t++) {
                c[t] = counts.get(t).asInt();
            }
            r.restore(new LossSecondMomentResampler.State(h, c, rng));
        } else {
            sampler.restoreRngState(rng);
        }
    }
}
