package io.github.glidejava.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.GlideBackend;

/**
 * Turns a JMH JSON result file of {@link LayerBenchmark} ({@code -rf json -rff FILE}) into one compact table: the
 * median time per call of each layer and benchmark, with the forward's GFLOP/s (FLOPs counted from the layer's
 * shapes by {@link FlopCounter}).
 *
 * <pre>java -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.BenchSummary jmh-results.json</pre>
 */
public final class BenchSummary {
    private BenchSummary() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: BenchSummary <jmh results .json>");
            System.exit(2);
        }
        GlideBackend.init();
        JsonNode root = new ObjectMapper().readTree(Path.of(args[0]).toFile());
        Map<BaseLayerShape, Map<String, Double>> medians = new TreeMap<>();
        Map<String, String> columns = new LinkedHashMap<>();
        for (JsonNode r : root) {
            String bench = r.get("benchmark").asText();
            String method = bench.substring(bench.lastIndexOf('.') + 1);
            BaseLayerShape layer = BaseLayerShape.valueOf(r.get("params").get("layer").asText());
            JsonNode pm = r.get("primaryMetric");
            JsonNode pct = pm.get("scorePercentiles");
            double median = pct != null && pct.has("50.0") ? pct.get("50.0").asDouble() : pm.get("score").asDouble();
            double ms = toMillis(median, pm.get("scoreUnit").asText());
            medians.computeIfAbsent(layer, k -> new LinkedHashMap<>()).put(method, ms);
            columns.put(method, method);
        }
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "| %-52s | %8s |", "layer (batch 2)", "GFLOP"));
        StringBuilder rule = new StringBuilder("|---|---:|");
        for (String c : columns.keySet()) {
            head.append(String.format(Locale.ROOT, " %s ms |", c));
            rule.append("---:|");
        }
        System.out.println(head);
        System.out.println(rule);
        for (Map.Entry<BaseLayerShape, Map<String, Double>> e : medians.entrySet()) {
            BaseLayerShape.Instance inst = e.getKey().create();
            double gflop = forwardFlops(inst) / 1e9;
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %-52s | %8.2f |",
                    e.getKey().description(), gflop));
            for (String c : columns.keySet()) {
                Double ms = e.getValue().get(c);
                if (ms == null) {
                    row.append(" - |");
                } else if (c.contains("Backward")) {
                    row.append(String.format(Locale.ROOT, " %.1f |", ms));
                } else {
                    row.append(String.format(Locale.ROOT, " %.1f (%.0f GFLOP/s) |", ms, gflop / ms * 1e3));
                }
            }
            System.out.println(row);
        }
    }

    static long forwardFlops(BaseLayerShape.Instance inst) {
        FlopCounter fc = new FlopCounter(inst.layer.params());
        java.util.List<FlopCounter.Sym> in = new java.util.ArrayList<>();
        inst.inputShapes.values().forEach(s -> in.add(fc.input(s)));
        inst.forward.apply(fc, in);
        return fc.totalFlops();
    }

    private static double toMillis(double v, String unit) {
        switch (unit) {
            case "s/op":
                return v * 1e3;
            case "ms/op":
                return v;
            case "us/op":
                return v / 1e3;
            case "ns/op":
                return v / 1e6;
            default:
                throw new IllegalArgumentException("unexpected JMH unit " + unit);
        }
    }
}
