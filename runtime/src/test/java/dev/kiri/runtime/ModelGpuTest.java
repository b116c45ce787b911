package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.runtime.model.GpuSkip;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend through the public API: greedy generation identical to the CPU path for 64
 * tokens on the fixture models, or, where the two paths part, proof that the step was a near tie
 * (the CPU's two best logits within the model's stated tolerance, the GPU's token one of them).
 * Tolerances: the CPU path rounds activations to F16/BF16 or quantizes them to 8 bits as llama.cpp
 * does, the GPU keeps them F32; the fixtures README measures that difference at up to 0.1 for
 * quantized weights and 0.002 for F16 (0.015 BF16); F32 weights agree to 1e-4.
 */
@Tag("gpu")
class ModelGpuTest {
    private static final int[] PROMPT = {1, 17, 42, 99, 256};

    @BeforeEach
    void gpu() {
        GpuSkip.requireGpu();
    }

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("tiny-llama-F32.gguf", 1e-4),
                Arguments.of("tiny-llama-F16.gguf", 4e-3),
                Arguments.of("tiny-llama-BF16.gguf", 3e-2),
                Arguments.of("tiny-llama-Q8_0.gguf", 0.1),
                Arguments.of("tiny-llama-Q4_0.gguf", 0.1),
                Arguments.of("tiny-llama-Q4_K.gguf", 0.1),
                Arguments.of("tiny-llama-Q6_K.gguf", 0.1),
                Arguments.of("tiny-qwen2-F16.gguf", 4e-3),
                Arguments.of("tiny-phi3-F16.gguf", 4e-3),
                Arguments.of("tiny-exaone-F16.gguf", 4e-3),
                Arguments.of("tiny-gemma-F16.gguf", 4e-3),
                Arguments.of("tiny-hf-qwen3-F32.gguf", 1e-4),
                Arguments.of("tiny-hf-gemma2-F32.gguf", 2e-3),
                Arguments.of("tiny-hf-exaone4-F32.gguf", 1e-4));
    }

    private static LoadOptions options(String backend) {
        return LoadOptions.defaults().threads(2).contextLength(256).kvCache(LoadOptions.KvCacheType.F32).backend(backend);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void greedyGenerationMatchesTheCpuPath(String file, double tolerance) throws Exception {
        Path path = GpuSkip.model(file);
        GenerateOptions go = GenerateOptions.greedy().maxTokens(64).ignoreEndOfGeneration(true);
        try (Model cpu = TinyFixtures.idsOnly(path, options("cpu")); Model gpu = TinyFixtures.idsOnly(path, options("cuda"))) {
            assertTrue(gpu.usesGpu(), gpu.backend());
            int[] a = cpu.generate(PROMPT, go, null).tokens();
            int[] b = gpu.generate(PROMPT, go, null).tokens();
            assertEquals(64, b.length);
            int part = Arrays.mismatch(a, b);
            if (part < 0) {
                System.out.printf("[cuda] %-26s 64 greedy tokens identical to the CPU path%n", file);
                return;
            }
            int[] prefix = new int[PROMPT.length + part];
            System.arraycopy(PROMPT, 0, prefix, 0, PROMPT.length);
            System.arraycopy(a, 0, prefix, PROMPT.length, part);
            float[] all = cpu.logits(prefix);
            int vocab = cpu.config().vocab();
            float[] last = Arrays.copyOfRange(all, (prefix.length - 1) * vocab, prefix.length * vocab);
            int best = 0, second = -1;
            for (int i = 1; i < vocab; i++) if (last[i] > last[best]) best = i;
            for (int i = 0; i < vocab; i++) if (i != best && (second < 0 || last[i] > last[second])) second = i;
            double gap = last[best] - last[second];
            System.out.printf("[cuda] %-26s parts from the CPU path at token %d: CPU %d, GPU %d; CPU's top two %d, %d differ by %.3g%n",
                    file, part, a[part], b[part], best, second, gap);
            assertTrue(b[part] == best || b[part] == second, file + ": the GPU's token " + b[part] + " at step " + part
                    + " is not one of the CPU's two best (" + best + ", " + second + ")");
            assertTrue(gap <= tolerance, file + ": the paths part at step " + part + " where the CPU's two best logits differ by "
                    + gap + ", more than the tolerance " + tolerance);
        }
    }

    @Test
    void partialOffloadGeneratesWhatTheCpuDoes() throws Exception {
        Path path = GpuSkip.model("tiny-llama-F32.gguf");
        GenerateOptions go = GenerateOptions.greedy().maxTokens(64).ignoreEndOfGeneration(true);
        try (Model cpu = TinyFixtures.idsOnly(path, options("cpu"));
             Model half = TinyFixtures.idsOnly(path, options("cuda").gpuLayers(2))) {
            assertTrue(half.backend().contains("2 of "), half.backend());
            assertArrayEquals(cpu.generate(PROMPT, go, null).tokens(), half.generate(PROMPT, go, null).tokens());
            assertArrayEquals(cpu.logits(PROMPT), half.logits(PROMPT), 1e-4f);
        }
    }

    @Test
    void concurrentGenerationsOnOneGpuModelDoNotDisturbEachOther() throws Exception {
        Path path = GpuSkip.model("tiny-llama-Q8_0.gguf");
        GenerateOptions go = GenerateOptions.greedy().maxTokens(48).ignoreEndOfGeneration(true);
        try (Model m = TinyFixtures.idsOnly(path, options("cuda"))) {
            int[] alone = m.generate(PROMPT, go, null).tokens();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                java.util.List<Future<int[]>> f = new java.util.ArrayList<>();
                for (int i = 0; i < 6; i++) f.add(pool.submit(() -> m.generate(PROMPT, go, null).tokens()));
                for (Future<int[]> x : f) assertArrayEquals(alone, x.get());
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void contextShiftOnTheGpuMatchesTheCpu() throws Exception {
        Path path = GpuSkip.model("tiny-llama-F32.gguf");
        GenerateOptions go = GenerateOptions.greedy().maxTokens(100).ignoreEndOfGeneration(true).contextShift(2);
        LoadOptions small = LoadOptions.defaults().threads(2).contextLength(40).kvCache(LoadOptions.KvCacheType.F32);
        try (Model cpu = TinyFixtures.idsOnly(path, small); Model gpu = TinyFixtures.idsOnly(path, small.backend("cuda"))) {
            assertArrayEquals(cpu.generate(PROMPT, go, null).tokens(), gpu.generate(PROMPT, go, null).tokens());
        }
    }
}
