package io.github.glidejava.diffusion.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.GlideModelKind;
import io.github.glidejava.nn.unet.UNetBlocks;

/**
 * The architecture of a GLIDE U-Net checkpoint as far as its parameter names and shapes tell it: model kind,
 * widths, depth, attention resolutions, text transformer. {@code num_heads} / {@code num_head_channels} and
 * {@code xf_heads} leave no trace in the shapes and are not inferred.
 *
 * <p>The structure is glide-text2im's {@code UNetModel} ({@link UNetBlocks}): the number of upsampling modules in
 * {@code output_blocks} gives the levels, the blocks per level {@code num_res_blocks}; the input blocks are then read
 * along {@link UNetBlocks#input()}. {@code create_model} requires {@code 2^(levels + 2) == image_size}, which gives
 * the image size.
 */
public record CheckpointLayout(
        GlideModelKind kind,
        int inChannels,
        int outChannels,
        int modelChannels,
        int numResBlocks,
        List<Integer> channelMult,
        List<Integer> attentionResolutions,
        int imageSize,
        boolean resblockUpdown,
        boolean useScaleShiftNorm,
        int xfWidth,
        int xfLayers,
        int textCtx,
        int vocabSize,
        boolean xfPadding,
        boolean xfFinalLn,
        long parameterCount) {

    private static final String CONV_IN = "input_blocks.0.0.weight";

    /**
     * Infers the layout from parameter shapes ({@code name -> shape}). Names may carry a common prefix (e.g.
     * {@code param.} or {@code module.}); it is found from the first convolution's name.
     *
     * @throws IllegalArgumentException naming what is missing or inconsistent when the names do not form a GLIDE
     *                                  U-Net
     */
    public static CheckpointLayout infer(Map<String, long[]> shapes) {
        String prefix = shapes.keySet().stream().filter(k -> k.endsWith(CONV_IN)).findFirst()
                .map(k -> k.substring(0, k.length() - CONV_IN.length()))
                .orElseThrow(() -> new IllegalArgumentException("no '" + CONV_IN
                        + "' tensor: not a GLIDE U-Net checkpoint (" + shapes.size() + " tensors"
                        + (shapes.isEmpty() ? "" : ", e.g. '" + shapes.keySet().iterator().next() + "'") + ")"));
        Map<String, long[]> s = new LinkedHashMap<>();
        shapes.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                s.put(k.substring(prefix.length()), v);
            }
        });
        return new Inference(s).run();
    }

    /** The released GLIDE checkpoint this layout has the architecture of (its kind's preset), if any. */
    public Optional<GlideModelKind> releasedArchitecture() {
        GlideModelConfig preset = kind.preset();
        Map<String, Object> released = new LinkedHashMap<>(preset.toOptions());
        released.put("channel_mult", join(Arrays.stream(preset.channelMultiplier()).boxed().toList()));
        Map<String, Object> inferred = toOptions();
        boolean same = vocabSize == preset.vocabSize()
                && inferred.keySet().stream().allMatch(k -> inferred.get(k).equals(released.get(k)));
        return same ? Optional.of(kind) : Optional.empty();
    }

    /** The layout as glide-text2im {@code create_model} options (the inferable ones), e.g. for printing. */
    public Map<String, Object> toOptions() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("image_size", imageSize);
        m.put("num_channels", modelChannels);
        m.put("num_res_blocks", numResBlocks);
        m.put("channel_mult", join(channelMult));
        m.put("attention_resolutions", join(attentionResolutions));
        m.put("text_ctx", textCtx);
        m.put("xf_width", xfWidth);
        m.put("xf_layers", xfLayers);
        m.put("xf_final_ln", xfFinalLn);
        m.put("xf_padding", xfPadding);
        m.put("use_scale_shift_norm", useScaleShiftNorm);
        m.put("resblock_updown", resblockUpdown);
        m.put("inpaint", kind.inpaint());
        m.put("super_res", kind.superRes());
        return m;
    }

    private static String join(List<Integer> xs) {
        return xs.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private static final class Inference {
        private final Map<String, long[]> s;

        Inference(Map<String, long[]> s) {
            this.s = s;
        }

        CheckpointLayout run() {
            long[] conv = shape(CONV_IN, 4);
            int modelChannels = (int) conv[0];
            int inChannels = (int) conv[1];
            GlideModelKind kind = GlideModelKind.fromInChannels(inChannels);
            int outChannels = s.containsKey("out.2.weight") ? (int) shape("out.2.weight", 4)[0] : -1;

            int inputBlocks = count("input_blocks.");
            int outputBlocks = count("output_blocks.");
            int upsamplers = 0;
            for (int k = 0; k < outputBlocks; k++) {
                if (hasUpsample(k)) {
                    upsamplers++;
                }
            }
            int levels = upsamplers + 1;
            if (outputBlocks % levels != 0 || outputBlocks / levels < 2 || inputBlocks != outputBlocks) {
                throw inconsistent("found " + inputBlocks + " input blocks, " + outputBlocks + " output blocks and "
                        + upsamplers + " upsampling blocks, which no num_res_blocks / channel_mult gives");
            }
            int numResBlocks = outputBlocks / levels - 1;

            List<Integer> mult = new ArrayList<>();
            TreeSet<Integer> attentionDs = new TreeSet<>();
            boolean updown = false;
            boolean scaleShift = false;
            for (UNetBlocks.Block b : UNetBlocks.of(levels, numResBlocks, new int[0]).input()) {
                String p = b.prefix() + ".0.";
                if (b.res()) {
                    long out = shape(p + "out_layers.3.weight", 4)[0];
                    if (mult.size() == b.level()) { // the level's first ResBlock sets its width
                        if (out % modelChannels != 0) {
                            throw inconsistent(p + "out_layers.3.weight has " + out
                                    + " output channels, not a multiple of model_channels " + modelChannels);
                        }
                        mult.add((int) (out / modelChannels));
                        scaleShift = shape(p + "emb_layers.1.weight", 2)[0] == 2 * out;
                    }
                    if (s.containsKey(b.prefix() + ".1.qkv.weight")) {
                        attentionDs.add(b.ds());
                    }
                } else if (b.resample()) {
                    if (s.containsKey(p + "in_layers.0.weight")) {
                        updown = true;
                    } else if (!s.containsKey(p + "op.weight")) {
                        throw inconsistent("input block " + b.index() + " should downsample (a ResBlock or an 'op' "
                                + "convolution) but has neither");
                    }
                }
            }
            int imageSize = 1 << (levels + 2);
            List<Integer> attentionResolutions = attentionDs.stream().map(ds -> imageSize / ds)
                    .sorted((a, b) -> b - a).collect(Collectors.toList());

            int xfWidth = 0;
            int vocab = 0;
            int textCtx = 0;
            if (s.containsKey("token_embedding.weight")) {
                long[] emb = shape("token_embedding.weight", 2);
                vocab = (int) emb[0];
                xfWidth = (int) emb[1];
                textCtx = (int) shape("positional_embedding", 2)[0];
            }
            int xfLayers = count("transformer.resblocks.");
            long params = s.values().stream().mapToLong(sh -> Arrays.stream(sh).reduce(1, (a, b) -> a * b)).sum();
            return new CheckpointLayout(kind, inChannels, outChannels, modelChannels, numResBlocks, List.copyOf(mult),
                    attentionResolutions, imageSize, updown, scaleShift, xfWidth, xfLayers, textCtx, vocab,
                    s.containsKey("padding_embedding"), s.containsKey("final_ln.weight"), params);
        }

        private boolean hasUpsample(int k) {
            String p = "output_blocks." + k + ".";
            for (String key : s.keySet()) {
                if (key.startsWith(p)) {
                    String rest = key.substring(p.length());
                    int dot = rest.indexOf('.');
                    if (dot > 0 && !rest.startsWith("0.")) {
                        String module = rest.substring(dot + 1);
                        if (module.startsWith("in_layers.") || module.startsWith("conv.")) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        /** Number of distinct indices i in keys {@code <prefix>i.}. */
        private int count(String prefix) {
            TreeSet<Integer> seen = new TreeSet<>();
            for (String k : s.keySet()) {
                if (k.startsWith(prefix)) {
                    String rest = k.substring(prefix.length());
                    int dot = rest.indexOf('.');
                    try {
                        seen.add(Integer.parseInt(dot < 0 ? rest : rest.substring(0, dot)));
                    } catch (NumberFormatException ignored) {
                        // not an indexed child
                    }
                }
            }
            if (!seen.isEmpty() && seen.last() != seen.size() - 1) {
                throw inconsistent("'" + prefix + "N' indices are not 0.." + (seen.size() - 1) + ": " + seen);
            }
            return seen.size();
        }

        private long[] shape(String key, int rank) {
            long[] sh = s.get(key);
            if (sh == null) {
                throw inconsistent("tensor '" + key + "' is missing");
            }
            if (sh.length != rank) {
                throw inconsistent("tensor '" + key + "' has shape " + Arrays.toString(sh) + ", expected rank "
                        + rank);
            }
            return sh;
        }

        private static IllegalArgumentException inconsistent(String what) {
            return new IllegalArgumentException("not a GLIDE U-Net checkpoint layout: " + what);
        }
    }
}
