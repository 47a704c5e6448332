package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.glidejava.diffusion.pipeline.CheckpointLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code glide inspect CHECKPOINT}: tensors, dtypes, shapes, parameter count and which GLIDE model it is. */
@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Describe a checkpoint (PyTorch .pt or .safetensors): its tensors with dtypes and shapes,"
                + " the parameter count, and which GLIDE model it looks like (base, upsample, base-inpaint,"
                + " upsample-inpaint) with the create_model options its shapes imply."},
        footer = {"", "Example: glide inspect ~/.cache/glide-java/base.pt"})
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "A .pt or .safetensors file.")
    Path checkpoint;

    @Option(names = "--no-tensors", description = "Print the summary only, not every tensor.")
    boolean noTensors;

    @Option(names = "--json", description = "Print a JSON object instead of text.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(checkpoint)) {
            throw new GlideCli.UserException(Files.exists(checkpoint) ? checkpoint + " is not a file"
                    : "no such file: " + checkpoint);
        }
        TensorTable table = TensorTable.read(checkpoint);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        table.tensors().forEach(t -> shapes.put(t.name(), t.shape()));
        CheckpointLayout layout = null;
        String notRecognised = null;
        try {
            layout = CheckpointLayout.infer(shapes);
        } catch (IllegalArgumentException e) {
            notRecognised = e.getMessage();
        }
        long params = table.tensors().stream().mapToLong(TensorTable.Tensor::numel).sum();
        Map<String, Long> dtypeCounts = new TreeMap<>();
        table.tensors().forEach(t -> dtypeCounts.merge(t.dtype(), 1L, Long::sum));

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            printJson(out, table, params, dtypeCounts, layout, notRecognised);
        } else {
            printText(out, table, params, dtypeCounts, layout, notRecognised);
        }
        out.flush();
        return GlideCli.EXIT_OK;
    }

    private void printText(PrintWriter out, TensorTable table, long params, Map<String, Long> dtypeCounts,
                           CheckpointLayout layout, String notRecognised) {
        out.println("file          " + checkpoint.toAbsolutePath().normalize());
        out.println("format        " + table.format());
        out.println("tensors       " + table.tensors().size() + " (" + dtypeCounts.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")) + ")");
        out.println("parameters    " + String.format(Locale.ROOT, "%,d", params));
        if (layout != null) {
            out.println("model         " + layout.kind().id() + " (" + layout.kind().modelClass()
                    + ": first convolution takes " + layout.inChannels() + " channels)");
            out.println("architecture  " + layout.toOptions().entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
            out.println("released      " + layout.releasedArchitecture()
                    .map(k -> "yes: the architecture of GLIDE's released " + k.publishedFileName())
                    .orElse("no: not the architecture of a released GLIDE checkpoint"));
        } else {
            out.println("model         not recognised as a GLIDE U-Net: " + notRecognised);
        }
        if (!table.metadata().isEmpty()) {
            out.println("metadata      " + String.join(", ", table.metadata().keySet()));
        }
        if (!noTensors) {
            int w = Math.max(6, table.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(0));
            out.println();
            out.println(pad("TENSOR", w) + "  " + pad("DTYPE", 5) + "  SHAPE");
            for (TensorTable.Tensor t : table.tensors()) {
                out.println(pad(t.name(), w) + "  " + pad(t.dtype(), 5) + "  " + Arrays.toString(t.shape()));
            }
        }
    }

    private void printJson(PrintWriter out, TensorTable table, long params, Map<String, Long> dtypeCounts,
                           CheckpointLayout layout, String notRecognised) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", checkpoint.toAbsolutePath().normalize().toString());
        m.put("format", table.format());
        m.put("tensor_count", table.tensors().size());
        m.put("parameters", params);
        m.put("dtypes", dtypeCounts);
        if (layout != null) {
            m.put("model_kind", layout.kind().id());
            m.put("model_class", layout.kind().modelClass());
            m.put("in_channels", layout.inChannels());
            m.put("options", layout.toOptions());
            m.put("released", layout.releasedArchitecture().map(k -> k.publishedFileName()).orElse(null));
        } else {
            m.put("model_kind", null);
            m.put("not_recognised", notRecognised);
        }
        m.put("metadata", table.metadata());
        if (!noTensors) {
            List<Map<String, Object>> ts = table.tensors().stream().map(t -> {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("name", t.name());
                e.put("dtype", t.dtype());
                e.put("shape", t.shape());
                return e;
            }).collect(Collectors.toList());
            m.put("tensors", ts);
        }
        out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }
}
