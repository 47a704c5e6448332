package io.github.glidejava.diffusion.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code glide convert}: a model as safetensors under GLIDE's names, in float32 or float16, with its options. */
@Command(name = "convert", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Write a model (a PyTorch .pt, a safetensors file or a glide train output directory, whose"
                + " sampling weights are used) as one safetensors file under GLIDE's state-dict names, with its"
                + " create_model options in the metadata so that 'glide sample --base' and GlideModel.load need"
                + " nothing else. --dtype f16 halves the size (the models compute in float32 either way)."},
        footer = {"", "Example:", "  glide convert runs/emoji32 emoji32-f16.safetensors --dtype f16"})
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "Checkpoint or glide train output directory.")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT", description = "The safetensors file to write.")
    Path output;

    @Option(names = "--dtype", paramLabel = "f32|f16", defaultValue = "f32",
            description = "Data type of the written weights (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        DataType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DataType.FLOAT;
            case "f16", "float16" -> DataType.HALF;
            default -> throw new CommandLine.ParameterException(cl, "--dtype must be f32 or f16, got '" + dtype + "'");
        };
        GlideModel m = GlideModel.load(input);
        Map<String, INDArray> weights = new LinkedHashMap<>();
        m.unet().parameters().toTorch().forEach((k, v) -> weights.put(k, v.castTo(type)));
        Map<String, String> md = new LinkedHashMap<>(m.metadata());
        md.put("options", m.config().toJson());
        md.put("converted_from", m.name());
        Path dir = output.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        SafeTensors.write(output, weights, md);
        cl.getOut().println(output);
        cl.getOut().flush();
        return GlideCli.EXIT_OK;
    }
}
