package io.github.glidejava.diffusion.download;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

/** Where downloaded checkpoints and tokenizer files live by default. */
public final class GlideCache {
    /** Environment variable that overrides the default cache directory. */
    public static final String ENV = "GLIDE_CACHE";

    private GlideCache() {
    }

    /** {@code $GLIDE_CACHE}, else {@code $XDG_CACHE_HOME/glide-java}, else {@code ~/.cache/glide-java}. */
    public static Path defaultDir() {
        return defaultDir(System.getenv(), System.getProperty("user.home"));
    }

    static Path defaultDir(Map<String, String> env, String userHome) {
        String dir = env.get(ENV);
        if (dir != null && !dir.isBlank()) {
            return Paths.get(dir).toAbsolutePath().normalize();
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Paths.get(xdg).isAbsolute()) {
            return Paths.get(xdg, "glide-java");
        }
        return Paths.get(userHome, ".cache", "glide-java");
    }
}
