package dev.kiri.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The driver wrapper on a real GPU: properties, memory accounting, error mapping, graphs. */
@Tag("gpu")
class CudaContextGpuTest {

    @Test
    void deviceReportsSaneProperties() {
        CudaContext ctx = Gpu.kernels().context();
        DeviceInfo d = ctx.device();
        assertFalse(d.name().isBlank());
        assertTrue(d.computeMajor() >= 8, "the PTX targets sm_80 and later: " + d);
        assertTrue(d.multiprocessors() > 0 && d.totalMemory() > 0, d.toString());
        CudaContext.MemoryInfo m = ctx.memoryInfo();
        assertTrue(m.free() > 0 && m.free() <= m.total(), m.toString());
    }

    @Test
    void allocationsAreCountedAndFreed() {
        CudaContext ctx = Gpu.kernels().context();
        long before = ctx.allocatedBytes();
        DeviceBuffer b = ctx.allocate(3 << 20, "test buffer");
        assertEquals(before + (3 << 20), ctx.allocatedBytes());
        float[] x = {1, 2, 3, -4.5f, Float.MIN_VALUE};
        ctx.upload(x, 0, x.length, b, 7);
        float[] back = new float[x.length];
        ctx.download(b, 7, back, 0, x.length);
        assertArrayEquals(x, back);
        float[] big = new float[(5 << 20) / 4 + 3]; // a heap segment goes through staging, in chunks
        for (int i = 0; i < big.length; i++) big[i] = i;
        try (DeviceBuffer c = ctx.allocate(4L * big.length, "heap upload")) {
            ctx.upload(java.lang.foreign.MemorySegment.ofArray(big), c, 0);
            float[] bigBack = new float[big.length];
            ctx.download(c, 0, bigBack, 0, big.length);
            assertArrayEquals(big, bigBack);
        }
        b.close();
        b.close(); // twice is harmless
        assertEquals(before, ctx.allocatedBytes());
        assertThrows(IllegalStateException.class, b::address);
    }

    @Test
    void tooLargeAModelIsRefusedBeforeAllocating() {
        CudaContext ctx = Gpu.kernels().context();
        CudaException e = assertThrows(CudaException.class, () -> ctx.requireFits(1L << 50, "a 1 PiB model"));
        assertTrue(e.getMessage().startsWith("a 1 PiB model needs"), e.getMessage());
    }

    @Test
    void driverErrorsCarryTheDriversName() {
        CudaContext ctx = Gpu.kernels().context();
        CudaException oom = assertThrows(CudaException.class, () -> ctx.allocate(1L << 50, "absurd buffer"));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", oom.errorName());
        assertTrue(oom.getMessage().startsWith("cuMemAlloc_v2 (absurd buffer, "), oom.getMessage());
        CudaException bad = assertThrows(CudaException.class,
                () -> ctx.loadModule("garbage", "this is not PTX".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(bad.errorName().startsWith("CUDA_ERROR_"), bad.errorName());
        assertTrue(bad.getMessage().startsWith("cuModuleLoadDataEx (garbage.ptx): CUDA_ERROR_"), bad.getMessage());
        assertEquals("CUDA_ERROR_INVALID_VALUE", Driver.errorName(1));
        assertEquals("CUresult 987654", Driver.errorName(987654));
    }

    @Test
    void aCapturedGraphReplaysWithTheValuesInDeviceMemory() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        int n = 1000;
        try (DeviceBuffer a = ctx.allocateFloats(n, "a"); DeviceBuffer b = ctx.allocateFloats(n, "b");
             DeviceBuffer out = ctx.allocateFloats(n, "out")) {
            float[] av = new float[n];
            float[] bv = new float[n];
            for (int i = 0; i < n; i++) {
                av[i] = i;
                bv[i] = 0.5f * i;
            }
            ctx.upload(av, 0, n, a, 0);
            ctx.upload(bv, 0, n, b, 0);
            try (CudaGraph g = ctx.capture(() -> {
                k.add(out, a, b, n);
                k.scale(out, 2f, n);
            })) {
                float[] got = new float[n];
                ctx.download(out, 0, got, 0, n);
                assertEquals(0f, got[n - 1], "capturing runs nothing");
                g.launch();
                ctx.download(out, 0, got, 0, n);
                for (int i = 0; i < n; i++) assertEquals(3f * i, got[i], "i " + i);
                ctx.upload(bv, 0, n, a, 0); // new inputs, same graph
                g.launch();
                ctx.download(out, 0, got, 0, n);
                for (int i = 0; i < n; i++) assertEquals(2f * i, got[i], "replay i " + i);
            }
        }
    }
}
