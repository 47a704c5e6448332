package io.github.glidejava.diffusion.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code glide} command line: {@code sample}, {@code inpaint}, {@code upsample}, {@code train}, {@code eval},
 * {@code convert}, {@code download}, {@code inspect}, {@code serve}.
 *
 * <p>Exit codes: 0 success, 1 a runtime error (a one-line message saying what to do; the stack trace only with
 * {@code --verbose}), 2 a usage error. Standard output carries only what a command is asked to print (paths of
 * written files, inspect reports); progress, warnings and library chatter go to standard error, and ND4J's
 * start-up logging is silenced unless {@code --verbose}.
 */
@Command(name = "glide",
        mixinStandardHelpOptions = true,
        versionProvider = GlideCli.Version.class,
        description = "GLIDE text-to-image diffusion (OpenAI's glide-text2im) in Java.",
        subcommands = {SampleCommand.class, InpaintCommand.class, UpsampleCommand.class, TrainCommand.class, EvalCommand.class,
                ConvertCommand.class, DownloadCommand.class, InspectCommand.class, ServeCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Run 'glide COMMAND --help' for the options of a command.",
                "Checkpoints are looked up in the cache directory ($GLIDE_CACHE, default ~/.cache/glide-java);"
                        + " 'glide download base upsample' fills it."})
public final class GlideCli implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    /** Declared here so that help lists it; {@link #main} reads it from the raw arguments before parsing. */
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show library logging and stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() {
        // 'glide' alone: show what there is to do
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    public static void main(String[] args) {
        boolean verbose = isVerbose(args);
        configureLogging(verbose);
        PrintStream stdout = System.out;
        // SameDiff (ND4J M2.1) prints progress lines to System.out: keep such chatter off the user's standard output
        System.setOut(verbose ? System.err : new PrintStream(OutputStream.nullOutputStream()));
        int code = run(args, new PrintWriter(stdout, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8), verbose);
        stdout.flush();
        System.exit(code);
    }

    /** Runs the command line with the given streams and returns the exit code (no System.exit). */
    public static int run(String[] args, PrintWriter out, PrintWriter err, boolean verbose) {
        CommandLine cl = commandLine(verbose);
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine(boolean verbose) {
        CommandLine cl = new CommandLine(new GlideCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println("glide " + commandLine.getCommandName() + ": error: " + userMessage(ex));
            if (verbose) {
                ex.printStackTrace(err);
            } else if (!selfExplanatory(ex)) {
                err.println("(run with --verbose for details)");
            }
            err.flush();
            return ex instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_ERROR;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            PrintWriter err = c.getErr();
            err.println(c.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            err.println("Run '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return EXIT_USAGE;
        });
        return cl;
    }

    /** A message for the user: the exception's own, with its cause when that says more. */
    static String userMessage(Throwable ex) {
        if (ex instanceof UncheckedIOException && ex.getCause() != null) {
            ex = ex.getCause();
        }
        if (ex instanceof NoSuchFileException e) {
            return e.getReason() != null ? e.getMessage() : "no such file: " + e.getFile();
        }
        if (ex instanceof AccessDeniedException e) {
            return "permission denied: " + e.getFile();
        }
        if (ex instanceof FileAlreadyExistsException e) {
            return "file exists: " + e.getFile();
        }
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            return ex.getClass().getSimpleName();
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory (" + m + "); give Java more memory, e.g. GLIDE_JAVA_OPTS=-Xmx12g, or lower"
                    + " --batch-size";
        }
        return m;
    }

    /** Errors whose message says all a user can act on; others get a hint to rerun with --verbose. */
    static boolean selfExplanatory(Throwable ex) {
        return ex.getMessage() != null && (ex instanceof UserException || ex instanceof IOException
                || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException);
    }

    static boolean isVerbose(String[] args) {
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals("-v") || a.equals("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /**
     * slf4j-simple reads its levels once, when the first logger is made: set them before anything logs. ND4J logs
     * its back-end set-up at INFO and "Duplicate TF op mapping" at WARN; users see errors only.
     */
    static void configureLogging(boolean verbose) {
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
        setIfAbsent("org.slf4j.simpleLogger.log.org.nd4j", verbose ? "info" : "error");
        setIfAbsent("org.slf4j.simpleLogger.log.org.bytedeco", verbose ? "info" : "error");
        setIfAbsent("org.slf4j.simpleLogger.log.io.github.glidejava.core.GlideBackend", verbose ? "info" : "warn");
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** An error whose message is complete advice for the user: printed without the "--verbose" hint. */
    public static class UserException extends RuntimeException {
        public UserException(String message) {
            super(message);
        }

        public UserException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{
                    "glide-java " + io.github.glidejava.diffusion.pipeline.GlideVersion.version(),
                    "ND4J " + io.github.glidejava.diffusion.pipeline.GlideVersion.nd4jVersion() + ", Java "
                            + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
