package dev.kiri.kernels.matmul;


import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched products for float weights (F32, F16, BF16) and, from {@link VectorMatmul}'s batch
 * threshold on, for quantized weights dequantized a panel at a time: the prefill path.
 *
 * <p>The activations of the call are first transposed into blocks of {@link #batchBlock()} batch
 * rows ({@link #transpose}): for each column k, the values of those rows side by side, so one
 * vector load gives column k of {@code L} batch rows. A panel of {@link #PANEL_ROWS} weight rows is
 * converted once to F32; the micro-kernel then walks the columns, loads two such activation
 * vectors and broadcasts each panel row's value: twelve FMAs per two vector loads and six
 * broadcasts, all from L1, and every accumulator is a finished output (no horizontal sums).
 * Batch blocks are the outer loop, so a block (at most {@code cols · 2L} floats) stays in L2 while
 * every panel of the task's rows passes over it.
 *
 * <p>Like {@link VectorDots}, written flat: no method takes or returns a vector.
 */
final class VectorGemm {
    static final int PANEL_ROWS = 6;
    /** Batch blocks one converted panel serves before the next panel (their activations stay in L2). */
    private static final int CHUNK_BLOCKS = 4;
    /** The micro-kernel's vectors: the widest the machine has (512 bits on AVX-512, else 256). */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private VectorGemm() {
    }

    static boolean supports(GgmlType t) {
        return t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16;
    }

    /**
     * Whether {@link #rows} takes quantized weights of type {@code t}: their panels are dequantized
     * ({@link Dequant#row}) and multiplied with the dequantized 8-bit activations
     * ({@link #dequantizeActivations}), so the result is the integer-sum reference's up to float
     * rounding. Not Q4_1 and Q5_1: their reference (llama.cpp's) multiplies the minimum with the
     * activations' block sum rounded to F16, which a float product of dequantized values does not
     * reproduce.
     */
    static boolean dequantizes(GgmlType t) {
        return t.isQuantized() && t != GgmlType.Q4_1 && t != GgmlType.Q5_1 && Dequant.supports(t);
    }

    /** Activations' 8-bit blocks back to floats: {@code out[i] = d[i / blockSize] · q[i]}. */
    static void dequantizeActivations(short[] q, float[] d, int blockSize, int count, float[] out) {
        for (int i = 0; i < count; i += blockSize) {
            float scale = d[i / blockSize];
            for (int j = 0; j < blockSize; j++) out[i + j] = scale * q[i + j];
        }
    }

    /** Batch rows per transposed block: two vectors. */
    static int batchBlock() {
        return 2 * L;
    }

    /** Floats {@link #transpose} writes for {@code n} rows of {@code cols}. */
    static int transposedSize(int n, int cols) {
        return ceilDiv(n, 2 * L) * 2 * L * cols;
    }

    /**
     * {@code xt[(i / 2L)·cols·2L + k·2L + i % 2L] = x[xOff + i·cols + k]}, rows beyond {@code n}
     * of the last block zero.
     */
    static void transpose(float[] x, int xOff, int n, int cols, float[] xt) {
        int bb = 2 * L;
        int blocks = ceilDiv(n, bb);
        for (int blk = 0; blk < blocks; blk++) {
            int base = blk * cols * bb;
            for (int j = 0; j < bb; j++) {
                int i = blk * bb + j;
                if (i < n) {
                    int src = xOff + i * cols;
                    for (int k = 0; k < cols; k++) xt[base + k * bb + j] = x[src + k];
                } else {
                    for (int k = 0; k < cols; k++) xt[base + k * bb + j] = 0;
                }
            }
        }
    }

    /**
     * {@code y[yOff + i*rows + r] = W[r] · x_i} for rows {@code [r0, r1)} and batch rows
     * {@code [0, n)}, the activations transposed by {@link #transpose}; {@code panel} holds at
     * least {@code PANEL_ROWS * cols} floats, {@code out} at least {@code 2L}.
     */
    static void rows(GgmlType t, MemorySegment w, long rowBytes, int cols, int rows, int r0, int r1,
                     float[] xt, int n, float[] y, int yOff, float[] panel, float[] out) {
        int bb = 2 * L;
        int blocks = ceilDiv(n, bb);
        for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
            int b1 = Math.min(blocks, b0 + CHUNK_BLOCKS);
            for (int rb = r0; rb < r1; rb += PANEL_ROWS) {
                int count = Math.min(PANEL_ROWS, r1 - rb);
                panel(t, w, rb * rowBytes, rowBytes, count, cols, panel);
                for (int blk = b0; blk < b1; blk++) {
                    kernel(panel, cols, xt, blk * cols * bb, y, yOff, rows, rb, count, blk * bb, n, out);
                }
            }
        }
    }

    /**
     * Six panel rows × 2L batch rows: {@code y[yOff + (i0 + b)·rows + rb + j]} for j < count and
     * i0 + b < n.
     */
    private static void kernel(float[] p, int cols, float[] xt, int xo, float[] y, int yOff, int rows, int rb,
                               int count, int i0, int n, float[] out) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        for (int k = 0; k < cols; k++) {
            int xk = xo + k * 2 * L;
            FloatVector x0 = FloatVector.fromArray(F, xt, xk);
            FloatVector x1 = FloatVector.fromArray(F, xt, xk + L);
            FloatVector w0 = FloatVector.broadcast(F, p[k]);
            a00 = x0.fma(w0, a00);
            a01 = x1.fma(w0, a01);
            FloatVector w1 = FloatVector.broadcast(F, p[cols + k]);
            a10 = x0.fma(w1, a10);
            a11 = x1.fma(w1, a11);
            FloatVector w2 = FloatVector.broadcast(F, p[2 * cols + k]);
            a20 = x0.fma(w2, a20);
            a21 = x1.fma(w2, a21);
            FloatVector w3 = FloatVector.broadcast(F, p[3 * cols + k]);
            a30 = x0.fma(w3, a30);
            a31 = x1.fma(w3, a31);
            FloatVector w4 = FloatVector.broadcast(F, p[4 * cols + k]);
            a40 = x0.fma(w4, a40);
            a41 = x1.fma(w4, a41);
            FloatVector w5 = FloatVector.broadcast(F, p[5 * cols + k]);
            a50 = x0.fma(w5, a50);
            a51 = x1.fma(w5, a51);
        }
        int valid = Math.min(2 * L, n - i0);
        a00.intoArray(out, 0);
        a01.intoArray(out, L);
        store(out, valid, y, yOff + i0 * rows + rb, rows);
        if (count > 1) {
            a10.intoArray(out, 0);
            a11.intoArray(out, L);
            store(out, valid, y, yOff + i0 * rows + rb + 1, rows);
        }
        if (count > 2) {
            a20.intoArray(out, 0);
            a21.intoArray(out, L);
            store(out, valid, y, yOff + i0 * rows + rb + 2, rows);
        }
        if (count > 3) {
            a30.intoArray(out, 0);
            a31.intoArray(out, L);
            store(out, valid, y, yOff + i0 * rows + rb + 3, rows);
        }
        if (count > 4) {
            a40.intoArray(out, 0);
            a41.intoArray(out, L);
            store(out, valid, y, yOff + i0 * rows + rb + 4, rows);
        }
        if (count > 5) {
            a50.intoArray(out, 0);
            a51.intoArray(out, L);
            store(out, valid, y, yOff + i0 * rows + rb + 5, rows);
        }
    }

    /** One output row's values for {@code valid} batch rows, {@code stride} apart in y. */
    private static void store(float[] out, int valid, float[] y, int yo, int stride) {
        for (int b = 0; b < valid; b++) y[yo + b * stride] = out[b];
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * Rows {@code [0, count)} of type t from {@code off} (each {@code rowBytes} long) as floats,
     * row after row, zeros for rows {@code count..PANEL_ROWS} (they multiply zeros; their results
     * are not stored). Plain loops, which C2 vectorizes by itself (F16 through {@code vcvtph2ps}):
     * scalar code cannot lose its vectors to the heap the way Vector API code does when C2 runs
     * out of inlining budget.
     */
    private static void panel(GgmlType t, MemorySegment w, long off, long rowBytes, int count, int cols, float[] out) {
        int n = count * cols;
        switch (t) {
            case F32 -> {
                for (int c = 0; c < n; c++) out[c] = w.get(Le.F32, off + 4L * c);
            }
            case F16 -> {
                for (int c = 0; c < n; c++) out[c] = Float.float16ToFloat(w.get(Le.I16, off + 2L * c));
            }
            case BF16 -> {
                for (int c = 0; c < n; c++) out[c] = Float.intBitsToFloat(w.get(Le.I16, off + 2L * c) << 16);
            }
            default -> {
                for (int i = 0; i < count; i++) Dequant.row(t, w, off + i * rowBytes, out, i * cols, cols);
            }
        }
        for (int c = n; c < PANEL_ROWS * cols; c++) out[c] = 0;
    }
}
