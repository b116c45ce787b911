package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.Weights;
import dev.kiri.kernels.cuda.CudaContext;
import dev.kiri.kernels.cuda.CudaKernels;
import dev.kiri.kernels.cuda.DeviceBuffer;
import dev.kiri.kernels.cuda.DeviceWeights;
import dev.kiri.kernels.cuda.Gpu;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA matrix products of every supported weight type against the exact product of the
 * reference dequantization (held to the float rounding bound of {@link MatmulTestData}), and
 * against the CPU scalar reference {@link ScalarMatmul} (which converts the activations as
 * llama.cpp does, so within that conversion's bound more), on random blocks of awkward shapes.
 */
@Tag("gpu")
class CudaMatvecGpuTest {

    @Test
    void everyWeightTypeMatchesTheReferences() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        Random rnd = new Random(42);
        ScalarMatmul cpu = new ScalarMatmul();
        for (GgmlType t : CudaKernels.SUPPORTED.stream().sorted().toList()) {
            int bs = t.isQuantized() ? t.blockSize() : 32;
            int[][] shapes = {{1, bs}, {7, 3 * bs}, {33, 5 * bs}, {131, 2 * 256 + (t.isQuantized() && bs == 256 ? 0 : 32)},
                    {64, 4096 / bs * bs}};
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1];
                for (int n : new int[] {1, 3}) {
                    try (Arena arena = Arena.ofConfined()) {
                        Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                        float[] x = new float[n * cols];
                        for (int i = 0; i < n; i++) System.arraycopy(MatmulTestData.randomActivations(cols, rnd), 0, x, i * cols, cols);
                        float[] got = new float[n * rows];
                        try (DeviceWeights dw = k.upload(w); DeviceBuffer dx = k.upload(x, "x");
                             DeviceBuffer dy = ctx.allocateFloats((long) n * rows, "y")) {
                            k.matvec(dw, dx, dy, n);
                            ctx.download(dy, 0, got, 0, got.length);
                        }
                        float[] oracle = new float[n * rows];
                        cpu.matmul(w, x, oracle, n);
                        float[][] wr = MatmulTestData.dequantize(w);
                        for (int i = 0; i < n; i++) {
                            for (int r = 0; r < rows; r++) {
                                String what = t.ggmlName() + " " + rows + "x" + cols + " column " + i + " row " + r;
                                double exact = MatmulTestData.exactDot(wr[r], x, i * cols);
                                double rounding = MatmulTestData.roundingBound(w, r, wr[r], x, i * cols);
                                float g = got[i * rows + r];
                                if (!(Math.abs(g - exact) <= rounding)) {
                                    throw new AssertionError(what + ": GPU " + g + ", exact " + exact + ", bound " + rounding);
                                }
                                double cpuBound = MatmulTestData.bound(w, r, wr[r], x, i * cols) + rounding;
                                float c = oracle[i * rows + r];
                                if (!(Math.abs(g - c) <= cpuBound)) {
                                    throw new AssertionError(what + ": GPU " + g + ", CPU " + c + ", bound " + cpuBound);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void quantizedWeightsThatAreNotSixteenByteAlignedAreRejected() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        try (DeviceBuffer raw = ctx.allocate(18 * 4 + 16, "misaligned Q4_0");
             DeviceBuffer x = ctx.allocateFloats(32, "x"); DeviceBuffer y = ctx.allocateFloats(4, "y")) {
            DeviceWeights w = new DeviceWeights("misaligned Q4_0", GgmlType.Q4_0, raw.slice(2, 18 * 4), 4, 32, 18);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> k.matvec(w, x, y, 1));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("16-byte aligned"), e.getMessage());
        }
    }
}
