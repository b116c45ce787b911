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
 * The tensor-core product ({@code gemm.cu}) of every supported weight type, on its own (whole and
 * with the reduction in two halves) for 1 to 40 columns and beyond a token tile, and through
 * {@link CudaKernels#matvec} on both sides of
 * {@link CudaKernels#GEMM_MIN_COLUMNS}: against the exact product of the reference dequantization
 * within TF32 rounding ({@link #tf32Bound}), and against the CPU scalar reference
 * {@link ScalarMatmul} within that plus the CPU's activation conversion bound.
 */
@Tag("gpu")
class CudaGemmGpuTest {
    private static final double U = MatmulTestData.U;

    /**
     * Both inputs rounded to TF32 (10 mantissa bits, to nearest: relative 2^-11 each) put a term
     * w·x off by at most (2^-10 + 2^-22)|w·x|; the dequantization rounds in float relative to its
     * parts (the K-quant min term counted in the magnitude, as {@link MatmulTestData} does); the F32
     * accumulation adds at most (cols + 16) units of 2^-24 of the running magnitude, doubled for
     * accumulators that truncate instead of rounding.
     */
    static double tf32Bound(Weights w, int row, float[] wr, float[] x, int xOff) {
        GgmlType t = w.type();
        double magnitude = 0;
        for (int c = 0; c < w.cols(); c++) {
            double off = t.isQuantized() ? MatmulTestData.offsetMagnitude(w, row, c / t.blockSize()) : 0;
            magnitude += (Math.abs(wr[c]) + 2 * off) * Math.abs(x[xOff + c]);
        }
        return (0x1p-10 + 0x1p-21 + 2 * (w.cols() + 16) * U) * magnitude + 1e-30;
    }

    @Test
    void everyWeightTypeMatchesTheReferencesWithinTf32Rounding() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        Random rnd = new Random(43);
        ScalarMatmul cpu = new ScalarMatmul();
        int maxN = 40;
        for (GgmlType t : CudaKernels.SUPPORTED.stream().sorted().toList()) {
            // {rows, cols, largest n}: a partial row tile; several row tiles and a long reduction over
            // more than one token tile
            int[][] shapes = {{131, 512, maxN}, {300, 2048, 130}};
            for (int[] shape : shapes) {
                int rows = shape[0], cols = shape[1], top = shape[2];
                try (Arena arena = Arena.ofConfined()) {
                    Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                    float[] x = new float[top * cols];
                    for (int i = 0; i < top; i++) System.arraycopy(MatmulTestData.randomActivations(cols, rnd), 0, x, i * cols, cols);
                    float[][] wr = MatmulTestData.dequantize(w);
                    double[][] exact = new double[top][rows];
                    double[][] bound = new double[top][rows];
                    double[][] cpuBound = new double[top][rows];
                    for (int i = 0; i < top; i++) {
                        for (int r = 0; r < rows; r++) {
                            exact[i][r] = MatmulTestData.exactDot(wr[r], x, i * cols);
                            bound[i][r] = tf32Bound(w, r, wr[r], x, i * cols);
                            cpuBound[i][r] = MatmulTestData.bound(w, r, wr[r], x, i * cols) + bound[i][r];
                        }
                    }
                    float[] oracle = new float[top * rows];
                    cpu.matmul(w, x, oracle, top);
                    int[] ns = top == maxN ? new int[maxN] : new int[] {16, 63, 64, 65, 130};
                    if (top == maxN) for (int i = 0; i < maxN; i++) ns[i] = i + 1;
                    try (DeviceWeights dw = k.upload(w); DeviceBuffer dx = k.upload(x, "x");
                         DeviceBuffer dy = ctx.allocateFloats((long) top * rows + 64, "y")) {
                        for (int n : ns) {
                            // 0: matvec's choice; 1, 2: the tensor-core product whole and in two halves, and
                            // 3, 4 the same by the wide variant (128 tokens per block)
                            for (int m = 0; m < 5; m++) {
                                boolean forced = m > 0;
                                int mode = forced ? 2 - m % 2 : 0;
                                boolean wide = m >= 3;
                                float[] guard = new float[64];
                                java.util.Arrays.fill(guard, 7f);
                                ctx.upload(guard, 0, 64, dy, (long) n * rows);
                                if (forced) k.gemm(dw, dx, dy, n, mode, wide);
                                else k.matvec(dw, dx, dy, n);
                                float[] got = new float[n * rows + 64];
                                ctx.download(dy, 0, got, 0, got.length);
                                boolean tensor = forced || n >= CudaKernels.GEMM_MIN_COLUMNS;
                                for (int i = 0; i < n; i++) {
                                    for (int r = 0; r < rows; r++) {
                                        String what = t.ggmlName() + " " + rows + "x" + cols + (forced ? " gemm" + (wide ? " wide" : "") + " splits " + mode : " matvec")
                                                + " n " + n + " column " + i + " row " + r;
                                        float g = got[i * rows + r];
                                        // below the threshold the matrix-vector kernels run: held here only to the
                                        // bound of a product with converted activations (CudaMatvecGpuTest holds them
                                        // to their own), which is the CPU path's
                                        double b = tensor ? bound[i][r] : cpuBound[i][r];
                                        if (!(Math.abs(g - exact[i][r]) <= b)) {
                                            throw new AssertionError(what + ": GPU " + g + ", exact " + exact[i][r] + ", bound " + b);
                                        }
                                        float c = oracle[i * rows + r];
                                        if (!(Math.abs(g - c) <= cpuBound[i][r])) {
                                            throw new AssertionError(what + ": GPU " + g + ", CPU " + c + ", bound " + cpuBound[i][r]);
                                        }
                                    }
                                }
                                for (int g = n * rows; g < got.length; g++) {
                                    if (got[g] != 7f) {
                                        throw new AssertionError(t.ggmlName() + " n " + n + ": wrote past the output, float " + g);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
