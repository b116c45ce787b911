package dev.kiri.runtime.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.kiri.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kiri tokenize -m MODEL.gguf TEXT}: the token ids of a text, or of every case of a
 * llama.cpp {@code .inp} test file in the {@code .out} format.
 */
@Command(name = "tokenize",
        description = {"Print the token ids of TEXT as one line of space-separated integers (TEXT '-' reads stdin).",
                "With --inp FILE.inp, tokenize every case of a llama.cpp tokenizer test file as its test does (no BOS/EOS, "
                        + "special tokens not parsed) and print the results in the .out format."})
final class TokenizeCommand implements Callable<Integer> {
    private static final byte[] SEPARATOR = "\n__ggml_vocab_test__\n".getBytes(StandardCharsets.UTF_8);

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL.gguf", description = "the model whose tokenizer to use")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Parameters(paramLabel = "TEXT", description = "the text, or '-' for stdin")
        String text;

        @Option(names = "--inp", paramLabel = "FILE.inp", description = "a llama.cpp tokenizer test input file")
        Path inp;
    }

    @Option(names = "--pieces", description = "print one token per line: its id and its piece")
    boolean pieces;

    @Option(names = "--special", description = "parse special tokens written in the text (e.g. <|im_start|>)")
    boolean special;

    @Option(names = "--no-bos", description = "do not add BOS/EOS even where the model asks for them")
    boolean noBos;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    @Override
    public Integer call() {
        return Cli.run(spec, verbose, () -> {
            PrintWriter out = spec.commandLine().getOut();
            Tokenizer t = TokenizerFiles.load(model);
            if (input.inp != null) {
                for (String c : cases(Files.readAllBytes(input.inp), input.inp)) {
                    StringBuilder line = new StringBuilder();
                    for (int id : t.encode(c, false, false)) line.append(' ').append(id);
                    out.print(line.append('\n'));
                }
            } else {
                String text = "-".equals(input.text)
                        ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8) : input.text;
                int[] ids = t.encode(text, !noBos, special);
                if (pieces) {
                    for (int id : ids) out.printf(Locale.ROOT, "%d\t%s%n", id, escape(t.piece(id)));
                } else {
                    out.println(String.join(" ", Arrays.stream(ids).mapToObj(Integer::toString).toList()));
                }
            }
            out.flush();
            return 0;
        });
    }

    /** The cases of an .inp file: split on the separator line, which also ends the last case. */
    static java.util.List<String> cases(byte[] b, Path file) {
        java.util.List<String> cases = new java.util.ArrayList<>();
        int start = 0;
        for (int i = 0; i + SEPARATOR.length <= b.length; ) {
            if (Arrays.equals(b, i, i + SEPARATOR.length, SEPARATOR, 0, SEPARATOR.length)) {
                cases.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                i += SEPARATOR.length;
                start = i;
            } else {
                i++;
            }
        }
        if (start != b.length) {
            throw new IllegalArgumentException(file + ": the last case does not end with the separator line __ggml_vocab_test__");
        }
        return cases;
    }

    /** A piece with control characters written as escapes, so each token stays on its line. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('\'');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7F) sb.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('\'').toString();
    }
}
