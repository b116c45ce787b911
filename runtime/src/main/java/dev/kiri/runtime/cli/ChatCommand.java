package dev.kiri.runtime.cli;

import dev.kiri.runtime.GenerationResult;
import dev.kiri.runtime.Message;
import dev.kiri.runtime.Model;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiri chat -m MODEL}: an interactive chat. Each line read from stdin is a user message; the
 * answer streams to stdout and joins the conversation, whose earlier turns stay in the KV cache.
 * {@code /exit} (or the end of input) quits, {@code /reset} starts over.
 */
@Command(name = "chat", description = "Chat with a model in the terminal: one line per message, /reset starts over, /exit quits.")
final class ChatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    GenerationOptions g;

    @Option(names = {"-s", "--system"}, paramLabel = "TEXT", description = "system message")
    String system;

    @Option(names = "--timings", description = "print the timings of each answer on stderr")
    boolean timings;

    @Override
    public Integer call() {
        return Cli.run(spec, g.verbose, this::chat);
    }

    private int chat() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path path = Options.resolveModel(g.model, err);
        try (Model m = Progress.load(path, g.load(), err)) {
            List<Message> conversation = new ArrayList<>();
            if (system != null) conversation.add(Message.system(system));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            err.println("kiri chat: type a message and Enter; /reset starts over, /exit quits");
            while (true) {
                err.print("> ");
                err.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) break;
                if (line.isBlank()) continue;
                if (line.strip().equals("/reset")) {
                    conversation.subList(system != null ? 1 : 0, conversation.size()).clear();
                    continue;
                }
                conversation.add(Message.user(line));
                GenerationResult r = m.chat(conversation, g.generate(), Progress.streaming(out, err));
                out.println();
                out.flush();
                conversation.add(Message.assistant(r.text()));
                if (timings) Progress.report(err, m, r);
            }
            return 0;
        }
    }
}
