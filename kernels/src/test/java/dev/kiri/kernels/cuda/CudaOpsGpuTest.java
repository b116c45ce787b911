package dev.kiri.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.Quantize;
import dev.kiri.kernels.KvCache;
import dev.kiri.kernels.RopeTable;
import dev.kiri.kernels.ScalarKernels;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every non-product kernel against the CPU scalar reference ({@link ScalarKernels}, or the
 * reference dequantization for row lookup) on random inputs of awkward sizes.
 */
@Tag("gpu")
class CudaOpsGpuTest {
    private static final double U = 0x1p-24;
    private final ScalarKernels cpu = new ScalarKernels();

    private static float[] random(int n, Random rnd, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * scale);
        return x;
    }

    private static float[] download(CudaContext ctx, DeviceBuffer b, int n) {
        float[] out = new float[n];
        ctx.download(b, 0, out, 0, n);
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, double[] tol, String what) {
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= tol[i])) {
                throw new AssertionError(what + " [" + i + "]: expected " + expected[i] + ", got " + actual[i]
                        + " (difference " + d + " > " + tol[i] + ")");
            }
        }
    }

    @Test
    void rmsnormMatchesTheScalarReference() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        Random rnd = new Random(1);
        for (int size : new int[] {1, 33, 896, 4097}) {
            int rows = 3;
            float[] x = random(rows * size, rnd, 3);
            float[] w = random(size, rnd, 1);
            for (boolean weighted : new boolean[] {true, false}) {
                try (DeviceBuffer dx = k.upload(x, "x"); DeviceBuffer dw = k.upload(w, "w");
                     DeviceBuffer out = ctx.allocateFloats((long) rows * size, "out")) {
                    k.rmsnorm(out, dx, weighted ? dw : null, size, rows, 1e-6f);
                    float[] got = download(ctx, out, rows * size);
                    float[] want = new float[rows * size];
                    for (int r = 0; r < rows; r++) cpu.rmsnorm(want, r * size, x, r * size, weighted ? w : null, size, 1e-6f);
                    double[] tol = new double[want.length];
                    for (int i = 0; i < tol.length; i++) tol[i] = 1e-5 * Math.abs(want[i]) + 1e-30;
                    assertClose(want, got, tol, "rmsnorm size " + size + (weighted ? "" : " unweighted"));
                }
            }
        }
    }

    @Test
    void ropeMatchesTheScalarReferenceForBothPairings() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        Random rnd = new Random(2);
        int nHeads = 5, headDim = 80, ropeDim = 64, n = 3, pos0 = 1234;
        RopeTable table = RopeTable.create(ropeDim, 4096, 500000f, null, 1f);
        DeviceBuffer[] dt = k.upload(table);
        try (DeviceBuffer pos = ctx.allocate(4, "pos")) {
            for (boolean neox : new boolean[] {false, true}) {
                float[] x = random(n * nHeads * headDim, rnd, 2);
                try (DeviceBuffer dx = k.upload(x, "x")) {
                    ctx.setInt(pos, 0, pos0);
                    k.rope(dx, pos, n, nHeads, headDim, ropeDim, dt, neox);
                    float[] got = download(ctx, dx, x.length);
                    float[] want = x.clone();
                    for (int i = 0; i < n; i++) cpu.rope(want, i * nHeads * headDim, nHeads, headDim, pos0 + i, table, neox);
                    double[] tol = new double[x.length];
                    // each output is x0*c - x1*s: two products and a sum, fused or not
                    for (int i = 0; i < tol.length; i++) {
                        int h0 = i / headDim * headDim;
                        double m = 0;
                        for (int d = h0; d < h0 + headDim; d++) m = Math.max(m, Math.abs(x[d]));
                        tol[i] = 4 * U * 2 * m;
                    }
                    assertClose(want, got, tol, neox ? "rope neox" : "rope normal");
                }
            }
        } finally {
            dt[0].close();
            dt[1].close();
        }
    }

    @Test
    void elementwiseOpsMatchTheScalarReference() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        Random rnd = new Random(3);
        int n = 10007;
        float[] a = random(n, rnd, 4);
        float[] b = random(n, rnd, 4);
        a[0] = 12f;
        a[1] = -11f; // beyond the GELU table's range
        try (DeviceBuffer da = k.upload(a, "a"); DeviceBuffer db = k.upload(b, "b");
             DeviceBuffer out = ctx.allocateFloats(n, "out")) {
            float[] want = new float[n];
            double[] exact = new double[n];
            double[] loose = new double[n];

            k.add(out, da, db, n);
            cpu.add(want, 0, a, 0, b, 0, n);
            assertClose(want, download(ctx, out, n), exact, "add");

            // a bias of 97 columns over the 103 rows of a (n = 97 * 103 + 16)
            int cols = 97, rows = n / cols;
            ctx.upload(a, 0, n, out, 0);
            k.addRows(out, db, rows, cols);
            want = a.clone();
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) want[r * cols + c] += b[c];
            assertClose(want, download(ctx, out, n), exact, "addRows");

            k.mul(out, da, db, n);
            cpu.mul(want, 0, a, 0, b, 0, n);
            assertClose(want, download(ctx, out, n), exact, "mul");

            // expf/tanhf are within 2 ulp on the GPU, then a few correctly rounded steps
            k.swiglu(out, da, db, n);
            cpu.swiglu(want, 0, a, 0, b, 0, n);
            for (int i = 0; i < n; i++) loose[i] = 16 * U * Math.abs(want[i]) + 1e-37;
            assertClose(want, download(ctx, out, n), loose, "swiglu");

            // GELU rounds to F16 on both sides; expf/tanhf may move the rounded result by one F16 step
            k.geglu(out, da, db, n);
            cpu.geglu(want, 0, a, 0, b, 0, n);
            for (int i = 0; i < n; i++) loose[i] = 0x1p-10 * Math.abs(want[i]) + 0x1p-24 * Math.abs(b[i]);
            assertClose(want, download(ctx, out, n), loose, "geglu");

            ctx.upload(a, 0, n, out, 0);
            k.gelu(out, n);
            want = a.clone();
            cpu.gelu(want, 0, n);
            for (int i = 0; i < n; i++) loose[i] = 0x1p-10 * Math.abs(want[i]) + 0x1p-24;
            assertClose(want, download(ctx, out, n), loose, "gelu");

            ctx.upload(a, 0, n, out, 0);
            k.silu(out, n);
            want = a.clone();
            cpu.silu(want, 0, n);
            for (int i = 0; i < n; i++) loose[i] = 16 * U * Math.abs(want[i]) + 1e-37;
            assertClose(want, download(ctx, out, n), loose, "silu");

            ctx.upload(a, 0, n, out, 0);
            k.scale(out, 0.125f, n);
            want = a.clone();
            cpu.scale(want, 0, n, 0.125f);
            assertClose(want, download(ctx, out, n), exact, "scale");

            ctx.upload(a, 0, n, out, 0);
            k.softcap(out, 3f, n);
            want = a.clone();
            cpu.softcap(want, 0, n, 3f);
            for (int i = 0; i < n; i++) loose[i] = 16 * U * Math.abs(want[i]) + 1e-37;
            assertClose(want, download(ctx, out, n), loose, "softcap");
        }
    }

    @Test
    void rowLookupDequantizesAsTheReference() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        Random rnd = new Random(4);
        for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0,
                GgmlType.Q4_K, GgmlType.Q6_K}) {
            int rows = 37, cols = 512;
            float[] src = random(rows * cols, rnd, 0.1);
            byte[] bytes = Quantize.quantize(t, src);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(bytes.length, 64);
                MemorySegment.copy(bytes, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
                Weights w = new Weights("emb." + t.ggmlName(), t, seg, rows, cols);
                int[] ids = {0, 36, 17, 5};
                try (DeviceWeights dw = k.upload(w); DeviceBuffer did = ctx.allocate(4L * ids.length, "ids");
                     DeviceBuffer out = ctx.allocateFloats((long) ids.length * cols, "rows")) {
                    for (int i = 0; i < ids.length; i++) ctx.setInt(did, i, ids[i]);
                    k.getRows(dw, did, out, ids.length);
                    float[] got = download(ctx, out, ids.length * cols);
                    float[] want = new float[ids.length * cols];
                    for (int i = 0; i < ids.length; i++) Dequant.row(t, seg, ids[i] * w.rowBytes(), want, i * cols, cols);
                    double[] tol = new double[want.length];
                    // d*sc*q - dmin*m may be fused on the GPU: rounding relative to the min term too
                    for (int i = 0; i < tol.length; i++) {
                        double offset = 0;
                        if (t == GgmlType.Q4_K) {
                            long block = ids[i / cols] * w.rowBytes() + (i % cols) / 256 * 144L;
                            offset = 63 * Math.abs(Float.float16ToFloat(seg.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, block + 2)));
                        }
                        tol[i] = 2 * U * (Math.abs(want[i]) + offset);
                    }
                    assertClose(want, got, tol, "get_rows " + t.ggmlName());
                }
            }
        }
    }

    @Test
    void batchedCausalAttentionMatchesTheScalarReference() {
        CudaKernels k = Gpu.kernels();
        CudaContext ctx = k.context();
        // {nHeads, kvHeads, headDim, first position, tokens, window, softcap, splits}
        int[][] cases = {
                {4, 2, 64, 0, 1, 0, 0, 1},
                {8, 1, 80, 300, 1, 0, 0, 3},
                {6, 3, 128, 1000, 1, 100, 30, 4},
                {4, 4, 256, 517, 1, 0, 50, 5},
                {14, 2, 64, 2047, 1, 0, 0, CudaKernels.attentionSplits(2048)},
                {4, 2, 64, 0, 7, 0, 0, 1},
                {3, 3, 40, 30, 17, 8, 0, 2},
                {6, 3, 128, 990, 11, 100, 30, 4},
                {32, 8, 64, 0, 512, 0, 0, 1},
                {8, 2, 256, 100, 64, 0, 50, 3},
                {8, 2, 128, 1500, 40, 0, 0, 8},   // a short prompt after a long context: the prompt kernel split
                {4, 1, 64, 700, 33, 256, 0, 4},
                {4, 2, 128, 50, 100, 40, 30, 3},  // the tensor-core prompt kernel with a window and soft-capping
                {6, 2, 64, 0, 200, 0, 0, 1},
        };
        Random rnd = new Random(5);
        for (int[] c : cases) {
            int nHeads = c[0], kvHeads = c[1], headDim = c[2], p0 = c[3], n = c[4], window = c[5], splits = c[7];
            float softcap = c[6];
            int last = p0 + n - 1;
            int capacity = last + 1 + 3;
            float scale = (float) (1 / Math.sqrt(headDim));
            String what = "attention heads " + nHeads + "/" + kvHeads + " dim " + headDim + " positions " + p0 + ".." + last
                    + " window " + window + " softcap " + softcap + " splits " + splits;
            KvCache cache = new KvCache(2, kvHeads, headDim, capacity, KvCache.Type.F32);
            try (DeviceKvCache dc = new DeviceKvCache(ctx, 2, kvHeads, headDim, capacity);
                 DeviceBuffer pos = ctx.allocate(4, "pos");
                 DeviceBuffer dk = ctx.allocateFloats((long) (last + 1) * kvHeads * headDim, "k");
                 DeviceBuffer dv = ctx.allocateFloats((long) (last + 1) * kvHeads * headDim, "v");
                 DeviceBuffer dq = ctx.allocateFloats((long) n * nHeads * headDim, "q");
                 DeviceBuffer out = ctx.allocateFloats((long) n * nHeads * headDim, "out");
                 DeviceBuffer scratch = ctx.allocateFloats(CudaKernels.attentionScratchFloats(n, nHeads, headDim, splits), "scratch")) {
                float[] ks = random((last + 1) * kvHeads * headDim, rnd, 1);
                float[] vs = random((last + 1) * kvHeads * headDim, rnd, 1);
                for (int t = 0; t <= last; t++) cache.store(1, t, ks, t * kvHeads * headDim, vs, t * kvHeads * headDim);
                ctx.upload(ks, 0, ks.length, dk, 0);
                ctx.upload(vs, 0, vs.length, dv, 0);
                ctx.setInt(pos, 0, 0);
                k.kvStore(dc, 1, dk, dv, pos, last + 1); // every position in one launch
                float[] q = random(n * nHeads * headDim, rnd, 1);
                ctx.upload(q, 0, q.length, dq, 0);
                ctx.setInt(pos, 0, p0);
                k.attention(dq, out, n, nHeads, dc, 1, pos, window, scale, softcap, scratch, splits);
                float[] got = download(ctx, out, q.length);
                float[] want = new float[q.length];
                cpu.attention(q, want, n, nHeads, cache, 1, p0, window, scale, softcap);
                double maxV = 0;
                for (float v : vs) maxV = Math.max(maxV, Math.abs(v));
                double[] tol = new double[want.length];
                // a weighted mean of values: score, exp and sum rounding, relative to the largest value
                java.util.Arrays.fill(tol, 2e-5 * maxV);
                assertClose(want, got, tol, what);
                float[] keysBack = new float[headDim];
                ctx.download(dc.keys(1), ((long) (kvHeads - 1) * capacity + last) * headDim, keysBack, 0, headDim);
                for (int d = 0; d < headDim; d++) {
                    assertEquals(cache.key(1, kvHeads - 1, last, d), keysBack[d], what + ": stored key d " + d);
                }
            }
        }
        assertTrue(CudaKernels.attentionSplits(1) == 1 && CudaKernels.attentionSplits(1 << 20) == 32);
    }
}
