package dev.kiri.runtime.cli;

import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

/** Error reporting shared by the commands: a one-line message on stderr and status 1. */
final class Cli {
    private Cli() {
    }

    static int run(CommandSpec spec, boolean verbose, Callable<Integer> body) {
        PrintWriter err = spec.commandLine().getErr();
        String name = "kiri " + spec.name();
        try {
            return body.call();
        } catch (NoSuchFileException e) {
            err.println(name + ": no such file: " + e.getFile());
        } catch (Exception e) {
            String msg = e.getMessage();
            err.println(name + ": " + (msg != null ? msg : e.toString()));
            if (verbose) e.printStackTrace(err);
        } catch (OutOfMemoryError e) {
            err.println(name + ": out of memory (" + e.getMessage() + "); try a shorter --ctx or a larger -Xmx in KIRI_JAVA_OPTS");
        }
        err.flush();
        return 1;
    }
}
