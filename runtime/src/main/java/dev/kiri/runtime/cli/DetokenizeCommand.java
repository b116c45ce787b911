package dev.kiri.runtime.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.kiri.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kiri detokenize -m MODEL.gguf 1 2 3}: the text of a sequence of token ids. */
@Command(name = "detokenize",
        description = "Print the text of token ids as llama.cpp's llama_detokenize gives it, followed by a newline.")
final class DetokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL.gguf", description = "the model whose tokenizer to use")
    Path model;

    @Parameters(paramLabel = "ID", arity = "1..*", description = "token ids")
    int[] ids;

    @Option(names = "--special", description = "print control tokens (e.g. <s>) as their text instead of nothing")
    boolean special;

    @Option(names = {"-n", "--no-newline"}, description = "do not print a newline after the text")
    boolean noNewline;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    @Override
    public Integer call() {
        return Cli.run(spec, verbose, () -> {
            PrintWriter out = spec.commandLine().getOut();
            Tokenizer t = TokenizerFiles.load(model);
            out.print(t.decode(ids, special));
            if (!noNewline) out.print('\n');
            out.flush();
            return 0;
        });
    }
}
