package io.github.glidejava.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the reference fixtures produced by the official PyTorch code.
 *
 * <p>The directory comes from the environment variable {@code GLIDE_REF_DIR}, else the system property
 * {@code glide.ref.dir} (set by the build to {@code ../shared/glide-ref} beside the repository), else
 * {@code ../shared/glide-ref}. A relative {@code GLIDE_REF_DIR} is resolved against the repository root
 * (system property {@code glide.repo.root}) when the build gives one.
 *
 * <p>When the directory or a file is missing, tests are skipped with a message saying what to set, except under
 * CI ({@code CI=true}), where a missing fixture is a failure.
 */
public final class RefFixtures {
    public static final String ENV = "GLIDE_REF_DIR";

    private RefFixtures() {
    }

    /** The configured fixture directory (it may not exist). */
    public static Path dir() {
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            Path p = Paths.get(env);
            String root = System.getProperty("glide.repo.root");
            if (!p.isAbsolute() && root != null) {
                p = Paths.get(root).resolve(p);
            }
            return p.toAbsolutePath().normalize();
        }
        String prop = System.getProperty("glide.ref.dir");
        return Paths.get(prop != null ? prop : "../shared/glide-ref").toAbsolutePath().normalize();
    }

    public static boolean underCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** The fixture directory; skips (or fails under CI) when it does not exist. */
    public static Path requireDir() {
        Path d = dir();
        if (!Files.isDirectory(d)) {
            missing("GLIDE reference fixture directory " + d + " does not exist; set " + ENV
                    + " to a glide-ref fixture set (see the repository's README.md)");
        }
        return d;
    }

    /** A file inside the fixture directory, e.g. {@code require("schedules.json")}. */
    public static Path require(String relative) {
        Path f = requireDir().resolve(relative);
        if (!Files.isRegularFile(f)) {
            missing("GLIDE reference fixture " + f + " is missing (" + ENV + "=" + dir() + ")");
        }
        return f;
    }

    /**
     * Every regular file directly inside {@code subdir} whose name ends with {@code suffix}, sorted by name.
     * Skips (fails under CI) when the sub-directory is absent or holds no such file.
     */
    public static List<Path> list(String subdir, String suffix) {
        Path d = requireDir().resolve(subdir);
        if (!Files.isDirectory(d)) {
            missing("GLIDE reference fixture directory " + d + " is missing");
        }
        try (Stream<Path> s = Files.list(d)) {
            List<Path> files = s.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().endsWith(suffix))
                    .sorted()
                    .collect(Collectors.toList());
            if (files.isEmpty()) {
                missing("no *" + suffix + " fixtures in " + d);
            }
            return files;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + d, e);
        }
    }

    private static void missing(String message) {
        if (underCi()) {
            Assertions.fail(message + " (CI=true: missing fixtures are a failure)");
        }
        Assumptions.abort(message);
    }
}
