package io.github.glidejava.diffusion.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import io.github.glidejava.diffusion.download.ConsoleProgress;
import io.github.glidejava.diffusion.download.DownloadListener;
import io.github.glidejava.diffusion.download.DownloadSet;
import io.github.glidejava.diffusion.download.Downloader;
import io.github.glidejava.diffusion.download.GlideAsset;
import io.github.glidejava.diffusion.download.GlideDownloads;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code glide download NAME...}: fetches released checkpoints / tokenizer files into the cache directory. */
@Command(name = "download", mixinStandardHelpOptions = true, versionProvider = GlideCli.Version.class,
        description = {"Download GLIDE's released checkpoints and the tokenizer files into the cache directory.",
                "Interrupted downloads resume where they stopped; files already cached are skipped.",
                "Prints the path of each file on standard output."},
        footer = {"", "Names (glide-text2im's): base (64x64 text-to-image), upsample (64->256), base-inpaint,"
                + " upsample-inpaint, clip/image-enc and clip/text-enc (the noised CLIP of --clip-guidance-scale; clip = both),"
                + " tokenizer (GPT-2 encoder.json, vocab.bpe; optional, glide-java bundles GLIDE's), all.",
                "Example: glide download base upsample tokenizer"})
final class DownloadCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "NAME", converter = SetConverter.class,
            completionCandidates = SetNames.class,
            description = "What to fetch: ${COMPLETION-CANDIDATES}.")
    List<DownloadSet> names = new ArrayList<>();

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Cache directory (default: $GLIDE_CACHE, else ~/.cache/glide-java).")
    Path cacheDir;

    @Option(names = "--base-url", paramLabel = "URL", converter = HttpUrlConverter.class,
            description = "Folder URL of the checkpoints (default: ${DEFAULT-VALUE}).")
    URI baseUrl = GlideDownloads.DEFAULT_CHECKPOINT_BASE;

    @Option(names = "--tokenizer-url", paramLabel = "URL", converter = HttpUrlConverter.class,
            description = "Folder URL of encoder.json and vocab.bpe (default: ${DEFAULT-VALUE}).")
    URI tokenizerUrl = GlideDownloads.DEFAULT_TOKENIZER_BASE;

    @Option(names = "--force", description = "Download again even when a file is already cached.")
    boolean force;

    @Option(names = "--retries", paramLabel = "N", defaultValue = "4",
            description = "Retries (resuming) after a cut connection or server error (default: ${DEFAULT-VALUE}).")
    int retries;

    @Option(names = "--no-checksum", description = "Skip the SHA-256 check of the tokenizer files.")
    boolean noChecksum;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (retries < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--retries must be >= 0, got " + retries);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DownloadListener progress = quiet ? DownloadListener.NONE
                : new ConsoleProgress(err, System.console() != null);
        GlideDownloads.Builder b = GlideDownloads.builder()
                .checkpointBaseUri(baseUrl)
                .tokenizerBaseUri(tokenizerUrl)
                .force(force)
                .verifyChecksums(!noChecksum)
                .downloader(Downloader.builder().retries(retries).retryDelay(Duration.ofSeconds(1))
                        .listener(progress).build());
        if (cacheDir != null) {
            b.cacheDir(cacheDir);
        }
        GlideDownloads downloads = b.build();
        Set<GlideAsset> assets = new LinkedHashSet<>();
        names.forEach(n -> assets.addAll(n.assets()));
        for (GlideAsset a : assets) {
            if (!force && downloads.isCached(a)) {
                if (!quiet) {
                    err.println(a.fileName() + ": already in " + downloads.cacheDir());
                }
            } else if (!quiet) {
                err.println("downloading " + downloads.uri(a) + " -> " + downloads.path(a));
            }
            err.flush();
            Path p = downloads.ensure(a);
            out.println(p);
            out.flush();
        }
        return GlideCli.EXIT_OK;
    }

    static final class SetConverter implements CommandLine.ITypeConverter<DownloadSet> {
        @Override
        public DownloadSet convert(String value) {
            try {
                return DownloadSet.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class SetNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return java.util.Arrays.stream(DownloadSet.values()).map(DownloadSet::id).iterator();
        }
    }

    static final class HttpUrlConverter implements CommandLine.ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            try {
                URI u = new URI(value);
                if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
                        || u.getHost() == null) {
                    throw new CommandLine.TypeConversionException("'" + value + "' is not an http(s):// URL");
                }
                return u;
            } catch (URISyntaxException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a URL: " + e.getReason());
            }
        }
    }
}
