package dev.kiri.runtime;

/**
 * How to load a model. Immutable; every {@code with}-style method returns a copy.
 *
 * <pre>{@code LoadOptions.defaults().threads(4).contextLength(8192).kvCache(LoadOptions.KvCacheType.F32)}</pre>
 *
 * @param threads       threads of the matrix products (default: the available processors)
 * @param contextLength positions the KV cache holds; capped by the model's own context length;
 *                      0 means the model's own (default 4096)
 * @param kvCache       element type of the KV cache (default F16: half the memory of F32)
 * @param backend       {@code "cpu"} (default), {@code "cuda"} (an NVIDIA GPU through the driver; loading
 *                      fails, saying why, where there is none) or {@code "auto"} (CUDA when it can be
 *                      used, else the CPU, with the reason logged); see {@link #gpuLayers}
 * @param batchSize     most prompt tokens one forward pass takes (default 128)
 * @param gpuLayers     with CUDA: how many decoder blocks run on the GPU, the first ones; the rest
 *                      and, unless all blocks are offloaded, the output run on the CPU with one copy
 *                      of the activations between them. -1 (default): all of them; 0: none (the
 *                      CPU runs everything)
 * @param copyCache     a directory where the kernels' copies of the Q4_0, Q8_0 and K-quant matrices are kept
 *                      between loads, or null (default: none, every load makes them in memory). With
 *                      one, a load maps the file made for this model by an earlier load instead of
 *                      copying (about a second of a 1B model's load on two cores), or makes the copies
 *                      and saves them there (as many bytes as those matrices take in the model file).
 *                      A file that no longer matches the model or the runtime, or that fails its
 *                      checksums, is made again; a directory that cannot be written only costs the
 *                      saving, with a warning. See {@link Model#copyCacheFile()}
 */
public record LoadOptions(int threads, int contextLength, KvCacheType kvCache, String backend, int batchSize,
                          int gpuLayers, java.nio.file.Path copyCache) {

    /** The backends {@link #backend} accepts. */
    public static final java.util.List<String> BACKENDS = java.util.List.of("cpu", "cuda", "auto");

    /** Element type of the stored keys and values. */
    public enum KvCacheType { F16, F32 }

    public LoadOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1: " + threads);
        if (contextLength < 0) throw new IllegalArgumentException("context length must be positive (0: the model's): " + contextLength);
        if (kvCache == null) throw new IllegalArgumentException("kvCache type is null");
        if (!BACKENDS.contains(backend)) {
            throw new IllegalArgumentException("unsupported backend '" + backend + "'; supported: " + String.join(", ", BACKENDS));
        }
        if (gpuLayers < -1) throw new IllegalArgumentException("GPU layers must be -1 (all), 0 or more: " + gpuLayers);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1: " + batchSize);
    }

    /** The options without a copy cache (as before {@link #copyCache} existed). */
    public LoadOptions(int threads, int contextLength, KvCacheType kvCache, String backend, int batchSize, int gpuLayers) {
        this(threads, contextLength, kvCache, backend, batchSize, gpuLayers, null);
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 4096, KvCacheType.F16, "cpu", 128, -1, null);
    }

    public LoadOptions threads(int n) {
        return new LoadOptions(n, contextLength, kvCache, backend, batchSize, gpuLayers, copyCache);
    }

    public LoadOptions contextLength(int n) {
        return new LoadOptions(threads, n, kvCache, backend, batchSize, gpuLayers, copyCache);
    }

    public LoadOptions kvCache(KvCacheType t) {
        return new LoadOptions(threads, contextLength, t, backend, batchSize, gpuLayers, copyCache);
    }

    public LoadOptions backend(String b) {
        return new LoadOptions(threads, contextLength, kvCache, b, batchSize, gpuLayers, copyCache);
    }

    public LoadOptions batchSize(int n) {
        return new LoadOptions(threads, contextLength, kvCache, backend, n, gpuLayers, copyCache);
    }

    /** Decoder blocks on the GPU with CUDA: -1 all, 0 none. */
    public LoadOptions gpuLayers(int n) {
        return new LoadOptions(threads, contextLength, kvCache, backend, batchSize, n, copyCache);
    }

    /**
     * Where the CLI keeps the copy cache: {@code copies} under the cache root ({@code kiri.cache.dir},
     * else {@code $KIRI_CACHE}, else {@code $XDG_CACHE_HOME/kiri}, else {@code ~/.cache/kiri}).
     */
    public static java.nio.file.Path defaultCopyCacheDirectory() {
        return CopyCache.defaultDirectory();
    }

    /** The copy cache's directory ({@code null}: none); see {@link #copyCache}. */
    public LoadOptions copyCache(java.nio.file.Path dir) {
        return new LoadOptions(threads, contextLength, kvCache, backend, batchSize, gpuLayers, dir);
    }
}
