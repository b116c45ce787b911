package dev.kiri.runtime.cli;

import dev.kiri.runtime.LoadOptions;
import dev.kiri.runtime.Model;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiri eval -m MODEL --tokens 1,17,42 --logits-out FILE}: runs the tokens (or an encoded
 * prompt) through the model as one fresh sequence and writes the logits of every position as raw
 * float32 little-endian {@code [n_tokens][n_vocab]}; prints each position's top token.
 */
@Command(name = "eval", description = "Write the logits of every position of a token sequence (float32 little-endian [n_tokens][n_vocab]).")
final class EvalCommand implements Callable<Integer> {
    /** The context of an evaluated {@code --prompt} unless {@code --ctx} says otherwise (as {@code kiri run}'s). */
    static final int DEFAULT_PROMPT_CONTEXT = 4096;

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF file, archive or hf://OWNER/REPO/FILE.gguf")
    String model;

    static final class Input {
        @Option(names = "--tokens", paramLabel = "IDS", split = ",", description = "token ids, comma-separated")
        int[] tokens;

        @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "text, encoded with BOS as the model asks")
        String prompt;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--logits-out", paramLabel = "FILE", description = "where to write the logits")
    Path logitsOut;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all processors)")
    Integer threads;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N",
            description = "context length, capped by the model's; 0: the model's (default: the number of --tokens, or 4096 with --prompt)")
    Integer context;

    @Option(names = "--kv", paramLabel = "TYPE", defaultValue = "f32", description = "KV cache type: f16 or f32 (default: ${DEFAULT-VALUE})")
    String kv;

    @Option(names = {"-b", "--batch"}, paramLabel = "N", defaultValue = "128", description = "tokens per forward pass (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    @Mixin
    BackendOptions backend = new BackendOptions();

    @Override
    public Integer call() {
        return Cli.run(spec, verbose, this::eval);
    }

    private int eval() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // The KV cache is reserved for the whole context up front: by default only what the tokens
        // need (the model's own context, 131072 for Llama 3.2, would reserve gigabytes of F32 cache).
        int ctx = context != null ? context : input.tokens != null ? Math.max(1, input.tokens.length) : DEFAULT_PROMPT_CONTEXT;
        if (ctx < 0) throw new IllegalArgumentException("--ctx must be 0 (the model's) or positive, not " + ctx);
        LoadOptions lo = LoadOptions.defaults().contextLength(ctx).kvCache(Options.kvType(kv)).batchSize(batch);
        lo = backend.apply(lo);
        if (threads != null) lo = lo.threads(threads);
        try (Model m = Progress.load(Options.resolveModel(model, err), lo, err)) {
            int[] ids;
            if (input.tokens != null) {
                ids = input.tokens;
            } else {
                if (m.tokenizer() == null) throw new IllegalArgumentException(m.source() + " has no usable tokenizer: give --tokens");
                ids = m.tokenizer().encode(input.prompt, true, false);
            }
            if (ids.length == 0) throw new IllegalArgumentException("no tokens to evaluate");
            if (ids.length > m.contextLength()) {
                throw new IllegalArgumentException(ids.length + " tokens do not fit in a context of " + m.contextLength()
                        + (m.contextLength() < m.config().contextLength() ? ": give a larger --ctx" : " (the model's own)"));
            }
            long t0 = System.nanoTime();
            float[] logits = m.logits(ids);
            long ns = System.nanoTime() - t0;
            int vocab = m.config().vocab();
            if (logitsOut != null) {
                ByteBuffer buf = ByteBuffer.allocate(logits.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(logits);
                try (OutputStream os = Files.newOutputStream(logitsOut)) {
                    os.write(buf.array());
                }
            }
            out.printf(Locale.ROOT, "%-8s %-8s %-8s %s%n", "position", "token", "top", "logit");
            for (int i = 0; i < ids.length; i++) {
                int best = 0;
                for (int v = 1; v < vocab; v++) if (logits[i * vocab + v] > logits[i * vocab + best]) best = v;
                out.printf(Locale.ROOT, "%-8d %-8d %-8d %.6f%n", i, ids[i], best, logits[i * vocab + best]);
            }
            out.flush();
            err.printf(Locale.ROOT, "kiri eval: %d tokens x %d vocab in %.1f ms (context %d)%s%n", ids.length, vocab, ns / 1e6,
                    m.contextLength(), logitsOut != null ? ", logits written to " + logitsOut : "");
            err.flush();
            return 0;
        }
    }
}
