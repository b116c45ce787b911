package dev.kiri.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgmlType;
import org.junit.jupiter.api.Test;

/** The launch choices of {@link CudaKernels} that need no GPU: batch attention splits, when the tensor-core product applies. */
class CudaKernelsShapeTest {
    @Test
    void batchAttentionSplitsOnlyWhileItsBlocksLeaveTheGpuIdle() {
        assertEquals(1, CudaKernels.batchSplits(16, 128 * 32, 132), "512 tokens of 32 heads in tiles of 4");
        assertEquals(9, CudaKernels.batchSplits(16, 2 * 32, 132), "5 tokens of 32 heads: 64 blocks, 528 wanted");
        assertEquals(3, CudaKernels.batchSplits(3, 2 * 32, 132), "never more than asked");
        assertEquals(1, CudaKernels.batchSplits(1, 1, 132));
        assertEquals(4, CudaKernels.batchSplits(32, 1, 1), "a device reporting no multiprocessors still gets a sane count");
        assertEquals(4, CudaKernels.batchSplits(32, 1, 0));
    }

    @Test
    void tensorCoreProductNeedsColumnsOf32PackedRowsAndAlignedBuffers() {
        DeviceBuffer w = new DeviceBuffer(null, 4096, 1 << 20, "w");
        DeviceBuffer x = new DeviceBuffer(null, 8192, 1 << 20, "x");
        DeviceWeights q8 = new DeviceWeights("q8", GgmlType.Q8_0, w, 64, 256, GgmlType.Q8_0.byteSize(256));
        assertTrue(CudaKernels.gemmApplies(q8, x));
        assertFalse(CudaKernels.gemmApplies(q8, x.slice(4, 1024)), "activations off 16-byte alignment");
        assertFalse(CudaKernels.gemmApplies(new DeviceWeights("q8", GgmlType.Q8_0, w.slice(2, 4096), 64, 256, 272), x),
                "weights off 16-byte alignment");
        assertFalse(CudaKernels.gemmApplies(new DeviceWeights("q8", GgmlType.Q8_0, w, 64, 256, 300), x), "rows not packed");
        assertFalse(CudaKernels.gemmApplies(new DeviceWeights("f32", GgmlType.F32, w, 64, 100, 400), x), "100 columns");
        assertTrue(CudaKernels.gemmApplies(new DeviceWeights("f32", GgmlType.F32, w, 64, 96, 384), x));
    }

    @Test
    void tensorCoreProductHalvesTheReductionOnlyForGridsThatLeaveTheGpuIdle() {
        assertEquals(2, CudaKernels.gemmSplits(GgmlType.Q4_0, 2048, 2048, 512, 132), "16 x 8 tiles");
        assertEquals(2, CudaKernels.gemmSplits(GgmlType.Q4_K, 2048, 8192, 512, 132), "down: 16 x 8 tiles");
        assertEquals(1, CudaKernels.gemmSplits(GgmlType.Q4_0, 8192, 2048, 512, 132), "gate/up: 64 x 8 tiles");
        assertEquals(1, CudaKernels.gemmSplits(GgmlType.Q6_K, 512, 256, 512, 132), "256 columns do not halve into K-quant blocks");
        assertEquals(2, CudaKernels.gemmSplits(GgmlType.F16, 512, 64, 16, 132));
        assertEquals(1, CudaKernels.gemmSplits(GgmlType.F16, 512, 96, 16, 132), "48 is not a whole number of 32-column chunks");
    }

    @Test
    void wideProductOnlyForLongPromptsWhoseBlocksStillFillHalfTheGpu() {
        assertEquals(new CudaKernels.GemmPlan(true, 1), CudaKernels.gemmPlan(GgmlType.Q4_0, 8192, 2048, 512, 132), "gate/up: 64 x 4 wide tiles");
        assertEquals(new CudaKernels.GemmPlan(true, 2), CudaKernels.gemmPlan(GgmlType.Q8_0, 2048, 8192, 512, 132), "down: 16 x 4, halved");
        assertEquals(new CudaKernels.GemmPlan(true, 2), CudaKernels.gemmPlan(GgmlType.Q4_0, 2048, 2048, 512, 132), "q/o: 16 x 4, halved");
        assertEquals(new CudaKernels.GemmPlan(false, 2), CudaKernels.gemmPlan(GgmlType.Q4_0, 512, 2048, 512, 132), "k/v: 32 wide blocks are too few");
        assertEquals(new CudaKernels.GemmPlan(false, 2), CudaKernels.gemmPlan(GgmlType.Q4_0, 8192, 2048, 200, 132), "under 256 tokens");
        assertEquals(new CudaKernels.GemmPlan(true, 1), CudaKernels.gemmPlan(GgmlType.Q6_K, 128256, 2048, 256, 132), "the output matrix");
    }
}
