package io.github.glidejava.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up ND4J before its first use: picks the oneDNN build of nd4j-native when it is on the class path, sets
 * float32 as the default data type, and logs once which back-end and build runs.
 *
 * <p>JavaCPP reads {@code org.bytedeco.javacpp.platform.extension} only when its loader first initialises, so the
 * property must be set before any ND4J class touches native code. Every glide entry point calls {@link #init()}
 * first. (With only the oneDNN build on the class path, as glide-core's default profile arranges, JavaCPP also
 * finds it on its own: nd4j's preset lists "-onednn-avx2" among the extensions it tries before the plain build.)
 */
public final class GlideBackend {
    private static final Logger LOG = LoggerFactory.getLogger(GlideBackend.class);
    /** JavaCPP's system property for a platform build variant (e.g. "-onednn-avx2"). */
    public static final String EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";
    /** JavaCPP's cap on off-heap memory; set to the machine's physical memory unless the user set it. */
    public static final String MAX_BYTES_PROPERTY = "org.bytedeco.javacpp.maxbytes";
    static final String ONEDNN_EXTENSION = "-onednn-avx2";
    private static volatile boolean initialised;

    private GlideBackend() {
    }

    /** Idempotent and thread-safe; cheap after the first call. */
    public static void init() {
        if (initialised) {
            return;
        }
        synchronized (GlideBackend.class) {
            if (initialised) {
                return;
            }
            if (System.getProperty(EXTENSION_PROPERTY) == null && oneDnnBuildOnClassPath()) {
                System.setProperty(EXTENSION_PROPERTY, ONEDNN_EXTENSION);
            }
            if (System.getProperty(MAX_BYTES_PROPERTY) == null) {
                // JavaCPP caps off-heap memory at -Xmx by default; GLIDE's weights alone (~1.5 GB per model) live
                // off-heap, so a small heap would make loading fail. Let the OS be the limit instead.
                System.setProperty(MAX_BYTES_PROPERTY, Long.toString(physicalMemoryBytes()));
            }
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            LOG.info("ND4J backend {} (build: {})", Nd4j.getBackend().getClass().getSimpleName(), buildDescription());
            initialised = true;
        }
    }

    private static long physicalMemoryBytes() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            long total = ((com.sun.management.OperatingSystemMXBean) os).getTotalMemorySize();
            if (total > 0) {
                return total;
            }
        }
        return Math.max(Runtime.getRuntime().maxMemory(), 8L << 30);
    }

    /** True when the jar of nd4j-native's linux-x86_64-onednn-avx2 build is on the class path. */
    static boolean oneDnnBuildOnClassPath() {
        String resource = "org/nd4j/linalg/cpu/nativecpu/bindings/" + platform() + ONEDNN_EXTENSION + "/";
        return GlideBackend.class.getClassLoader().getResource(resource) != null;
    }

    private static String platform() {
        String arch = System.getProperty("os.arch", "");
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String osName = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx" : os.startsWith("windows") ? "windows" : os;
        String archName = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") ? "arm64" : arch;
        return osName + "-" + archName;
    }

    /**
     * The native ND4J build that was actually loaded, read from the path of its library (for example
     * "linux-x86_64-onednn-avx2"), or the requested platform and extension when no library is loaded yet.
     */
    public static String buildDescription() {
        for (String path : org.bytedeco.javacpp.Loader.getLoadedLibraries().values()) {
            java.util.regex.Matcher m = LOADED_BUILD.matcher(path == null ? "" : path);
            if (m.find()) {
                return m.group(1);
            }
        }
        return platform() + System.getProperty(EXTENSION_PROPERTY, "");
    }

    private static final java.util.regex.Pattern LOADED_BUILD =
            java.util.regex.Pattern.compile("/bindings/([^/]+)/lib(?:jni)?nd4j\\w*\\.(?:so|dylib|dll)");
}
