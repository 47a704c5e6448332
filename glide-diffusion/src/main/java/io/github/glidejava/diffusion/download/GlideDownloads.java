package io.github.glidejava.diffusion.download;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * GLIDE's published files in a local cache directory: {@link #ensure} returns a cached file or downloads it.
 *
 * <pre>{@code
 * GlideDownloads downloads = GlideDownloads.builder().build();        // ~/.cache/glide-java, OpenAI's URLs
 * List<Path> files = downloads.ensure(DownloadSet.BASE, DownloadSet.TOKENIZER);
 * }</pre>
 */
public final class GlideDownloads {
    /** glide-text2im's checkpoint folder ({@code download.py}'s MODEL_PATHS). */
    public static final URI DEFAULT_CHECKPOINT_BASE =
            URI.create("https://openaipublic.blob.core.windows.net/diffusion/dec-2021/");
    /** OpenAI's GPT-2 model folder, which holds the same encoder.json and vocab.bpe that glide-text2im ships. */
    public static final URI DEFAULT_TOKENIZER_BASE =
            URI.create("https://openaipublic.blob.core.windows.net/gpt-2/models/124M/");

    private final Path cacheDir;
    private final URI checkpointBase;
    private final URI tokenizerBase;
    private final Downloader downloader;
    private final boolean force;
    private final boolean verifyChecksums;

    private GlideDownloads(Builder b) {
        this.cacheDir = b.cacheDir != null ? b.cacheDir : GlideCache.defaultDir();
        this.checkpointBase = withSlash(b.checkpointBase);
        this.tokenizerBase = withSlash(b.tokenizerBase);
        this.downloader = b.downloader != null ? b.downloader : Downloader.builder().build();
        this.force = b.force;
        this.verifyChecksums = b.verifyChecksums;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** The URL an asset is fetched from. */
    public URI uri(GlideAsset asset) {
        URI base = asset.source() == GlideAsset.Source.CHECKPOINTS ? checkpointBase : tokenizerBase;
        return base.resolve(asset.fileName());
    }

    /** Where an asset lives in the cache (it may not exist yet). */
    public Path path(GlideAsset asset) {
        return cacheDir.resolve(asset.fileName());
    }

    public boolean isCached(GlideAsset asset) {
        return Files.isRegularFile(path(asset));
    }

    /** The cached file, downloading it first when it is absent (or always, when built with {@code force}). */
    public Path ensure(GlideAsset asset) throws IOException {
        Path target = path(asset);
        if (!force && Files.isRegularFile(target)) {
            return target;
        }
        return downloader.fetch(uri(asset), target, verifyChecksums ? asset.sha256() : null);
    }

    /** Every asset of the given sets (each once, in order), downloading what is missing. */
    public List<Path> ensure(DownloadSet... sets) throws IOException {
        Set<GlideAsset> assets = new LinkedHashSet<>();
        for (DownloadSet s : sets) {
            assets.addAll(s.assets());
        }
        List<Path> out = new ArrayList<>();
        for (GlideAsset a : assets) {
            out.add(ensure(a));
        }
        return out;
    }

    private static URI withSlash(URI base) {
        String s = base.toString();
        return s.endsWith("/") ? base : URI.create(s + "/");
    }

    public static final class Builder {
        private Path cacheDir;
        private URI checkpointBase = DEFAULT_CHECKPOINT_BASE;
        private URI tokenizerBase = DEFAULT_TOKENIZER_BASE;
        private Downloader downloader;
        private boolean force;
        private boolean verifyChecksums = true;

        private Builder() {
        }

        /** Default: {@link GlideCache#defaultDir()}. */
        public Builder cacheDir(Path dir) {
            this.cacheDir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
            return this;
        }

        /** Folder URL the checkpoints ({@code base.pt}, ...) are fetched from (a mirror, or a test server). */
        public Builder checkpointBaseUri(URI base) {
            this.checkpointBase = checkedBase(base);
            return this;
        }

        /** Folder URL {@code encoder.json} and {@code vocab.bpe} are fetched from. */
        public Builder tokenizerBaseUri(URI base) {
            this.tokenizerBase = checkedBase(base);
            return this;
        }

        public Builder downloader(Downloader downloader) {
            this.downloader = Objects.requireNonNull(downloader, "downloader");
            return this;
        }

        /** Download again even when the file is already cached. */
        public Builder force(boolean force) {
            this.force = force;
            return this;
        }

        /** Check pinned SHA-256 sums (the tokenizer files); default true. */
        public Builder verifyChecksums(boolean verify) {
            this.verifyChecksums = verify;
            return this;
        }

        public GlideDownloads build() {
            return new GlideDownloads(this);
        }

        private static URI checkedBase(URI base) {
            Objects.requireNonNull(base, "base");
            String scheme = base.getScheme();
            if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
                throw new IllegalArgumentException("download base URL must be http(s)://..., got '" + base + "'");
            }
            return base;
        }
    }
}
