package dev.kiri.runtime.cli;

import dev.kiri.runtime.synth.ModelShape;
import dev.kiri.runtime.synth.QuantMix;
import dev.kiri.runtime.synth.SyntheticModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiri synth --shape llama-3.2-1b --type Q4_0 -o FILE}: a random-weight model with a real
 * model's shape, for benchmarks.
 */
@Command(name = "synth", description = "Write a random-weight GGUF model with a real model's shape (for benchmarks).")
final class SynthCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "SHAPE", description = "llama-3.2-1b or qwen2.5-0.5b")
    String shape;

    @Option(names = "--type", required = true, paramLabel = "TYPE",
            description = "file type, with llama-quantize's per-tensor mix: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, "
                    + "Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K")
    String type;

    @Option(names = "--pure", description = "every matrix in TYPE (no per-tensor mix)")
    boolean pure;

    @Option(names = "--vocab-from", paramLabel = "FILE", description = "copy the tokenizer (and its size) from this GGUF")
    Path vocabFrom;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the model file to write")
    Path output;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all processors)")
    Integer threads;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "weight seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    @Override
    public Integer call() {
        return Cli.run(spec, verbose, this::synth);
    }

    private int synth() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        ModelShape s = ModelShape.byId(shape);
        QuantMix mix = QuantMix.of(type, pure);
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        long t0 = System.nanoTime();
        long[] lastShown = {0};
        long size = SyntheticModel.write(s, mix, vocabFrom, output, n, seed, bytes -> {
            synchronized (lastShown) {
                if (bytes - lastShown[0] >= 50_000_000L) {
                    lastShown[0] = bytes;
                    err.printf(Locale.ROOT, "\rkiri synth: %,d MB written", bytes / 1_000_000);
                    err.flush();
                }
            }
        });
        err.printf(Locale.ROOT, "\rkiri synth: wrote %s: %s %s, %.1f MB in %.1f s%n", output, s.id(), mix.name(), size / 1e6,
                (System.nanoTime() - t0) / 1e9);
        err.flush();
        return 0;
    }
}
