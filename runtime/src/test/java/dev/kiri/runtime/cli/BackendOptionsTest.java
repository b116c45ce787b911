package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.Fixtures;
import dev.kiri.kernels.cuda.CudaProbe;
import org.junit.jupiter.api.Test;

/**
 * {@code --backend} and {@code --gpu-layers}: CUDA asked for where there is none is an error with
 * status 1, never a silent fallback; {@code auto} falls back and says so in the load line. On a
 * machine with a GPU the same commands must use it.
 */
class BackendOptionsTest {
    private static final String F32 = Fixtures.file("models/tiny-llama-F32.gguf").toString();
    private static final boolean GPU = CudaProbe.availability().available();

    @Test
    void cudaWithoutAGpuIsAnErrorSayingWhy() {
        CliRun r = CliRun.of("run", "-m", F32, "-p", "Once upon a time", "-n", "4", "--temp", "0", "-t", "1", "--backend", "cuda");
        if (GPU) {
            assertEquals(0, r.status(), r.err());
            assertTrue(r.err().contains("cuda ("), r.err());
        } else {
            assertEquals(1, r.status(), r.err());
            assertTrue(r.err().contains("kiri run: CUDA is not available: " + CudaProbe.availability().reason()), r.err());
            assertEquals("", r.out());
        }
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhy() {
        CliRun cpu = CliRun.of("run", "-m", F32, "-p", "Once upon a time", "-n", "8", "--temp", "0", "-t", "1", "--kv", "f32");
        CliRun auto = CliRun.of("run", "-m", F32, "-p", "Once upon a time", "-n", "8", "--temp", "0", "-t", "1", "--kv", "f32",
                "--backend", "auto");
        assertEquals(0, auto.status(), auto.err());
        assertEquals(cpu.out(), auto.out());
        if (GPU) assertTrue(auto.err().contains("cuda ("), auto.err());
        else assertTrue(auto.err().contains("(CUDA not used: CUDA is not available: " + CudaProbe.availability().reason()), auto.err());
    }

    @Test
    void anUnknownBackendOrLayerCountIsRefused() {
        CliRun r = CliRun.of("eval", "-m", F32, "--tokens", "1,2", "--logits-out", "unused.f32", "--backend", "gpu");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("unsupported backend 'gpu'; supported: cpu, cuda, auto"), r.err());
        r = CliRun.of("bench", "-m", F32, "-p", "4", "-n", "2", "-r", "1", "--backend", "auto", "--gpu-layers", "-3");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("GPU layers must be -1 (all), 0 or more: -3"), r.err());
    }

    @Test
    void zeroGpuLayersRunsOnTheCpuWithoutTouchingCuda() {
        CliRun r = CliRun.of("run", "-m", F32, "-p", "Once upon a time", "-n", "4", "--temp", "0", "-t", "1",
                "--backend", "cuda", "--gpu-layers", "0");
        assertEquals(0, r.status(), r.err());
        assertTrue(!r.err().contains("cuda ("), r.err());
    }

    /** {@code --copy-cache DIR}: the first run saves the kernels' copies there, the next maps them; {@code --no-copy-cache} neither. */
    @Test
    void theCopyCacheIsSavedThenMapped(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        String q4 = Fixtures.file("models/tiny-llama-Q4_0.gguf").toString();
        boolean vector = "vector".equals(dev.kiri.kernels.KernelsProvider.implementation());
        String[] run = {"run", "-m", q4, "-p", "Once upon a time", "-n", "4", "--temp", "0", "-t", "1", "--copy-cache", dir.toString()};
        CliRun first = CliRun.of(run);
        CliRun second = CliRun.of(run);
        CliRun none = CliRun.of("run", "-m", q4, "-p", "Once upon a time", "-n", "4", "--temp", "0", "-t", "1", "--no-copy-cache");
        for (CliRun r : new CliRun[] {first, second, none}) assertEquals(0, r.status(), r.err());
        assertEquals(first.out(), second.out());
        assertEquals(first.out(), none.out());
        assertEquals(vector, first.err().contains("saved to " + dir), first.err());
        assertEquals(vector, second.err().contains("mapped from " + dir), second.err());
        assertTrue(!none.err().contains("saved to") && !none.err().contains("mapped from"), none.err());
    }
}
