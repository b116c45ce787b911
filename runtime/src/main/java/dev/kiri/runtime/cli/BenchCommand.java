package dev.kiri.runtime.cli;

import dev.kiri.runtime.GenerateOptions;
import dev.kiri.runtime.GenerationResult;
import dev.kiri.runtime.LoadOptions;
import dev.kiri.runtime.Model;
import dev.kiri.runtime.TokenListener;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiri bench -m MODEL [-p 128] [-n 64] [-t THREADS] [-r REPS] [--json]}: prompt and decode
 * tokens per second, and decode as a fraction of the memory-bandwidth limit measured in the same
 * run.
 *
 * <p>Each repetition evaluates a fresh prompt of {@code -p} random token ids in batches, then
 * generates greedily, ignoring end-of-generation tokens, until {@code -n} tokens have been run
 * through the model one at a time ({@code -n + 1} generated: the first comes from the prompt's
 * logits, and the last one is not run), so every repetition does the same work, like
 * {@code llama-bench}'s pp and tg tests (decode here starts after the prompt).
 * One unreported warm-up repetition runs first. The bandwidth is a multi-threaded read of a buffer
 * larger than the caches with the same number of threads; the decode limit is that bandwidth divided
 * by the weight bytes one token reads. With {@code --backend cuda} the bandwidth is the GPU's nominal
 * peak (memory clock times bus width) instead. It also reports the heap bytes all threads allocate
 * per decode token (from the first generated token to the end; JSON
 * {@code decode_alloc_bytes_per_token_median}), and says so when that is more than a few kilobytes:
 * the decode kernels allocate nothing once C2 has compiled them as intended. The load time counts
 * the kernels' copies of Q4_0, Q8_0 and K-quant matrices, made or mapped from the copy cache (JSON
 * {@code copies_from_cache}; {@code --no-copy-cache} makes them every time).
 */
@Command(name = "bench", description = "Measure prompt and decode tokens/s, and decode against the memory-bandwidth limit.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF file, archive or hf://OWNER/REPO/FILE.gguf")
    String model;

    @Option(names = {"-p", "--prompt-tokens"}, paramLabel = "N", defaultValue = "128", description = "prompt tokens (default: ${DEFAULT-VALUE})")
    int promptTokens;

    @Option(names = {"-n", "--decode-tokens"}, paramLabel = "N", defaultValue = "64", description = "generated tokens (default: ${DEFAULT-VALUE})")
    int decodeTokens;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "threads (default: all processors)")
    Integer threads;

    @Option(names = {"-r", "--reps"}, paramLabel = "N", defaultValue = "3", description = "measured repetitions (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "1", description = "unreported warm-up repetitions (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--kv", paramLabel = "TYPE", defaultValue = "f16", description = "KV cache type: f16 or f32 (default: ${DEFAULT-VALUE})")
    String kv;

    @Option(names = {"-b", "--batch"}, paramLabel = "N",
            description = "prompt tokens per forward pass (default: 128 on the CPU, 512 with --backend cuda or auto)")
    Integer batchOption;

    @Option(names = "--bandwidth-mib", paramLabel = "MIB", defaultValue = "1024",
            description = "buffer read to measure the memory bandwidth, larger than the caches; 0 skips it (default: ${DEFAULT-VALUE})")
    int bandwidthMib;

    @Option(names = "--json", description = "print the results as one JSON object")
    boolean json;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    @Mixin
    BackendOptions backend = new BackendOptions();

    @Override
    public Integer call() {
        return Cli.run(spec, verbose, this::bench);
    }

    private int bench() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (promptTokens < 1 || decodeTokens < 1) throw new IllegalArgumentException("-p and -n must be at least 1");
        if (reps < 1 || warmup < 0) throw new IllegalArgumentException("-r must be at least 1 and --warmup at least 0");
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        int batch = batchOption != null ? batchOption : "cpu".equals(backend.backend) ? 128 : 512;
        LoadOptions lo = LoadOptions.defaults().threads(t).contextLength(promptTokens + decodeTokens + 1)
                .kvCache(Options.kvType(kv)).batchSize(batch);
        lo = backend.apply(lo);
        Path path = Options.resolveModel(model, err);
        err.printf(Locale.ROOT, "kiri bench: loading %s%n", path);
        err.flush();
        try (Model m = Model.load(path, lo)) {
            if (m.contextLength() < promptTokens + decodeTokens) {
                throw new IllegalArgumentException("-p " + promptTokens + " + -n " + decodeTokens + " exceed the model's context of "
                        + m.contextLength());
            }
            // -n single-token passes: the first generated token comes from the prompt, the last is not run.
            GenerateOptions go = GenerateOptions.greedy().maxTokens(decodeTokens + 1).ignoreEndOfGeneration(true);
            int vocab = m.config().vocab();
            double[] prompt = new double[reps];
            double[] decode = new double[reps];
            double[] allocPerToken = new double[reps];
            var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long[] atFirstToken = new long[1];
            // The heap bytes all threads allocate from the first generated token to the end of the
            // decode: the decode kernels allocate nothing once compiled, so more than a little per
            // token means some kernel runs without its vector intrinsics (docs/KERNELS.md).
            TokenListener mark = (text, id) -> {
                if (atFirstToken[0] == 0) atFirstToken[0] = mx.getTotalThreadAllocatedBytes();
            };
            for (int r = -warmup; r < reps; r++) {
                // A different first token every time, so that no repetition reuses another's cache.
                int[] ids = new SplittableRandom(1000 + r).ints(promptTokens, 0, vocab).toArray();
                ids[0] = Math.floorMod(r + warmup, vocab);
                atFirstToken[0] = 0;
                GenerationResult res = m.generate(ids, go, mark);
                long allocated = mx.getTotalThreadAllocatedBytes() - atFirstToken[0];
                if (res.timings().decodeTokens() != decodeTokens || res.timings().promptTokens() != promptTokens) {
                    throw new IllegalStateException("repetition evaluated " + res.timings().promptTokens() + " prompt tokens and "
                            + res.timings().decodeTokens() + " decode tokens (" + res.finishReason() + ")");
                }
                double pp = res.timings().promptTokensPerSecond();
                double tg = res.timings().decodeTokensPerSecond();
                err.printf(Locale.ROOT, "kiri bench: %s: prompt %.2f tok/s, decode %.2f tok/s%n", r < 0 ? "warm-up" : "rep " + (r + 1), pp, tg);
                err.flush();
                if (r >= 0) {
                    prompt[r] = pp;
                    decode[r] = tg;
                    allocPerToken[r] = allocated / (double) decodeTokens;
                }
            }
            long rss = residentBytes(); // before the bandwidth buffer exists
            double bandwidth = 0;
            boolean gpuPeak = m.usesGpu();
            if (gpuPeak) {
                bandwidth = m.gpuPeakBandwidth(); // the device's nominal peak: a host read says nothing about it
            } else if (bandwidthMib > 0) {
                err.printf(Locale.ROOT, "kiri bench: measuring read bandwidth (%d MiB, %d threads)%n", bandwidthMib, t);
                err.flush();
                bandwidth = Bandwidth.measure((long) bandwidthMib << 20, t, 5);
            }
            long bytesPerToken = m.weightBytesPerToken();
            double pMed = median(prompt);
            double dMed = median(decode);
            double aMed = median(allocPerToken);
            double fraction = bandwidth > 0 ? dMed * bytesPerToken / bandwidth : Double.NaN;
            if (json) {
                Json j = new Json();
                j.put("model", String.valueOf(path.getFileName()));
                j.put("architecture", m.config().arch().name());
                j.put("file_bytes", m.fileSize());
                j.put("threads", t);
                j.put("backend", m.backend());
                j.put("kv_cache", lo.kvCache().name().toLowerCase(Locale.ROOT));
                j.put("batch", batch);
                j.put("prompt_tokens", promptTokens);
                j.put("decode_tokens", decodeTokens);
                j.put("reps", reps);
                j.put("load_ms", m.loadMillis());
                j.put("prompt_tps_median", pMed);
                j.put("prompt_tps_min", min(prompt));
                j.put("prompt_tps_max", max(prompt));
                j.put("prompt_tps", prompt);
                j.put("decode_tps_median", dMed);
                j.put("decode_tps_min", min(decode));
                j.put("decode_tps_max", max(decode));
                j.put("decode_tps", decode);
                j.put("decode_alloc_bytes_per_token_median", aMed);
                j.put("weight_bytes_per_token", bytesPerToken);
                j.put("kv_cache_bytes", m.kvCacheBytes());
                j.put("interleaved_bytes", m.interleavedBytes());
                j.put("copies_from_cache", m.copiesFromCache());
                j.put("rss_bytes", rss);
                if (bandwidth > 0) {
                    j.put("bandwidth_source", gpuPeak ? "gpu-peak" : "measured-read");
                    j.put("bandwidth_gbs", bandwidth / 1e9);
                    j.put("decode_limit_tps", bandwidth / bytesPerToken);
                    j.put("decode_bandwidth_fraction", fraction);
                }
                out.println(j);
            } else {
                out.printf(Locale.ROOT, "model     %s: %s, %.1f MB, %.1f MB of weights read per token, loaded in %d ms%s%n",
                        path.getFileName(), m.config().arch().name(), m.fileSize() / 1e6, bytesPerToken / 1e6, m.loadMillis(),
                        m.copiesFromCache() ? " (the kernels' copies mapped from the copy cache)"
                                : m.copyCacheFile().isPresent() ? " (the kernels' copies made, and saved to the copy cache)" : "");
                out.printf(Locale.ROOT, "backend   %s, %d threads, KV cache %s, batch %d%n", m.backend(), t, lo.kvCache(), batch);
                out.printf(Locale.ROOT, "prompt    %4d tokens  %8.2f tok/s median  (min %.2f, max %.2f, %d reps)%n",
                        promptTokens, pMed, min(prompt), max(prompt), reps);
                out.printf(Locale.ROOT, "decode    %4d tokens  %8.2f tok/s median  (min %.2f, max %.2f, %d reps)%n",
                        decodeTokens, dMed, min(decode), max(decode), reps);
                out.printf(Locale.ROOT, "heap      %.0f bytes allocated per decode token (median)%s%n", aMed,
                        aMed > ALLOCATION_WARNING ? ": more than expected; some decode kernel may be running without its vector"
                                + " intrinsics (docs/KERNELS.md, \"Steady-state allocation in decode\")" : "");
                out.printf(Locale.ROOT, "memory    %.1f MB resident (file %.1f MB + KV cache %.1f MB + %.1f MB)%s%n", rss / 1e6,
                        m.fileSize() / 1e6, m.kvCacheBytes() / 1e6, (rss - m.fileSize() - m.kvCacheBytes()) / 1e6,
                        m.interleavedBytes() > 0 ? String.format(Locale.ROOT, "; the kernels' copies (%.1f MB) stand in for their"
                                + " matrices' part of the file", m.interleavedBytes() / 1e6) : "");
                if (bandwidth > 0 && gpuPeak) {
                    out.printf(Locale.ROOT, "bandwidth %.1f GB/s GPU peak: decode limit %.2f tok/s; decode reaches %.1f%% of it%n",
                            bandwidth / 1e9, bandwidth / bytesPerToken, 100 * fraction);
                } else if (bandwidth > 0) {
                    out.printf(Locale.ROOT, "bandwidth %.1f GB/s read (%d threads): decode limit %.2f tok/s; decode reaches %.0f%% of it%n",
                            bandwidth / 1e9, t, bandwidth / bytesPerToken, 100 * fraction);
                }
            }
            out.flush();
            return 0;
        }
    }

    /**
     * Bytes per decode token above which bench says so: the text of a token and the result are tens
     * of bytes; a kernel boxing its vectors allocates hundreds of kilobytes per token.
     */
    static final double ALLOCATION_WARNING = 16 * 1024;

    /** This process's resident set size from {@code /proc/self/status} (Linux), or -1. */
    static long residentBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
