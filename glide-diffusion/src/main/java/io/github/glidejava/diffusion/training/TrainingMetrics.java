package io.github.glidejava.diffusion.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What one optimiser step measured; one line of {@code metrics.jsonl}.
 *
 * @param step          1-based number of the step that finished
 * @param epoch         0-based epoch the step's batch came from
 * @param loss          the differentiated loss: the importance-weighted mean over the batch
 * @param mse           mean of the rows' MSE term (NaN for KL losses)
 * @param vb            mean of the rows' vb term (NaN for losses without one)
 * @param lossQuartiles mean loss of the rows whose timestep falls in each quarter of [0, T) (NaN where none did)
 * @param gradNorm      global L2 norm of the gradients before clipping
 * @param lr            learning rate of the step
 * @param imagesPerSecond images of this step per second of its wall time
 * @param seconds       wall time of the step
 * @param forwardSeconds   of which the forward passes with the losses
 * @param backwardSeconds  of which the backward passes
 * @param optimiserSeconds of which clipping, AdamW and the EMA updates
 */
public record TrainingMetrics(long step, long epoch, double loss, double mse, double vb, double[] lossQuartiles,
                              double gradNorm, double lr, double imagesPerSecond, double seconds,
                              double forwardSeconds, double backwardSeconds, double optimiserSeconds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One JSON object (NaN written as null). */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", step);
        o.put("epoch", epoch);
        put(o, "loss", loss);
        put(o, "mse", mse);
        put(o, "vb", vb);
        ArrayNode q = o.putArray("loss_q");
        for (double v : lossQuartiles) {
            if (Double.isFinite(v)) {
                q.add(v);
            } else {
                q.addNull();
            }
        }
        put(o, "grad_norm", gradNorm);
        put(o, "lr", lr);
        put(o, "images_per_s", imagesPerSecond);
        put(o, "seconds", seconds);
        put(o, "forward_s", forwardSeconds);
        put(o, "backward_s", backwardSeconds);
        put(o, "optimiser_s", optimiserSeconds);
        return o.toString();
    }

    private static void put(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }
}
