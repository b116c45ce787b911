package dev.kiri.runtime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kiri} command line. Each subcommand is a small class in this package over the public
 * API; register new ones in {@code subcommands} below.
 */
@Command(name = "kiri",
        mixinStandardHelpOptions = true,
        scope = CommandLine.ScopeType.INHERIT, // every subcommand takes --help and --version too
        versionProvider = Main.Version.class,
        description = "LLM inference in pure Java: GGUF models on CPU (Vector API) or GPU (CUDA through FFM).",
        subcommands = {
                CommandLine.HelpCommand.class,
                InspectCommand.class,
                SynthCommand.class,
                RunCommand.class,
                ChatCommand.class,
                EvalCommand.class,
                BenchCommand.class,
                TokenizeCommand.class,
                DetokenizeCommand.class,
                TemplateCommand.class,
        })
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"kiri " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
