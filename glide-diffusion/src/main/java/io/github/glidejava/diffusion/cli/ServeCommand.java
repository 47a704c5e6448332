package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.github.glidejava.diffusion.download.GlideCache;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.serve.GlideServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code glide serve}: the web studio and JSON API ({@link GlideServer}). */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Serve a local web page and JSON API for text to image, inpainting and upsampling, with live"
                + " progress and previews, and a monitor of a glide train run.",
                "Models are loaded once and shared; each runs one job at a time from a bounded queue. The API is"
                        + " described at /api/openapi.json."},
        footer = {"", "Examples:",
                "  glide serve                                    # emoji32 on http://127.0.0.1:7860/",
                "  glide serve --model emoji32 --model glide-inpaint --port 8080",
                "  glide serve --model runs/mine --train-dir runs/mine"})
final class ServeCommand implements Callable<Integer> {
    /** OpenAI's text-to-image pair (base.pt + upsample.pt) and inpainting pair, from the checkpoint directory. */
    static final String RELEASED = "glide";
    static final String RELEASED_INPAINT = "glide-inpaint";

    @Spec
    CommandSpec spec;

    @Option(names = "--port", paramLabel = "N", defaultValue = "7860",
            description = "Port to listen on, 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to bind (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 opens the"
                    + " server, which has no authentication, to the network).")
    String host;

    @Option(names = "--model", paramLabel = "MODEL", description = "A model to serve (repeatable; the first is the"
            + " default): " + GlideModel.EMBEDDED + " (built in), " + RELEASED + " (OpenAI's base.pt + upsample.pt),"
            + " " + RELEASED_INPAINT + " (base_inpaint.pt + upsample_inpaint.pt), or a checkpoint FILE or glide"
            + " train DIR, optionally as NAME=PATH (default: " + GlideModel.EMBEDDED + ").")
    List<String> models = new ArrayList<>();

    @Option(names = "--models", paramLabel = "DIR", description = "Where " + RELEASED + " and " + RELEASED_INPAINT
            + " find their checkpoints (default: $GLIDE_CACHE, else ~/.cache/glide-java; fill it with glide"
            + " download).")
    Path checkpointDir;

    @Option(names = "--train-dir", paramLabel = "DIR", description = "A glide train output directory whose loss"
            + " curve and latest samples the page shows, refreshed while it trains.")
    Path trainDir;

    @Option(names = "--queue-size", paramLabel = "N", defaultValue = "4",
            description = "Jobs that may wait per model while one runs; more get HTTP 429 (default: ${DEFAULT-VALUE}).")
    int queueSize;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "1000",
            description = "Most sampling steps a job may ask for (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--max-images", paramLabel = "N", defaultValue = "8",
            description = "Most images per job (default: ${DEFAULT-VALUE}).")
    int maxImages;

    @Option(names = "--allow-origin", paramLabel = "ORIGIN", description = "A site whose pages may use the API"
            + " from a browser (repeatable), as scheme://host:port, e.g. http://localhost:3000; other sites' requests"
            + " that change anything are refused with 403 and no site gets CORS headers (default: none).")
    List<String> allowOrigins = new ArrayList<>();

    @Option(names = "--allow-host", paramLabel = "NAME", description = "A host name requests may be addressed to"
            + " besides localhost and the loopback addresses, when bound to 127.0.0.1 (repeatable; e.g. a name a"
            + " reverse proxy passes on). Other names are refused with 403 against DNS rebinding (default: none).")
    List<String> allowHosts = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "--port must be from 0 to 65535, got " + port);
        }
        for (Object[] o : new Object[][]{{"--queue-size", queueSize}, {"--max-steps", maxSteps},
                {"--max-images", maxImages}}) {
            if ((int) o[1] < 1) {
                throw new CommandLine.ParameterException(cl, o[0] + " must be >= 1, got " + o[1]);
            }
        }
        if (trainDir != null && !Files.isDirectory(trainDir)) {
            throw new CommandLine.ParameterException(cl, "--train-dir " + trainDir + " is not a directory (give a"
                    + " glide train --output directory)");
        }
        PrintWriter err = cl.getErr();
        GlideServer.Builder b = GlideServer.builder().host(host).port(port).queueCapacity(queueSize)
                .maxSteps(maxSteps).maxImages(maxImages).trainDir(trainDir);
        for (String o : allowOrigins) {
            try {
                b.allowOrigin(o);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, "--allow-origin: " + e.getMessage());
            }
        }
        for (String h : allowHosts) {
            try {
                b.allowHost(h);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, "--allow-host: " + e.getMessage());
            }
        }
        List<String> specs = models.isEmpty() ? List.of(GlideModel.EMBEDDED) : models;
        List<String> names = new ArrayList<>();
        for (String s : specs) {
            String name = name(s);
            if (names.contains(name)) {
                throw new CommandLine.ParameterException(cl, "two --model values are named '" + name + "'; name"
                        + " them apart with NAME=PATH");
            }
            names.add(name);
        }
        for (int i = 0; i < specs.size(); i++) {
            err.println("loading " + names.get(i) + " ...");
            err.flush();
            b.model(names.get(i), load(cl, specs.get(i)));
        }
        GlideServer server = b.build().start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "glide-serve-stop"));
        err.println("serving " + String.join(", ", names) + " on " + server.url() + " (Ctrl-C to stop)");
        err.flush();
        cl.getOut().println(server.url());
        cl.getOut().flush();
        server.join();
        return GlideCli.EXIT_OK;
    }

    /** The name a --model value is served under: NAME=..., a built-in name, or the file's name. */
    static String name(String spec) {
        int eq = spec.indexOf('=');
        if (eq > 0) {
            return spec.substring(0, eq);
        }
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals(GlideModel.EMBEDDED) || s.equals(RELEASED) || s.equals(RELEASED_INPAINT)) {
            return s;
        }
        Path p = Path.of(spec).getFileName();
        String f = p == null ? spec : p.toString();
        int dot = f.lastIndexOf('.');
        return dot > 0 ? f.substring(0, dot) : f;
    }

    private GlidePipeline load(CommandLine cl, String spec) throws IOException {
        int eq = spec.indexOf('=');
        String what = eq > 0 ? spec.substring(eq + 1) : spec;
        String key = what.trim().toLowerCase(Locale.ROOT);
        Path dir = checkpointDir != null ? checkpointDir : GlideCache.defaultDir();
        if (key.equals(GlideModel.EMBEDDED)) {
            return GlidePipeline.builder().embeddedModel().build();
        }
        if (key.equals(RELEASED)) {
            return GlidePipeline.builder().checkpointDir(dir).build();
        }
        if (key.equals(RELEASED_INPAINT)) {
            // the inpaint notebook's guidance scale
            return GlidePipeline.builder().checkpointDir(dir).inpainting(true).guidanceScale(5.0).build();
        }
        Path path = Path.of(what);
        if (!Files.exists(path)) {
            throw new CommandLine.ParameterException(cl, "--model '" + spec + "' is neither " + GlideModel.EMBEDDED
                    + ", " + RELEASED + ", " + RELEASED_INPAINT + " nor an existing checkpoint file or directory");
        }
        GlideModel m = GlideModel.load(path);
        return switch (m.kind()) {
            case BASE -> GlidePipeline.builder().base(m).withoutUpsampler().build();
            case BASE_INPAINT -> GlidePipeline.builder().base(m).withoutUpsampler().guidanceScale(5.0).build();
            case UPSAMPLE -> GlidePipeline.builder().withoutBase().upsampler(m).build();
            case UPSAMPLE_INPAINT -> throw new GlideCli.UserException("--model " + spec + " is an upsample-inpaint"
                    + " model, which only works after its base-inpaint model: serve " + RELEASED_INPAINT
                    + " or a base-inpaint checkpoint instead");
        };
    }
}
