package dev.kiri.runtime.cli;

import dev.kiri.runtime.LoadOptions;
import picocli.CommandLine.Option;

/** {@code --backend} and {@code --gpu-layers} of {@code run}, {@code chat}, {@code eval} and {@code bench} (a picocli mixin). */
final class BackendOptions {
    @Option(names = "--backend", paramLabel = "B", defaultValue = "cpu",
            description = "cpu, cuda (an NVIDIA GPU; an error where there is none) or auto (CUDA if it can be used, "
                    + "else the CPU, saying why) (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = {"-ngl", "--gpu-layers"}, paramLabel = "N", defaultValue = "-1",
            description = "with CUDA: decoder blocks on the GPU, the first ones; the rest run on the CPU; -1: all (default: ${DEFAULT-VALUE})")
    int gpuLayers;

    LoadOptions apply(LoadOptions o) {
        return o.backend(backend).gpuLayers(gpuLayers);
    }
}
