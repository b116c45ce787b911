package dev.kiri.kernels.cuda;

import static dev.kiri.kernels.cuda.Emulator.at;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.Quantize;
import dev.kiri.kernels.KvCache;
import dev.kiri.kernels.RopeTable;
import dev.kiri.kernels.ScalarKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels' arithmetic on the CPU, without a GPU: the {@code .cu} sources run under the
 * thread emulation of {@link Emulator}, launched with the shapes {@link CudaKernels} uses, and
 * compared with the CPU references ({@link ScalarKernels}, {@link Dequant}) on small random
 * inputs. Skipped, saying why, where g++ with C++20 is not installed.
 */
class CudaEmulationTest {
    private static final double U = 0x1p-24;
    private final ScalarKernels cpu = new ScalarKernels();

    @BeforeAll
    static void emulatorBuilds() {
        String why = Emulator.unavailable();
        if (why != null) {
            System.out.println("[cuda] emulation skipped: " + why);
            Assumptions.abort(why);
        }
    }

    private static float[] random(Random rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * scale);
        return x;
    }

    private static void assertClose(float[] want, float[] got, double rel, double abs, String what) {
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            if (!(d <= rel * Math.abs(want[i]) + abs)) {
                throw new AssertionError(what + " [" + i + "]: expected " + want[i] + ", got " + got[i]);
            }
        }
    }

    private static int blocks(long n, int per) {
        return (int) ((n + per - 1) / per);
    }

    /** One product checked by the matvec test: {@code rows x cols}, {@code n} columns, x at a byte offset. */
    private record MvCase(int rows, int cols, int n, int xOffsetBytes) {
    }

    /**
     * Shapes for the matvec kernels of {@code t}: row counts that are and are not multiples of the
     * rows per block, rows of one block up to rows spanning every warp of a block, activations that
     * are not 16-byte aligned (a slice), and for the float types rows whose length rules out
     * 16-byte loads.
     */
    private static List<MvCase> matvecCases(GgmlType t) {
        int bs = t.isQuantized() ? t.blockSize() : 32;
        List<MvCase> cases = new ArrayList<>(List.of(new MvCase(1, bs, 1, 0), new MvCase(3, 3 * bs, 2, 0),
                new MvCase(37, 2 * bs, 1, 0), new MvCase(130, bs, 2, 0), new MvCase(9, 3 * bs, 2, 4),
                new MvCase(6, bs == 256 ? 8192 : 2048, 1, 0), new MvCase(5, bs == 256 ? 768 : 1056, 1, 0)));
        if (!t.isQuantized()) {
            cases.add(new MvCase(7, 37, 2, 0));
            cases.add(new MvCase(5, 36, 1, 0));
            cases.add(new MvCase(4, 40, 1, 8));
        }
        return cases;
    }

    /** Random weights of type t (Q4_K with non-zero mins), as stored and dequantized by the reference. */
    private record Quantized(byte[] bytes, MemorySegment segment, float[] dequantized) {
    }

    private static Quantized quantized(GgmlType t, Random rnd, int rows, int cols) {
        float[] src = random(rnd, rows * cols, 0.1);
        if (t == GgmlType.Q4_K) for (int i = 0; i < src.length; i++) src[i] += 0.03f; // non-zero mins
        byte[] w = Quantize.quantize(t, src);
        long rowBytes = t.byteSize(cols);
        MemorySegment seg = MemorySegment.ofArray(w);
        float[] deq = new float[rows * cols];
        for (int r = 0; r < rows; r++) Dequant.row(t, seg, r * rowBytes, deq, r * cols, cols);
        return new Quantized(w, seg, deq);
    }

    @Test
    void matvecAndRowLookupOfEveryTypeMatchTheReferenceDequantization() throws Exception {
        Random rnd = new Random(11);
        for (GgmlType t : CudaKernels.SUPPORTED.stream().sorted().toList()) {
            String kernel = "kiri_matvec_" + t.ggmlName().toLowerCase(java.util.Locale.ROOT);
            List<MvCase> cases = matvecCases(t);
            Emulator e = new Emulator();
            List<float[]> deqs = new ArrayList<>(), xs = new ArrayList<>();
            List<MemorySegment> segs = new ArrayList<>();
            int[] outs = new int[cases.size()], weights = new int[cases.size()];
            for (int k = 0; k < cases.size(); k++) {
                MvCase c = cases.get(k);
                int rows = c.rows(), cols = c.cols(), n = c.n();
                Quantized q = quantized(t, rnd, rows, cols);
                byte[] w = q.bytes();
                long rowBytes = t.byteSize(cols);
                MemorySegment seg = q.segment();
                float[] deq = q.dequantized();
                float[] x = random(rnd, n * cols, 1);
                float[] padded = new float[c.xOffsetBytes() / 4 + x.length];
                System.arraycopy(x, 0, padded, c.xOffsetBytes() / 4, x.length);
                int dw = e.buffer(w), dx = e.buffer(padded);
                weights[k] = dw;
                outs[k] = e.zeros(4L * n * rows);
                e.launch(kernel, blocks(rows, CudaKernels.MV_ROWS), n, CudaKernels.matvecThreads(t, cols),
                        at(dw), rowBytes, new Emulator.Ref(dx, c.xOffsetBytes()), at(outs[k]), rows, cols);
                deqs.add(deq);
                xs.add(x);
                segs.add(seg);
            }
            // row lookup on the second case's matrix
            MvCase c1 = cases.get(1);
            int[] ids = {2, 0, 1};
            int did = e.buffer(ids), drows = e.zeros(4L * ids.length * c1.cols());
            e.launch("kiri_get_rows", blocks(c1.cols(), CudaKernels.ELEM_THREADS), ids.length, CudaKernels.ELEM_THREADS,
                    at(weights[1]), t.byteSize(c1.cols()), t.id(), at(did), at(drows), c1.rows(), c1.cols());
            e.run();

            for (int k = 0; k < cases.size(); k++) {
                MvCase c = cases.get(k);
                int rows = c.rows(), cols = c.cols(), n = c.n();
                long rowBytes = t.byteSize(cols);
                float[] deq = deqs.get(k), x = xs.get(k), y = e.floats(outs[k]);
                for (int i = 0; i < n; i++) {
                    for (int r = 0; r < rows; r++) {
                        double exact = 0, magnitude = 0;
                        for (int col = 0; col < cols; col++) {
                            double off = 0;
                            if (t == GgmlType.Q4_K) {
                                long o = r * rowBytes + (col / 256) * 144L + 2;
                                off = 63 * Math.abs(Float.float16ToFloat(segs.get(k).get(ValueLayout.JAVA_SHORT_UNALIGNED, o)));
                            }
                            exact += (double) deq[r * cols + col] * x[i * cols + col];
                            magnitude += (Math.abs(deq[r * cols + col]) + 2 * off) * Math.abs(x[i * cols + col]);
                        }
                        // float sums of at most cols/32 + 48 steps
                        double bound = 2 * (cols / 32.0 + 48) * U * magnitude;
                        if (!(Math.abs(y[i * rows + r] - exact) <= bound)) {
                            throw new AssertionError(kernel + " " + c + " column " + i + " row " + r + ": " + y[i * rows + r]
                                    + ", exact " + exact + ", bound " + bound);
                        }
                    }
                }
            }
            float[] deq1 = deqs.get(1);
            float[] want = new float[ids.length * c1.cols()];
            for (int i = 0; i < ids.length; i++) System.arraycopy(deq1, ids[i] * c1.cols(), want, i * c1.cols(), c1.cols());
            assertClose(want, e.floats(drows), 2 * U, t == GgmlType.Q4_K ? 1e-6 : 0, "kiri_get_rows " + t.ggmlName());
        }
    }

    @Test
    void rmsnormRopeAndElementwiseMatchScalarKernels() throws Exception {
        Random rnd = new Random(12);
        Emulator e = new Emulator();
        int rows = 2, size = 300;
        float[] x = random(rnd, rows * size, 3), w = random(rnd, size, 1);
        int dx = e.buffer(x), dw = e.buffer(w), dn = e.zeros(4L * rows * size), dn0 = e.zeros(4L * rows * size);
        e.launch("kiri_rmsnorm", rows, 1, CudaKernels.ELEM_THREADS, at(dn), at(dx), at(dw), size, 1e-6f);
        e.launch("kiri_rmsnorm", rows, 1, CudaKernels.ELEM_THREADS, at(dn0), at(dx), Emulator.NULL, size, 1e-6f);

        int n = 2, nHeads = 3, headDim = 80, ropeDim = 64, pos0 = 17;
        RopeTable table = RopeTable.create(ropeDim, 64, 10000f, null, 1f);
        float[] q = random(rnd, n * nHeads * headDim, 2);
        int dcos = e.buffer(table.cosTable()), dsin = e.buffer(table.sinTable()), dpos = e.buffer(new int[] {pos0});
        int dq0 = e.buffer(q), dq1 = e.buffer(q);
        for (int neox = 0; neox < 2; neox++) {
            e.launch("kiri_rope", blocks((long) nHeads * (ropeDim / 2), 128), n, 128,
                    at(neox == 0 ? dq0 : dq1), at(dpos), nHeads, headDim, ropeDim, at(dcos), at(dsin), neox);
        }

        int m = 1000;
        float[] a = random(rnd, m, 4), b = random(rnd, m, 4);
        a[0] = 12f;
        a[1] = -11f;
        int da = e.buffer(a), db = e.buffer(b);
        String[] binary = {"kiri_add", "kiri_mul", "kiri_swiglu", "kiri_geglu"};
        int[] outs = new int[binary.length];
        for (int i = 0; i < binary.length; i++) {
            outs[i] = e.zeros(4L * m);
            e.launch(binary[i], blocks(m, CudaKernels.ELEM_THREADS), 1, CudaKernels.ELEM_THREADS, at(outs[i]), at(da), at(db), m);
        }
        int dsilu = e.buffer(a), dgelu = e.buffer(a), dscale = e.buffer(a), dcap = e.buffer(a);
        e.launch("kiri_silu_inplace", blocks(m, CudaKernels.ELEM_THREADS), 1, CudaKernels.ELEM_THREADS, at(dsilu), m);
        e.launch("kiri_gelu_inplace", blocks(m, CudaKernels.ELEM_THREADS), 1, CudaKernels.ELEM_THREADS, at(dgelu), m);
        e.launch("kiri_scale", blocks(m, CudaKernels.ELEM_THREADS), 1, CudaKernels.ELEM_THREADS, at(dscale), 0.125f, m);
        e.launch("kiri_softcap", blocks(m, CudaKernels.ELEM_THREADS), 1, CudaKernels.ELEM_THREADS, at(dcap), 3f, m);
        e.run();

        float[] want = new float[rows * size];
        for (int r = 0; r < rows; r++) cpu.rmsnorm(want, r * size, x, r * size, w, size, 1e-6f);
        assertClose(want, e.floats(dn), 1e-5, 0, "rmsnorm");
        for (int r = 0; r < rows; r++) cpu.rmsnorm(want, r * size, x, r * size, null, size, 1e-6f);
        assertClose(want, e.floats(dn0), 1e-5, 0, "rmsnorm without weight");
        for (int neox = 0; neox < 2; neox++) {
            float[] wq = q.clone();
            for (int i = 0; i < n; i++) cpu.rope(wq, i * nHeads * headDim, nHeads, headDim, pos0 + i, table, neox == 1);
            assertClose(wq, e.floats(neox == 0 ? dq0 : dq1), 0, 1e-6, neox == 0 ? "rope" : "rope neox");
        }
        float[] r = new float[m];
        cpu.add(r, 0, a, 0, b, 0, m);
        assertClose(r, e.floats(outs[0]), 0, 0, "add");
        cpu.mul(r, 0, a, 0, b, 0, m);
        assertClose(r, e.floats(outs[1]), 0, 0, "mul");
        cpu.swiglu(r, 0, a, 0, b, 0, m);
        assertClose(r, e.floats(outs[2]), 16 * U, 1e-37, "swiglu");
        cpu.geglu(r, 0, a, 0, b, 0, m);
        assertClose(r, e.floats(outs[3]), 0x1p-10, 1e-6, "geglu");
        r = a.clone();
        cpu.silu(r, 0, m);
        assertClose(r, e.floats(dsilu), 16 * U, 1e-37, "silu");
        r = a.clone();
        cpu.gelu(r, 0, m);
        assertClose(r, e.floats(dgelu), 0x1p-10, 0x1p-24, "gelu");
        r = a.clone();
        cpu.scale(r, 0, m, 0.125f);
        assertClose(r, e.floats(dscale), 0, 0, "scale");
        r = a.clone();
        cpu.softcap(r, 0, m, 3f);
        assertClose(r, e.floats(dcap), 16 * U, 1e-37, "softcap");
    }

    @Test
    void kvStoreAndBatchedSplitAttentionMatchScalarKernels() throws Exception {
        // {nHeads, kvHeads, headDim, first position, tokens, window, softcap, splits}
        int[][] cases = {
                {4, 2, 64, 40, 1, 0, 0, 3}, {2, 1, 256, 9, 1, 4, 20, 2}, {8, 2, 128, 70, 1, 0, 0, 4}, {4, 4, 80, 2, 1, 0, 0, 8},
                {4, 2, 64, 0, 5, 0, 0, 1}, {4, 2, 40, 12, 5, 6, 0, 2}, {3, 3, 40, 20, 5, 0, 25, 3}, {3, 3, 64, 7, 5, 3, 15, 2},
                {4, 2, 40, 0, 5, 2, 30, 4}, {3, 3, 64, 30, 5, 0, 0, 7}, {4, 2, 64, 3, 9, 2, 0, 3}, {3, 3, 40, 0, 8, 0, 0, 1},
                // more tokens than a prompt block takes (64 for head dims to 64, 32 to 128, 16 to 256)
                {4, 2, 64, 5, 70, 0, 0, 2}, {2, 1, 128, 0, 40, 16, 20, 1}, {2, 2, 256, 3, 33, 0, 0, 1}, {3, 3, 40, 10, 66, 33, 0, 1},
                // the tensor-core prompt kernel: key tiles cut by the chunk ends, a window across tiles, soft-capping
                {2, 1, 64, 37, 45, 50, 0, 3}, {2, 2, 128, 100, 34, 0, 30, 2},
        };
        Random rnd = new Random(13);
        for (int[] c : cases) {
            int nHeads = c[0], kvHeads = c[1], headDim = c[2], p0 = c[3], n = c[4], window = c[5], splits = c[7];
            float softcap = c[6], scale = (float) (1 / Math.sqrt(headDim));
            int last = p0 + n - 1;
            int capacity = last + 3;
            String what = "attention " + java.util.Arrays.toString(c);
            float[] ks = random(rnd, (last + 1) * kvHeads * headDim, 1), vs = random(rnd, (last + 1) * kvHeads * headDim, 1);
            float[] q = random(rnd, n * nHeads * headDim, 1);
            KvCache cache = new KvCache(1, kvHeads, headDim, capacity, KvCache.Type.F32);
            for (int t = 0; t <= last; t++) cache.store(0, t, ks, t * kvHeads * headDim, vs, t * kvHeads * headDim);
            float[] want = new float[q.length];
            cpu.attention(q, want, n, nHeads, cache, 0, p0, window, scale, softcap);

            Emulator e = new Emulator();
            long cacheBytes = 4L * kvHeads * capacity * headDim;
            int kc = e.zeros(cacheBytes), vc = e.zeros(cacheBytes), dk = e.buffer(ks), dv = e.buffer(vs);
            int pos0 = e.buffer(new int[] {0}), pos = e.buffer(new int[] {p0}), dq = e.buffer(q);
            int part = e.zeros(4 * CudaKernels.attentionScratchFloats(n, nHeads, headDim, splits)), out = e.zeros(4L * q.length);
            e.launch("kiri_kv_store", blocks((long) kvHeads * headDim, 128), last + 1, 128,
                    at(kc), at(vc), at(dk), at(dv), at(pos0), kvHeads, headDim, capacity);
            // the launch shapes of CudaKernels.attention: one token per block and tiles of 4 (either
            // may run any n here: the tile kernel also for a single token, the other for a batch)
            // (the split kernels only below the prompt kernel's threshold, as CudaKernels runs them: the
            // emulation of their shuffles is slow)
            boolean small = n < CudaKernels.ATTN_PREFILL_MIN;
            int out4 = e.zeros(4L * q.length), part4 = e.zeros(4 * CudaKernels.attentionScratchFloats(n, nHeads, headDim, splits));
            if (small) {
                e.launch("kiri_attn_split", n * nHeads, splits, CudaKernels.ATTN_THREADS,
                        at(dq), at(kc), at(vc), at(part), at(pos), nHeads, kvHeads, headDim, capacity, window, scale, softcap, n);
                e.launch("kiri_attn_merge", n * nHeads, 1, Math.min(256, (headDim + 31) / 32 * 32), at(part), at(out), headDim, splits);
                e.launch("kiri_attn_split4", blocks(n, CudaKernels.ATTN_TILE) * nHeads, splits, CudaKernels.ATTN_THREADS,
                        at(dq), at(kc), at(vc), at(part4), at(pos), nHeads, kvHeads, headDim, capacity, window, scale, softcap, n);
                e.launch("kiri_attn_merge", n * nHeads, 1, Math.min(256, (headDim + 31) / 32 * 32), at(part4), at(out4), headDim,
                        splits);
            }
            // and the prompt kernel (CudaKernels uses it from 32 tokens; any n works)
            // whole (writing out) and with the case's splits (partials, merged)
            int outP = e.zeros(4L * q.length), outPs = e.zeros(4L * q.length);
            int partP = e.zeros(4 * CudaKernels.attentionScratchFloats(n, nHeads, headDim, splits));
            int prefillBlocks = blocks(n, CudaKernels.ATTN_PREFILL_THREADS / CudaKernels.attentionLanes(headDim)) * nHeads;
            e.launch("kiri_attn_prefill", prefillBlocks, 1, CudaKernels.ATTN_PREFILL_THREADS, at(dq), at(kc), at(vc), at(outP),
                    Emulator.NULL, at(pos), nHeads, kvHeads, headDim, capacity, window, scale, softcap, n);
            e.launch("kiri_attn_prefill", prefillBlocks, splits, CudaKernels.ATTN_PREFILL_THREADS, at(dq), at(kc), at(vc),
                    at(outPs), at(partP), at(pos), nHeads, kvHeads, headDim, capacity, window, scale, softcap, n);
            if (splits > 1) {
                e.launch("kiri_attn_merge", n * nHeads, 1, Math.min(256, (headDim + 31) / 32 * 32), at(partP), at(outPs), headDim,
                        splits);
            }
            // and the tensor-core prompt kernel for head dimensions 64 and 128, whole and split, from 32 tokens
            boolean flash = (headDim == 64 || headDim == 128) && n >= CudaKernels.ATTN_PREFILL_MIN;   // as CudaKernels runs it (its emulation is slow)
            int outF = e.zeros(4L * q.length), outFs = e.zeros(4L * q.length);
            int partF = e.zeros(4 * CudaKernels.attentionScratchFloats(n, nHeads, headDim, splits));
            if (flash) {
                String kernel = "kiri_attn_flash" + headDim;
                int flashBlocks = blocks(n, CudaKernels.ATTN_FLASH_TOKENS) * nHeads;
                e.launch(kernel, flashBlocks, 1, CudaKernels.ATTN_FLASH_THREADS, at(dq), at(kc), at(vc), at(outF),
                        Emulator.NULL, at(pos), nHeads, kvHeads, capacity, window, scale, softcap, n);
                e.launch(kernel, flashBlocks, splits, CudaKernels.ATTN_FLASH_THREADS, at(dq), at(kc), at(vc), at(outFs),
                        at(partF), at(pos), nHeads, kvHeads, capacity, window, scale, softcap, n);
                if (splits > 1) {
                    e.launch("kiri_attn_merge", n * nHeads, 1, Math.min(256, (headDim + 31) / 32 * 32), at(partF), at(outFs),
                            headDim, splits);
                }
            }
            e.run();
            double maxV = 0;
            for (float v : vs) maxV = Math.max(maxV, Math.abs(v));
            // a weighted mean of values: score, exp and sum rounding, relative to the largest value
            if (small) {
                assertClose(want, e.floats(out), 0, 2e-5 * maxV, what);
                assertClose(want, e.floats(out4), 0, 2e-5 * maxV, what + " in tiles of " + CudaKernels.ATTN_TILE);
            }
            assertClose(want, e.floats(outP), 0, 2e-5 * maxV, what + " by the prompt kernel");
            assertClose(want, e.floats(outPs), 0, 2e-5 * maxV, what + " by the prompt kernel in " + splits + " splits");
            if (flash) {
                assertClose(want, e.floats(outF), 0, 2e-5 * maxV, what + " by the tensor-core prompt kernel");
                assertClose(want, e.floats(outFs), 0, 2e-5 * maxV, what + " by the tensor-core prompt kernel in " + splits + " splits");
            }
            float[] kBack = e.floats(kc);
            for (int h = 0; h < kvHeads; h++) {
                for (int d = 0; d < headDim; d++) {
                    float got = kBack[(h * capacity + last) * headDim + d];
                    if (got != cache.key(0, h, last, d)) throw new AssertionError(what + ": stored key h" + h + " d" + d);
                }
            }
        }
    }

    @Test
    void addRowsBroadcastsTheBiasOverEveryRow() throws Exception {
        Random rnd = new Random(14);
        int rows = 5, cols = 131, n = rows * cols;
        float[] x = random(rnd, n + 7, 2), bias = random(rnd, cols, 1);
        Emulator e = new Emulator();
        int dx = e.buffer(x), db = e.buffer(bias);
        e.launch("kiri_add_rows", blocks(n, CudaKernels.ELEM_THREADS), 1, CudaKernels.ELEM_THREADS, at(dx), at(db), cols, n);
        e.run();
        float[] want = x.clone();
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) want[r * cols + c] = x[r * cols + c] + bias[c];
        assertClose(want, e.floats(dx), 0, 0, "kiri_add_rows (the 7 floats after the rows stay)");
    }

    /**
     * How far the tensor-core product may lie from the exact product of the dequantized weights:
     * both inputs are rounded to TF32 (10 mantissa bits, round to nearest: relative 2^-11 each), so
     * a term w·x is off by at most (2^-10 + 2^-22)|w·x|; the dequantization itself rounds in float
     * relative to its parts (the K-quant min term included: the offset magnitude, counted twice);
     * and the F32 accumulation over cols terms adds at most (cols + 16) units of 2^-24 of the
     * running magnitude, doubled for hardware that truncates instead of rounding.
     */
    static double tf32Bound(double magnitude, int cols) {
        return (0x1p-10 + 0x1p-21 + 2 * (cols + 16) * U) * magnitude + 1e-30;
    }

    @Test
    void tensorCoreProductOfEveryTypeMatchesTheExactProductWithinTf32Rounding() throws Exception {
        Random rnd = new Random(15);
        int rows = 131; // two row tiles, the second partial
        int[] ns = {1, 3, 15, 16, 17, 40, 70, 140};  // 140: two token tiles of 128, the second partial
        int maxN = 140;
        for (GgmlType t : CudaKernels.SUPPORTED.stream().sorted().toList()) {
            int cols = t.blockSize() == 256 ? 512 : 128;
            Quantized q = quantized(t, rnd, rows, cols);
            byte[] w = q.bytes();
            long rowBytes = t.byteSize(cols);
            MemorySegment seg = q.segment();
            float[] deq = q.dequantized();
            float[] x = random(rnd, maxN * cols, 1);
            for (int c = 0; c < cols; c += 7) x[c] *= 30; // outliers, as real activations have

            Emulator e = new Emulator();
            int dw = e.buffer(w), dx = e.buffer(x);
            // every n whole, and every n in two halves of the reduction (added into zeroed outputs)
            // and the same by the wide variant (128 tokens per block, double-buffered)
            String[] prefixes = {"kiri_gemm_", "kiri_gemm128_"};
            int[] tokensPerBlock = {CudaKernels.GEMM_COLUMNS, CudaKernels.GEMM_WIDE_COLUMNS};
            int[] dy = new int[2 * ns.length * prefixes.length];
            String[] kernels = new String[dy.length];
            for (int k = 0; k < dy.length; k++) {
                int variant = k / (2 * ns.length), kk = k % (2 * ns.length);
                int n = ns[kk % ns.length], splits = kk < ns.length ? 1 : 2;
                kernels[k] = prefixes[variant] + t.ggmlName().toLowerCase(java.util.Locale.ROOT);
                dy[k] = e.zeros(4L * (n * rows + 64)); // 64 guard floats that must stay zero
                e.launch(kernels[k], blocks(rows, CudaKernels.GEMM_ROWS), blocks(n, tokensPerBlock[variant]) * splits,
                        CudaKernels.GEMM_THREADS, at(dw), rowBytes, at(dx), at(dy[k]), rows, cols, n, cols / splits);
            }
            e.run();

            for (int k = 0; k < dy.length; k++) {
                int kk = k % (2 * ns.length);
                int n = ns[kk % ns.length];
                String kernel = kernels[k];
                float[] y = e.floats(dy[k]);
                for (int i = 0; i < n; i++) {
                    for (int r = 0; r < rows; r++) {
                        double exact = 0, magnitude = 0;
                        for (int c = 0; c < cols; c++) {
                            double off = 0;
                            if (t == GgmlType.Q4_K) {
                                long o = r * rowBytes + (c / 256) * 144L + 2;
                                off = 63 * Math.abs(Float.float16ToFloat(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, o)));
                            }
                            exact += (double) deq[r * cols + c] * x[i * cols + c];
                            magnitude += (Math.abs(deq[r * cols + c]) + 2 * off) * Math.abs(x[i * cols + c]);
                        }
                        double bound = tf32Bound(magnitude, cols);
                        if (!(Math.abs(y[i * rows + r] - exact) <= bound)) {
                            throw new AssertionError(kernel + " n " + n + (kk < ns.length ? "" : " in halves") + " column " + i
                                    + " row " + r + ": " + y[i * rows + r]
                                    + ", exact " + exact + ", bound " + bound);
                        }
                    }
                }
                for (int g = n * rows; g < y.length; g++) {
                    if (y[g] != 0) throw new AssertionError(kernel + " n " + n + ": wrote past the output, float " + g);
                }
            }
        }
    }
}
