package io.github.glidejava.diffusion.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The glide-java and ND4J versions this build was made with (from the build's filtered version.properties). */
public final class GlideVersion {
    private static final Properties PROPS = load();

    private GlideVersion() {
    }

    /** e.g. "0.1.0-SNAPSHOT", or "unknown" when run from unfiltered sources. */
    public static String version() {
        return PROPS.getProperty("version", "unknown");
    }

    public static String nd4jVersion() {
        return PROPS.getProperty("nd4j", "unknown");
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = GlideVersion.class.getResourceAsStream("/io/github/glidejava/diffusion/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // fall back to "unknown"
        }
        return p;
    }
}
