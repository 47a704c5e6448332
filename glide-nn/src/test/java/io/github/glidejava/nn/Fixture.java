package io.github.glidejava.nn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.StateDict;
import io.github.glidejava.nn.unet.Checkpoints;

/** One reference fixture file: metadata, parameters ({@code param.*}), inputs ({@code input.*}), outputs. */
final class Fixture {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CALLEE = Pattern.compile("([A-Za-z_][A-Za-z0-9_.]*)\\(");

    final Path file;
    final String reference;
    final JsonNode config;
    final Map<String, INDArray> inputs = new LinkedHashMap<>();
    /** Outputs without the {@code output.} prefix, excluding traces. */
    final Map<String, INDArray> outputs = new LinkedHashMap<>();
    /** Traces without the {@code output.trace.} prefix. */
    final Map<String, INDArray> traces = new LinkedHashMap<>();
    private final SafeTensors st;

    Fixture(Path file) {
        this.file = file;
        try {
            st = SafeTensors.open(file);
            Map<String, String> md = st.metadata();
            reference = md.getOrDefault("reference", "");
            config = JSON.readTree(md.getOrDefault("config", "{}"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + file, e);
        }
        for (String n : st.names()) {
            if (n.startsWith("input.")) {
                inputs.put(n.substring("input.".length()), st.get(n));
            } else if (n.startsWith("output.trace.")) {
                traces.put(n.substring("output.trace.".length()), st.get(n));
            } else if (n.startsWith("output.")) {
                outputs.put(n.substring("output.".length()), st.get(n));
            }
        }
    }

    /** The first called name in the reference, e.g. "ResBlock", "timestep_embedding", "interpolate". */
    String callee() {
        Matcher m = CALLEE.matcher(reference);
        if (!m.find()) {
            throw new IllegalStateException("cannot tell the reference function from '" + reference + "' in " + file);
        }
        String name = m.group(1);
        int dot = name.lastIndexOf('.');
        return dot >= 0 ? name.substring(dot + 1) : name;
    }

    /** The tensors named {@code prefix + key} as a state dict keyed by {@code key}. */
    StateDict stateDict(String prefix) {
        try {
            return Checkpoints.load(file).subDict(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + file, e);
        }
    }

    String name() {
        return file.getFileName().toString();
    }

    int intConfig(String key) {
        JsonNode n = config.get(key);
        if (n == null || !n.canConvertToInt()) {
            throw new IllegalStateException("fixture " + file + ": config has no integer '" + key + "': " + config);
        }
        return n.asInt();
    }

    Integer optInt(String key) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? null : n.asInt();
    }

    boolean boolConfig(String key, boolean dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asBoolean();
    }

    double doubleConfig(String key, double dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asDouble();
    }
}
