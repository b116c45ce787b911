package dev.kiri.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.kernels.Kernels;
import dev.kiri.kernels.KernelsProvider;
import dev.kiri.kernels.KvCache;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CPU reference the GPU tests compare with: without TF32 it must be llama.cpp's F32 math on
 * the dequantized weights (the fixtures' {@code .f32-dequantized} references, 1e-4); with TF32 it
 * must move the logits, but by no more than the rounding allows.
 */
class Tf32KernelsTest {
    private static Kernels cpu;

    @BeforeAll
    static void open() {
        cpu = KernelsProvider.create(1);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void roundsToTenMantissaBitsTiesAwayFromZero() {
        assertEquals(1f, Tf32Kernels.tf32(1f + 0x1p-12f));          // below half a TF32 step
        assertEquals(1f + 0x1p-10f, Tf32Kernels.tf32(1f + 0x1p-11f)); // a tie rounds away
        assertEquals(-(1f + 0x1p-10f), Tf32Kernels.tf32(-(1f + 0x1p-11f)));
        assertEquals(Float.POSITIVE_INFINITY, Tf32Kernels.tf32(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(Tf32Kernels.tf32(Float.NaN)));
    }

    @Test
    void withoutTf32ItIsLlamaCppsF32MathOnTheDequantizedWeights() throws Exception {
        for (String stem : new String[] {"tiny-llama-Q4_0", "tiny-llama-Q6_K", "tiny-llama-F16"}) {
            float[] logits = TinyModels.batch(RefLogits.model(stem + ".gguf"), RefLogits.TOKENS,
                    new Tf32Kernels(cpu, Integer.MAX_VALUE), KvCache.Type.F32);
            var d = RefLogits.diff(logits, RefLogits.read(stem + ".f32-dequantized.logits.f32"));
            assertTrue(d.max() <= 1e-4, stem + ": " + d);
        }
    }

    @Test
    void tf32MovesTheLogitsByLessThanItsRounding() throws Exception {
        float[] logits = TinyModels.batch(RefLogits.model("tiny-llama-Q4_0.gguf"), RefLogits.TOKENS, new Tf32Kernels(cpu, 2),
                KvCache.Type.F32);
        var d = RefLogits.diff(logits, RefLogits.read("tiny-llama-Q4_0.f32-dequantized.logits.f32"));
        System.out.println("TF32 emulation vs F32 math, tiny-llama-Q4_0: " + d);
        assertTrue(d.max() > 1e-6 && d.max() < 2e-2, d.toString());
    }
}
