package io.github.glidejava.diffusion.serve;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.glidejava.diffusion.sampling.SamplerType;

/**
 * A validated job submission. Fields come from a JSON object or from multipart form fields (uploads as files, or in
 * JSON as base64, optionally a {@code data:} URL); every check names the field, the limit and what was given.
 *
 * @param steps the sampling steps asked for, null for the model's default respacing (e.g. the upsampler's "fast27")
 * @param seed  the seed given, else a random one (so a job always knows and reports its seed)
 */
record JobRequest(ServedModel model, Task task, String prompt, SamplerType sampler, Integer steps, double guidanceScale,
                  long seed, int numImages, BufferedImage image, BufferedImage mask) {

    static final Set<String> FIELDS = Set.of("model", "task", "prompt", "sampler", "steps", "guidanceScale", "seed",
            "numImages", "image", "mask");
    static final double MAX_GUIDANCE_SCALE = 100;

    /** The fields of one request, whatever its encoding. */
    interface Fields {
        Set<String> names();

        /** The field as text, null when absent. */
        String text(String name);

        /** The field's bytes (an uploaded file, or base64 text), null when absent. */
        byte[] bytes(String name);
    }

    static JobRequest parse(Fields f, Map<String, ServedModel> models, ServerLimits limits) {
        for (String name : f.names()) {
            if (!FIELDS.contains(name)) {
                throw ApiException.badField(name, "unknown field; the fields are " + String.join(", ",
                        FIELDS.stream().sorted().toList()));
            }
        }
        ServedModel model = model(f.text("model"), models);
        Task task = task(f.text("task"), model);
        String prompt = f.text("prompt");
        if (prompt == null) {
            throw ApiException.badField("prompt", "required: the text to draw (\"\" for an unconditional sample)");
        }
        if (prompt.length() > limits.maxPromptLength()) {
            throw ApiException.badField("prompt", "at most " + limits.maxPromptLength() + " characters, got "
                    + prompt.length());
        }
        SamplerType sampler = model.defaultSampler(task);
        String s = f.text("sampler");
        if (s != null) {
            try {
                sampler = SamplerType.named(s);
            } catch (IllegalArgumentException e) {
                throw ApiException.badField("sampler", e.getMessage());
            }
        }
        int maxSteps = Math.min(limits.maxSteps(), model.diffusionSteps(task));
        Long steps = integer(f, "steps", 1, maxSteps);
        if (task == Task.UPSAMPLE && f.text("guidanceScale") != null) {
            throw ApiException.badField("guidanceScale", "upsample jobs sample without guidance; leave it out");
        }
        double guidance = number(f, "guidanceScale", 0, MAX_GUIDANCE_SCALE, model.defaultGuidanceScale());
        Long seed = integer(f, "seed", 0, Long.MAX_VALUE);
        Long numImages = integer(f, "numImages", 1, limits.maxImages());
        BufferedImage image = null;
        BufferedImage mask = null;
        if (task == Task.INPAINT || task == Task.UPSAMPLE) {
            image = picture(f, "image", limits);
        } else if (f.text("image") != null || f.bytes("image") != null) {
            throw ApiException.badField("image", "only inpaint and upsample jobs take an image");
        }
        if (task == Task.INPAINT) {
            mask = picture(f, "mask", limits);
            if (mask.getWidth() != image.getWidth() || mask.getHeight() != image.getHeight()) {
                throw ApiException.badField("mask", "must have the image's size, " + image.getWidth() + "x"
                        + image.getHeight() + ", got " + mask.getWidth() + "x" + mask.getHeight());
            }
        } else if (f.text("mask") != null || f.bytes("mask") != null) {
            throw ApiException.badField("mask", "only inpaint jobs take a mask");
        }
        return new JobRequest(model, task, prompt, sampler, steps == null ? null : steps.intValue(), guidance,
                seed != null ? seed : ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE,
                numImages == null ? 1 : numImages.intValue(), image, mask);
    }

    private static ServedModel model(String name, Map<String, ServedModel> models) {
        if (name == null) {
            if (models.size() == 1) {
                return models.values().iterator().next();
            }
            throw ApiException.badField("model", "required when the server has several models: one of "
                    + String.join(", ", models.keySet()));
        }
        ServedModel m = models.get(name);
        if (m == null) {
            throw ApiException.badField("model", "no model '" + name + "'; this server has "
                    + String.join(", ", models.keySet()));
        }
        return m;
    }

    private static Task task(String name, ServedModel model) {
        if (name == null) {
            return model.tasks().get(0);
        }
        Task t = Task.named(name);
        if (t == null) {
            throw ApiException.badField("task", "must be one of " + String.join(", ", Task.ids()) + ", got '"
                    + name + "'");
        }
        if (!model.tasks().contains(t)) {
            throw ApiException.badField("task", "model '" + model.name() + "' does " + String.join(", ",
                    model.tasks().stream().map(Task::id).toList()) + ", not " + t.id());
        }
        return t;
    }

    /** The field as an integer in [min, max], null when absent. */
    private static Long integer(Fields f, String name, long min, long max) {
        String v = f.text(name);
        if (v == null || v.isBlank()) {
            return null;
        }
        long x;
        try {
            x = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badField(name, "must be an integer from " + min + " to " + max + ", got '" + v + "'");
        }
        if (x < min || x > max) {
            throw ApiException.badField(name, "must be an integer from " + min + " to " + max + ", got " + x);
        }
        return x;
    }

    private static double number(Fields f, String name, double min, double max, double absent) {
        String v = f.text(name);
        if (v == null || v.isBlank()) {
            return absent;
        }
        double x;
        try {
            x = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            x = Double.NaN;
        }
        if (!(x >= min && x <= max)) {
            throw ApiException.badField(name, "must be a number from " + fmt(min) + " to " + fmt(max) + ", got '"
                    + v + "'");
        }
        return x;
    }

    private static String fmt(double x) {
        return x == Math.rint(x) ? Long.toString((long) x) : Double.toString(x);
    }

    private static BufferedImage picture(Fields f, String name, ServerLimits limits) {
        byte[] bytes = f.bytes(name);
        if (bytes == null) {
            throw ApiException.badField(name, "required: a PNG or JPEG picture (a multipart file, or base64 in"
                    + " JSON)");
        }
        if (bytes.length > limits.maxUploadBytes()) {
            throw ApiException.badField(name, "at most " + limits.maxUploadBytes() + " bytes, got " + bytes.length);
        }
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            img = null;
        }
        if (img == null) {
            throw ApiException.badField(name, "not a picture Java can decode (PNG, JPEG, GIF, BMP); got "
                    + bytes.length + " bytes");
        }
        int max = limits.maxImageSide();
        if (img.getWidth() > max || img.getHeight() > max) {
            throw ApiException.badField(name, "at most " + max + "x" + max + " pixels, got " + img.getWidth() + "x"
                    + img.getHeight());
        }
        return img;
    }

    /** Fields of a JSON object: scalars as text, image fields as base64 (a data: URL prefix is dropped). */
    static Fields json(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw new ApiException(400, null, "the body must be a JSON object of job fields ("
                    + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
        }
        Map<String, JsonNode> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNull()) {
                m.put(e.getKey(), e.getValue());
            }
        }
        return new Fields() {
            @Override
            public Set<String> names() {
                return m.keySet();
            }

            @Override
            public String text(String name) {
                JsonNode v = m.get(name);
                if (v == null) {
                    return null;
                }
                if (!v.isValueNode()) {
                    throw ApiException.badField(name, "must be a " + (name.equals("prompt") ? "string" : "number or"
                            + " string") + ", got " + v.getNodeType().name().toLowerCase(Locale.ROOT));
                }
                return v.asText();
            }

            @Override
            public byte[] bytes(String name) {
                return base64(name, text(name));
            }
        };
    }

    /** Base64 text (a {@code data:} URL's prefix dropped) as bytes; null for null. */
    private static byte[] base64(String field, String text) {
        if (text == null) {
            return null;
        }
        int comma = text.startsWith("data:") ? text.indexOf(',') : -1;
        try {
            return Base64.getMimeDecoder().decode(text.substring(comma + 1));
        } catch (IllegalArgumentException e) {
            throw ApiException.badField(field, "not base64 (" + e.getMessage() + ")");
        }
    }

    /** Fields of a multipart form: {@code texts} are its text fields (first value), {@code files} its uploads. */
    static Fields form(Map<String, List<String>> texts, Map<String, byte[]> files) {
        return new Fields() {
            @Override
            public Set<String> names() {
                Set<String> s = new LinkedHashSet<>(texts.keySet());
                s.addAll(files.keySet());
                return s;
            }

            @Override
            public String text(String name) {
                List<String> v = texts.get(name);
                return v == null || v.isEmpty() ? null : v.get(0);
            }

            @Override
            public byte[] bytes(String name) {
                byte[] b = files.get(name);
                return b != null ? b : base64(name, text(name));
            }
        };
    }
}
