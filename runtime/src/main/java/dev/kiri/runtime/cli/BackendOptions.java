package dev.kiri.runtime.cli;

import dev.kiri.runtime.LoadOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --backend}, {@code --gpu-layers} and the copy cache's options of {@code run}, {@code chat},
 * {@code eval} and {@code bench} (a picocli mixin). The CLI keeps the kernels' copies between runs
 * by default ({@link LoadOptions#copyCache}), under the cache root.
 */
final class BackendOptions {
    @Option(names = "--backend", paramLabel = "B", defaultValue = "cpu",
            description = "cpu, cuda (an NVIDIA GPU; an error where there is none) or auto (CUDA if it can be used, "
                    + "else the CPU, saying why) (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = {"-ngl", "--gpu-layers"}, paramLabel = "N", defaultValue = "-1",
            description = "with CUDA: decoder blocks on the GPU, the first ones; the rest run on the CPU; -1: all (default: ${DEFAULT-VALUE})")
    int gpuLayers;

    @Option(names = "--copy-cache", paramLabel = "DIR",
            description = "directory where the kernels' copies of the Q4_0, Q8_0 and K-quant matrices are kept between runs, "
                    + "so that a later run maps them instead of copying (default: copies/ under the system property kiri.cache.dir, "
                    + "$KIRI_CACHE, $XDG_CACHE_HOME/kiri or ~/.cache/kiri)")
    Path copyCache;

    @Option(names = "--no-copy-cache", description = "make the kernels' copies in memory on every run and save none")
    boolean noCopyCache;

    LoadOptions apply(LoadOptions o) {
        Path dir = noCopyCache ? null : copyCache != null ? copyCache : LoadOptions.defaultCopyCacheDirectory();
        return o.backend(backend).gpuLayers(gpuLayers).copyCache(dir);
    }
}
