package dev.kiri.runtime.cli;

import dev.kiri.runtime.GenerateOptions;
import dev.kiri.runtime.GenerationResult;
import dev.kiri.runtime.Message;
import dev.kiri.runtime.Model;
import dev.kiri.runtime.TokenListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiri run -m MODEL -p PROMPT}: streams the completion (or, with {@code --chat}, the answer
 * to the prompt as a user message) to stdout; load and generation timings go to stderr.
 */
@Command(name = "run", description = "Generate a completion of a prompt, streamed to stdout; timings on stderr.")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    GenerationOptions g;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "PROMPT", description = "the text to continue")
    String prompt;

    @Option(names = "--chat", description = "wrap the prompt as a user message in the model's chat template")
    boolean chat;

    @Option(names = {"-s", "--system"}, paramLabel = "TEXT", description = "system message (with --chat)")
    String system;

    @Option(names = "--echo", description = "print the prompt before the completion")
    boolean echo;

    @Override
    public Integer call() {
        return Cli.run(spec, g.verbose, this::generate);
    }

    private int generate() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path path = Options.resolveModel(g.model, err);
        try (Model m = Progress.load(path, g.load(), err)) {
            GenerateOptions o = g.generate();
            if (echo) out.print(prompt);
            out.flush();
            TokenListener l = Progress.streaming(out, err);
            GenerationResult r;
            if (chat) {
                List<Message> messages = system != null ? List.of(Message.system(system), Message.user(prompt)) : List.of(Message.user(prompt));
                r = m.chat(messages, o, l);
            } else {
                r = m.generate(prompt, o, l);
            }
            out.println();
            out.flush();
            Progress.report(err, m, r);
            return 0;
        }
    }

    static String describe(Model m) {
        return String.format(Locale.ROOT, "%s: %s, %d layers, context %d, KV cache %.1f MB (%s), %s, %d threads%s",
                m.source(), m.config().arch().name(), m.config().layers(), m.contextLength(), m.kvCacheBytes() / 1e6,
                m.options().kvCache(), m.backend(), m.options().threads(),
                m.interleavedBytes() > 0 ? String.format(Locale.ROOT, ", kernel copies %.1f MB%s", m.interleavedBytes() / 1e6,
                        m.copyCacheFile().map(f -> (m.copiesFromCache() ? " mapped from " : " saved to ") + f).orElse("")) : "");
    }
}
