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
 * @param backend       {@code "cpu"} (the only one for now)
 * @param batchSize     most prompt tokens one forward pass takes (default 64)
 */
public record LoadOptions(int threads, int contextLength, KvCacheType kvCache, String backend, int batchSize) {

    /** Element type of the stored keys and values. */
    public enum KvCacheType { F16, F32 }

    public LoadOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1: " + threads);
        if (contextLength < 0) throw new IllegalArgumentException("context length must be positive (0: the model's): " + contextLength);
        if (kvCache == null) throw new IllegalArgumentException("kvCache type is null");
        if (!"cpu".equals(backend)) throw new IllegalArgumentException("unsupported backend '" + backend + "'; supported: cpu");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1: " + batchSize);
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 4096, KvCacheType.F16, "cpu", 64);
    }

    public LoadOptions threads(int n) {
        return new LoadOptions(n, contextLength, kvCache, backend, batchSize);
    }

    public LoadOptions contextLength(int n) {
        return new LoadOptions(threads, n, kvCache, backend, batchSize);
    }

    public LoadOptions kvCache(KvCacheType t) {
        return new LoadOptions(threads, contextLength, t, backend, batchSize);
    }

    public LoadOptions backend(String b) {
        return new LoadOptions(threads, contextLength, kvCache, b, batchSize);
    }

    public LoadOptions batchSize(int n) {
        return new LoadOptions(threads, contextLength, kvCache, backend, n);
    }
}
