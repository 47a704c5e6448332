package io.github.glidejava.core.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assertions;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.io.StateDict;

/**
 * One reference fixture file (a safetensors file written by the fixture generator): its {@code __metadata__}
 * ({@code reference}, the reference call that produced it; {@code config}, its settings as JSON) and its tensors,
 * named {@code param.*} (weights), {@code input.*}, {@code output.*} and {@code output.trace.*} (intermediate
 * values). The one reader of that format for every module's tests; modules may extend it with their own helpers.
 */
public class RefFixture implements AutoCloseable {
    static {
        GlideBackend.init();
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CALLEE = Pattern.compile("([A-Za-z_][A-Za-z0-9_.]*)\\(");

    public final Path file;
    public final SafeTensors tensors;
    /** The reference call, e.g. {@code glide_text2im.nn.ResBlock(...)}; "" when not recorded. */
    public final String reference;
    /** The parsed {@code config} metadata; an empty object when not recorded. */
    public final JsonNode config;

    protected RefFixture(Path file) {
        this.file = file;
        try {
            tensors = SafeTensors.open(file);
            Map<String, String> md = tensors.metadata();
            reference = md.getOrDefault("reference", "");
            config = JSON.readTree(md.getOrDefault("config", "{}"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + file, e);
        }
    }

    public static RefFixture open(Path file) {
        return new RefFixture(file);
    }

    public String name() {
        return file.getFileName().toString();
    }

    /** Whether the metadata records a {@code config}. */
    public boolean hasConfig() {
        return tensors.metadata().containsKey("config");
    }

    public boolean has(String tensor) {
        return tensors.contains(tensor);
    }

    /** A tensor by its full name, failing clearly when the file has none of that name. */
    public INDArray get(String tensor) {
        if (!tensors.contains(tensor)) {
            Assertions.fail(file + " has no tensor '" + tensor + "'");
        }
        return tensors.get(tensor);
    }

    /** The {@code input.*} tensors, without the prefix. */
    public Map<String, INDArray> inputs() {
        return withPrefix("input.", null);
    }

    /** The {@code output.*} tensors without the prefix, traces excluded. */
    public Map<String, INDArray> outputs() {
        return withPrefix("output.", "output.trace.");
    }

    /** The {@code output.trace.*} tensors, without the prefix. */
    public Map<String, INDArray> traces() {
        return withPrefix("output.trace.", null);
    }

    private Map<String, INDArray> withPrefix(String prefix, String except) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (String n : tensors.names()) {
            if (n.startsWith(prefix) && (except == null || !n.startsWith(except))) {
                m.put(n.substring(prefix.length()), tensors.get(n));
            }
        }
        return m;
    }

    /** The tensors named {@code prefix + key} as a state dict keyed by {@code key}. */
    public StateDict stateDict(String prefix) {
        try {
            return StateDict.load(file).subDict(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + file, e);
        }
    }

    /** The first called name in the reference, e.g. "ResBlock", "timestep_embedding", "interpolate". */
    public String callee() {
        Matcher m = CALLEE.matcher(reference);
        if (!m.find()) {
            throw new IllegalStateException("cannot tell the reference function from '" + reference + "' in " + file);
        }
        String name = m.group(1);
        int dot = name.lastIndexOf('.');
        return dot >= 0 ? name.substring(dot + 1) : name;
    }

    /** A config value, failing clearly when absent. */
    public JsonNode cfg(String key) {
        JsonNode n = config.get(key);
        if (n == null) {
            Assertions.fail(file + ": config has no '" + key + "'");
        }
        return n;
    }

    public int intConfig(String key) {
        JsonNode n = config.get(key);
        if (n == null || !n.canConvertToInt()) {
            throw new IllegalStateException("fixture " + file + ": config has no integer '" + key + "': " + config);
        }
        return n.asInt();
    }

    public Integer optInt(String key) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? null : n.asInt();
    }

    public boolean boolConfig(String key, boolean dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asBoolean();
    }

    public double doubleConfig(String key, double dflt) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? dflt : n.asDouble();
    }

    @Override
    public void close() {
        tensors.close();
    }
}
