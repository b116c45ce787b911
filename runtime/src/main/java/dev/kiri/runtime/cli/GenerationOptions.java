package dev.kiri.runtime.cli;

import dev.kiri.runtime.GenerateOptions;
import dev.kiri.runtime.LoadOptions;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The model and sampling options of {@code kiri run} and {@code kiri chat} (a picocli mixin). */
final class GenerationOptions {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF file, archive or hf://OWNER/REPO/FILE.gguf")
    String model;

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256",
            description = "most tokens to generate; -1: until the model stops or the context is full (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8", description = "temperature; 0 is greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40", description = "top-k; 0 keeps all (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "top-p; 1 keeps all (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "min-p; 0 keeps all (default: ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "X", defaultValue = "1.0", description = "repetition penalty; 1 is off (default: ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64", description = "tokens the penalties look back over (default: ${DEFAULT-VALUE})")
    int repeatLastN;

    @Option(names = "--seed", paramLabel = "S", description = "sampler seed (default: a fresh one, printed with the timings)")
    Long seed;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all processors)")
    Integer threads;

    @Option(names = {"-c", "--ctx"}, paramLabel = "N", defaultValue = "4096",
            description = "context length, capped by the model's; 0: the model's (default: ${DEFAULT-VALUE})")
    int context;

    @Option(names = "--kv", paramLabel = "TYPE", defaultValue = "f16", description = "KV cache type: f16 or f32 (default: ${DEFAULT-VALUE})")
    String kv;

    @Option(names = "--stop", paramLabel = "S", description = "stop string (repeatable)")
    List<String> stop = List.of();

    @Option(names = "--context-shift", paramLabel = "KEEP",
            description = "when the context is full, keep the first KEEP tokens, drop the older half of the rest and go on")
    Integer contextShift;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    @Mixin
    BackendOptions backend = new BackendOptions();

    LoadOptions load() {
        LoadOptions o = backend.apply(LoadOptions.defaults().contextLength(context).kvCache(Options.kvType(kv)));
        return threads != null ? o.threads(threads) : o;
    }

    GenerateOptions generate() {
        GenerateOptions o = GenerateOptions.defaults().maxTokens(maxTokens).temperature(temperature).topK(topK).topP(topP)
                .minP(minP).repeatPenalty(repeatPenalty).repeatLastN(repeatLastN).stop(stop.toArray(String[]::new));
        if (seed != null) o = o.seed(seed);
        if (contextShift != null) o = o.contextShift(contextShift);
        return o;
    }
}
