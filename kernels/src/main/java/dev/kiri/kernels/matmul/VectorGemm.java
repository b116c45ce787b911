package dev.kiri.kernels.matmul;


import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.VectorWidth;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched products for float weights (F32, F16, BF16) and, from {@link VectorMatmul}'s batch
 * threshold on, for quantized weights dequantized a panel at a time: the prefill path.
 *
 * <p>The activations of the call are first converted and transposed into blocks of
 * {@link #batchBlock()} batch rows ({@link #prepareBlock}, one pool task per block): for each column k, the values of those rows side by side, so one
 * vector load gives column k of {@code LK} batch rows. A panel of {@link #PANEL_ROWS} weight rows is
 * converted once to F32; the micro-kernel then walks the columns, loads two (or four, {@link #V};
 * two for a last block of at most 2·LK rows) such activation vectors and broadcasts each panel row's value: twelve (24) FMAs per two (four)
 * vector loads and six broadcasts, all from L1, and every accumulator is a finished output (no
 * horizontal sums).
 * Batch blocks are the outer loop, so a block (at most {@code cols · BB} floats) stays in L2 while
 * every panel of the task's rows passes over it.
 *
 * <p>Like {@link VectorDots}, written flat: no method takes or returns a vector.
 */
final class VectorGemm {
    static final int PANEL_ROWS = 6;
    /** The panels' and transposes' vectors: the machine's widest up to {@link VectorWidth}'s cap (256 bits unless raised). */
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    /**
     * The micro-kernel's vectors ({@link VectorWidth#GEMM_FLOAT}): the machine's widest, 512 bits
     * with AVX-512, also where {@link #F} is capped at 256. {@link #kernel} and {@link #kernel4}
     * call only static factories with this constant species, {@code lanewise(FMA, ...)} at their
     * own call sites and {@code intoArray}: none of the convenience methods ({@code fma},
     * {@code add}, ...) through which 512-bit vectors reached the 256-bit kernels' type profiles.
     * {@code intoArray} too asks {@code this} for its species in code every caller shares; no way
     * of storing without it kept the kernel fast and unboxed, and in fresh JVMs the boxing states
     * came no more often with it than without (docs/KERNELS.md).
     */
    private static final VectorSpecies<Float> FK = VectorWidth.GEMM_FLOAT;
    private static final int LK = FK.length();
    /**
     * Vectors of batch rows per block: four (a 6 x 4LK tile, 24 accumulators) on machines with 32
     * vector registers, at 256 or 512 bits (at 512 the 6 x 4 tile prefilled a few per cent faster
     * than 6 x 2), else two (6 x 2LK, 12 accumulators: AVX2 has 16 registers, and the larger tile
     * spilled there and ran at half speed).
     */
    private static final int V = VectorWidth.WIDE_REGISTER_FILE ? 4 : 2;
    /** Batch rows per block. */
    private static final int BB = V * LK;
    /** Batch blocks one converted panel serves before the next panel: 128 batch rows (at least one block). */
    private static final int CHUNK_BLOCKS = Math.max(1, 128 / BB);
    /** L bytes: one load widens to one float vector. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L));
    /** The same bits as longs (two, for 512-bit float vectors). */
    private static final VectorSpecies<Long> LQ = VectorSpecies.of(long.class, VectorShape.forBitSize(8 * L));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorGemm() {
    }

    static boolean supports(GgmlType t) {
        return t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16;
    }

    /**
     * Whether {@link #rows} takes quantized weights of type {@code t}: their panels are dequantized
     * ({@link #panel}, bit for bit {@link Dequant#row}) and multiplied with the dequantized 8-bit
     * activations ({@link #prepareBlock}), so the result is the integer-sum reference's up to float
     * rounding. Not Q4_1 and Q5_1: their reference (llama.cpp's) multiplies the minimum with the
     * activations' block sum rounded to F16, which a float product of dequantized values does not
     * reproduce.
     */
    static boolean dequantizes(GgmlType t) {
        return t.isQuantized() && t != GgmlType.Q4_1 && t != GgmlType.Q5_1 && Dequant.supports(t);
    }

    /** Batch rows per transposed block: two or four vectors ({@link #V}). */
    static int batchBlock() {
        return BB;
    }

    /** Floats {@link #prepareBlock} writes for {@code n} rows of {@code cols}. */
    static int transposedSize(int n, int cols) {
        return ceilDiv(n, BB) * BB * cols;
    }

    /**
     * Batch block {@code blk} of the activations, transposed: {@code xt[blk·cols·BB + k·BB + j]} is
     * value k of row {@code i = blk·BB + j} ({@code BB = }{@link #batchBlock()}) in the form {@code t} gives it (F16/BF16 rounded, or its
     * 8-bit block quantization dequantized: {@link Activations#dequantizedQ8Row}), zero for rows at
     * or past {@code n}. Blocks are disjoint, so the pool may convert them in parallel.
     */
    static void prepareBlock(VecDotType t, float[] x, int n, int cols, int blk, float[] xt) {
        int bb = BB;
        int base = blk * cols * bb;
        for (int j = 0; j < bb; j++) {
            int i = blk * bb + j;
            if (i >= n) {
                for (int k = 0; k < cols; k++) xt[base + k * bb + j] = 0;
                continue;
            }
            int src = i * cols;
            switch (t) {
                case F32 -> {
                    for (int k = 0; k < cols; k++) xt[base + k * bb + j] = x[src + k];
                }
                case F16 -> {
                    for (int k = 0; k < cols; k++) xt[base + k * bb + j] = Float.float16ToFloat(Float.floatToFloat16(x[src + k]));
                }
                case BF16 -> {
                    for (int k = 0; k < cols; k++) xt[base + k * bb + j] = Activations.roundBf16(x[src + k]);
                }
                case Q8_0, Q8_1, Q8_K -> Activations.dequantizedQ8Row(t, x, src, cols, xt, base + j, bb);
            }
        }
    }

    /**
     * {@code y[yOff + i*rows + r] = W[r] · x_i} for rows {@code [r0, r1)} and batch rows
     * {@code [0, n)}, the activations transposed by {@link #prepareBlock}; {@code panel} holds at
     * least {@code PANEL_ROWS * cols} floats, {@code out} at least {@code PANEL_ROWS * BB}.
     */
    static void rows(GgmlType t, MemorySegment w, long rowBytes, int cols, int rows, int r0, int r1,
                     float[] xt, int n, float[] y, int yOff, float[] panel, float[] out) {
        rows(t, w, null, rowBytes, cols, rows, r0, r1, xt, n, y, yOff, panel, out);
    }

    /** As above; {@code interleaved}, when not null, is {@code w}'s {@link Interleave}d copy, which the panels are read from. */
    static void rows(GgmlType t, MemorySegment w, MemorySegment interleaved, long rowBytes, int cols, int rows, int r0, int r1,
                     float[] xt, int n, float[] y, int yOff, float[] panel, float[] out) {
        int bb = BB;
        int blocks = ceilDiv(n, bb);
        for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
            int b1 = Math.min(blocks, b0 + CHUNK_BLOCKS);
            for (int rb = r0; rb < r1; rb += PANEL_ROWS) {
                int count = Math.min(PANEL_ROWS, r1 - rb);
                if (interleaved == null) {
                    panel(t, w, rb * rowBytes, rowBytes, count, cols, panel);
                } else {
                    switch (t) {
                        case Q4_0 -> panelQ4_0x8(interleaved, rows, rb, count, cols, panel);
                        case Q8_0 -> panelQ8_0x8(interleaved, rows, rb, count, cols, panel);
                        case Q4_K -> panelKx(interleaved, rows, rb, count, cols, panel, false);
                        case Q5_K -> panelKx(interleaved, rows, rb, count, cols, panel, true);
                        case Q6_K -> panelQ6_Kx(interleaved, rows, rb, count, cols, panel);
                        case Q2_K -> panelQ23x(interleaved, rows, rb, count, cols, panel, false);
                        case Q3_K -> panelQ23x(interleaved, rows, rb, count, cols, panel, true);
                        default -> throw new IllegalStateException(t + " has no copy to read panels from");
                    }
                }
                for (int blk = b0; blk < b1; blk++) {
                    if (V == 4 && n - blk * bb > 2 * LK) {
                        kernel4(panel, cols, xt, blk * cols * bb, y, yOff, rows, rb, count, blk * bb, n, out);
                    } else {
                        // two vectors suffice for a last block of at most 2·LK rows (a short prompt's only block)
                        kernel(panel, cols, xt, blk * cols * bb, bb, y, yOff, rows, rb, count, blk * bb, n, out);
                    }
                }
            }
        }
    }

    /**
     * Six panel rows × 2LK batch rows: {@code y[yOff + (i0 + b)·rows + rb + j]} for j < count and
     * i0 + b < n, the first 2LK rows of a transposed block whose columns are {@code stride} floats apart.
     */
    private static void kernel(float[] p, int cols, float[] xt, int xo, int stride, float[] y, int yOff, int rows, int rb,
                               int count, int i0, int n, float[] out) {
        FloatVector a00 = FloatVector.zero(FK), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        for (int k = 0; k < cols; k++) {
            int xk = xo + k * stride;
            FloatVector x0 = FloatVector.fromArray(FK, xt, xk);
            FloatVector x1 = FloatVector.fromArray(FK, xt, xk + LK);
            FloatVector w0 = FloatVector.broadcast(FK, p[k]);
            a00 = x0.lanewise(VectorOperators.FMA, w0, a00);
            a01 = x1.lanewise(VectorOperators.FMA, w0, a01);
            FloatVector w1 = FloatVector.broadcast(FK, p[cols + k]);
            a10 = x0.lanewise(VectorOperators.FMA, w1, a10);
            a11 = x1.lanewise(VectorOperators.FMA, w1, a11);
            FloatVector w2 = FloatVector.broadcast(FK, p[2 * cols + k]);
            a20 = x0.lanewise(VectorOperators.FMA, w2, a20);
            a21 = x1.lanewise(VectorOperators.FMA, w2, a21);
            FloatVector w3 = FloatVector.broadcast(FK, p[3 * cols + k]);
            a30 = x0.lanewise(VectorOperators.FMA, w3, a30);
            a31 = x1.lanewise(VectorOperators.FMA, w3, a31);
            FloatVector w4 = FloatVector.broadcast(FK, p[4 * cols + k]);
            a40 = x0.lanewise(VectorOperators.FMA, w4, a40);
            a41 = x1.lanewise(VectorOperators.FMA, w4, a41);
            FloatVector w5 = FloatVector.broadcast(FK, p[5 * cols + k]);
            a50 = x0.lanewise(VectorOperators.FMA, w5, a50);
            a51 = x1.lanewise(VectorOperators.FMA, w5, a51);
        }
        int bb = 2 * LK;
        a00.intoArray(out, 0);
        a01.intoArray(out, LK);
        a10.intoArray(out, bb);
        a11.intoArray(out, bb + LK);
        a20.intoArray(out, 2 * bb);
        a21.intoArray(out, 2 * bb + LK);
        a30.intoArray(out, 3 * bb);
        a31.intoArray(out, 3 * bb + LK);
        a40.intoArray(out, 4 * bb);
        a41.intoArray(out, 4 * bb + LK);
        a50.intoArray(out, 5 * bb);
        a51.intoArray(out, 5 * bb + LK);
        scatter(out, bb, y, yOff, rows, rb, count, i0, n);
    }

    /**
     * Six panel rows × 4L batch rows (24 accumulators, four activation vectors, one broadcast: 29
     * of the 32 registers AVX-512 gives 256-bit vectors), as {@link #kernel} otherwise: per column
     * 24 FMAs for 4 loads and 6 broadcasts instead of 12 for 2 and 6.
     */
    private static void kernel4(float[] p, int cols, float[] xt, int xo, float[] y, int yOff, int rows, int rb,
                                int count, int i0, int n, float[] out) {
        FloatVector a00 = FloatVector.zero(FK), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
        for (int k = 0; k < cols; k++) {
            int xk = xo + k * 4 * LK;
            FloatVector x0 = FloatVector.fromArray(FK, xt, xk);
            FloatVector x1 = FloatVector.fromArray(FK, xt, xk + LK);
            FloatVector x2 = FloatVector.fromArray(FK, xt, xk + 2 * LK);
            FloatVector x3 = FloatVector.fromArray(FK, xt, xk + 3 * LK);
            FloatVector w = FloatVector.broadcast(FK, p[k]);
            a00 = x0.lanewise(VectorOperators.FMA, w, a00);
            a01 = x1.lanewise(VectorOperators.FMA, w, a01);
            a02 = x2.lanewise(VectorOperators.FMA, w, a02);
            a03 = x3.lanewise(VectorOperators.FMA, w, a03);
            w = FloatVector.broadcast(FK, p[cols + k]);
            a10 = x0.lanewise(VectorOperators.FMA, w, a10);
            a11 = x1.lanewise(VectorOperators.FMA, w, a11);
            a12 = x2.lanewise(VectorOperators.FMA, w, a12);
            a13 = x3.lanewise(VectorOperators.FMA, w, a13);
            w = FloatVector.broadcast(FK, p[2 * cols + k]);
            a20 = x0.lanewise(VectorOperators.FMA, w, a20);
            a21 = x1.lanewise(VectorOperators.FMA, w, a21);
            a22 = x2.lanewise(VectorOperators.FMA, w, a22);
            a23 = x3.lanewise(VectorOperators.FMA, w, a23);
            w = FloatVector.broadcast(FK, p[3 * cols + k]);
            a30 = x0.lanewise(VectorOperators.FMA, w, a30);
            a31 = x1.lanewise(VectorOperators.FMA, w, a31);
            a32 = x2.lanewise(VectorOperators.FMA, w, a32);
            a33 = x3.lanewise(VectorOperators.FMA, w, a33);
            w = FloatVector.broadcast(FK, p[4 * cols + k]);
            a40 = x0.lanewise(VectorOperators.FMA, w, a40);
            a41 = x1.lanewise(VectorOperators.FMA, w, a41);
            a42 = x2.lanewise(VectorOperators.FMA, w, a42);
            a43 = x3.lanewise(VectorOperators.FMA, w, a43);
            w = FloatVector.broadcast(FK, p[5 * cols + k]);
            a50 = x0.lanewise(VectorOperators.FMA, w, a50);
            a51 = x1.lanewise(VectorOperators.FMA, w, a51);
            a52 = x2.lanewise(VectorOperators.FMA, w, a52);
            a53 = x3.lanewise(VectorOperators.FMA, w, a53);
        }
        int bb = 4 * LK;
        a00.intoArray(out, 0);
        a01.intoArray(out, LK);
        a02.intoArray(out, 2 * LK);
        a03.intoArray(out, 3 * LK);
        a10.intoArray(out, bb);
        a11.intoArray(out, bb + LK);
        a12.intoArray(out, bb + 2 * LK);
        a13.intoArray(out, bb + 3 * LK);
        a20.intoArray(out, 2 * bb);
        a21.intoArray(out, 2 * bb + LK);
        a22.intoArray(out, 2 * bb + 2 * LK);
        a23.intoArray(out, 2 * bb + 3 * LK);
        a30.intoArray(out, 3 * bb);
        a31.intoArray(out, 3 * bb + LK);
        a32.intoArray(out, 3 * bb + 2 * LK);
        a33.intoArray(out, 3 * bb + 3 * LK);
        a40.intoArray(out, 4 * bb);
        a41.intoArray(out, 4 * bb + LK);
        a42.intoArray(out, 4 * bb + 2 * LK);
        a43.intoArray(out, 4 * bb + 3 * LK);
        a50.intoArray(out, 5 * bb);
        a51.intoArray(out, 5 * bb + LK);
        a52.intoArray(out, 5 * bb + 2 * LK);
        a53.intoArray(out, 5 * bb + 3 * LK);
        scatter(out, bb, y, yOff, rows, rb, count, i0, n);
    }

    /**
     * A tile's results from {@code out} (panel row j's {@code bb} batch rows at {@code j·bb}) into
     * {@code y}, batch row by batch row (its {@code count} outputs are adjacent in y), for the batch
     * rows under {@code n}.
     */
    private static void scatter(float[] out, int bb, float[] y, int yOff, int rows, int rb, int count, int i0, int n) {
        int valid = Math.min(bb, n - i0);
        int yo = yOff + i0 * rows + rb;
        for (int b = 0; b < valid; b++, yo += rows) {
            for (int j = 0; j < count; j++) y[yo + j] = out[j * bb + b];
        }
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
    static void panel(GgmlType t, MemorySegment w, long off, long rowBytes, int count, int cols, float[] out) {
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
            case Q4_0, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS -> {
                RowDequantizer d = ROW_DEQUANTIZERS[t.ordinal()];
                int blocks = cols / t.blockSize();
                for (int i = 0; i < count; i++) d.row(w, off + i * rowBytes, blocks, out, i * cols);
            }
            default -> {
                for (int i = 0; i < count; i++) Dequant.row(t, w, off + i * rowBytes, out, i * cols, cols);
            }
        }
        for (int c = n; c < PANEL_ROWS * cols; c++) out[c] = 0;
    }

    /** One weight row of {@code blocks} blocks at {@code at} as floats at {@code out[o..]}. */
    @FunctionalInterface
    private interface RowDequantizer {
        void row(MemorySegment w, long at, int blocks, float[] out, int o);
    }

    /**
     * The vector dequantizers by {@link GgmlType#ordinal()}. {@link #panel} calls them through this
     * table, not directly: where a process multiplies several weight types, the call site then sees
     * several receivers and C2 compiles each dequantizer on its own instead of inlining them all
     * into one method, whose inlining budget they would exhaust (Vector API calls left out of line
     * box their vectors: allocation on every call, and slow).
     */
    private static final RowDequantizer[] ROW_DEQUANTIZERS = new RowDequantizer[GgmlType.values().length];

    static {
        ROW_DEQUANTIZERS[GgmlType.Q4_0.ordinal()] = VectorGemm::q4_0;
        ROW_DEQUANTIZERS[GgmlType.Q5_0.ordinal()] = VectorGemm::q5_0;
        ROW_DEQUANTIZERS[GgmlType.IQ4_NL.ordinal()] = VectorGemm::iq4_nl;
        ROW_DEQUANTIZERS[GgmlType.IQ4_XS.ordinal()] = VectorGemm::iq4_xs;
        ROW_DEQUANTIZERS[GgmlType.Q8_0.ordinal()] = VectorGemm::q8_0;
        ROW_DEQUANTIZERS[GgmlType.Q4_K.ordinal()] = VectorGemm::q4_K;
        ROW_DEQUANTIZERS[GgmlType.Q5_K.ordinal()] = VectorGemm::q5_K;
        ROW_DEQUANTIZERS[GgmlType.Q6_K.ordinal()] = VectorGemm::q6_K;
    }

    // ---- Panel dequantization: the reference's arithmetic (Dequant), L values per step ----------
    // Each value is computed with the same float operations in the same order as Dequant's scalar
    // loops (an exact int converted to float, then the same multiplies and subtractions), so a
    // panel holds exactly the reference's values.

    /** Q4_0 rows: 18-byte blocks, fp16 d, 16 bytes of nibbles (low: values 0..15, high: 16..31); d·(q - 8). */
    private static void q4_0(MemorySegment w, long at, int blocks, float[] out, int o) {
        for (int b = 0; b < blocks; b++, at += 18, o += 32) {
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(w.get(Le.I16, at)));
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, at + 2 + j, LE);
                ByteVector lo = q.and((byte) 0xF).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, o + j);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, o + 16 + j);
            }
        }
    }

    /** Sixteen bytes: one load of a 32-value block's nibbles, and the IQ4 levels' table. */
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** The sixteen IQ4_NL/IQ4_XS levels (the codes' values) as bytes. */
    private static final byte[] IQ4_LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /**
     * IQ4_NL rows: 18-byte blocks, fp16 d, 16 bytes of nibbles (low: values 0..15, high: 16..31),
     * each a code for one of the sixteen levels; {@code d·level}. The levels are looked up sixteen
     * at a time by a byte shuffle of the table ({@code selectFrom}) and widened to floats: the
     * reference's product of the same two floats. (Until now these panels went through the scalar
     * {@code Dequant.row}.)
     */
    private static void iq4_nl(MemorySegment w, long at, int blocks, float[] out, int o) {
        if (L > 16) {
            // Vectors wider than 512 bits (not on x86): the reference itself.
            Dequant.row(GgmlType.IQ4_NL, w, at, out, o, 32 * blocks);
            return;
        }
        ByteVector table = ByteVector.fromArray(B16, IQ4_LEVELS, 0);
        for (int b = 0; b < blocks; b++, at += 18, o += 32) {
            float d = Float.float16ToFloat(w.get(Le.I16, at));
            ByteVector q = ByteVector.fromMemorySegment(B16, w, at + 2, LE);
            ByteVector lo = q.and((byte) 0xF).selectFrom(table);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).selectFrom(table);
            for (int part = 0; part < 16 / L; part++) {
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, o + part * L);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, o + 16 + part * L);
            }
        }
    }

    /**
     * IQ4_XS rows: 136-byte blocks of 256 values, fp16 d, 16 bits of scales' top bits, 4 bytes of
     * their low nibbles, then eight runs of 32 values as IQ4_NL's 16 bytes of codes; run r's scale
     * {@code dl = d·(ls - 32)} computed as the reference computes it, then {@code dl·level} as in
     * {@link #iq4_nl}.
     */
    private static void iq4_xs(MemorySegment w, long at, int blocks, float[] out, int o) {
        if (L > 16) {
            Dequant.row(GgmlType.IQ4_XS, w, at, out, o, 256 * blocks);
            return;
        }
        ByteVector table = ByteVector.fromArray(B16, IQ4_LEVELS, 0);
        for (int b = 0; b < blocks; b++, at += 136) {
            float d = Float.float16ToFloat(w.get(Le.I16, at));
            int scalesH = w.get(Le.I16, at + 2) & 0xFFFF;
            for (int r = 0; r < 8; r++, o += 32) {
                int ls = ((w.get(ValueLayout.JAVA_BYTE, at + 4 + r / 2) & 0xFF) >>> 4 * (r % 2) & 0xF) | (scalesH >>> 2 * r & 3) << 4;
                float dl = d * (ls - 32);
                ByteVector q = ByteVector.fromMemorySegment(B16, w, at + 8 + 16L * r, LE);
                ByteVector lo = q.and((byte) 0xF).selectFrom(table);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).selectFrom(table);
                for (int part = 0; part < 16 / L; part++) {
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, part)).mul(dl).intoArray(out, o + part * L);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, part)).mul(dl).intoArray(out, o + 16 + part * L);
                }
            }
        }
    }

    /** The values 0..31: per lane of {@link #IQ}, the bit of its value's fifth bit in a Q5_0 block's {@code qh}. */
    private static final int[] IOTA32 = new int[32];

    static {
        for (int e = 0; e < 32; e++) IOTA32[e] = e;
    }

    /**
     * Q5_0 rows: 22-byte blocks, fp16 d, 32 fifth bits ({@code qh}, bit e for value e), 16 bytes of
     * nibbles (low: values 0..15, high: 16..31); {@code d·(q - 16)}. The fifth bits are picked from
     * the broadcast {@code qh} by a constant vector of shifts, as 0 or 16 in int lanes converted to
     * float; nibble + fifth - 16 is an exact small integer in float, as the reference's int, so the
     * product with d is the reference's. (The scalar {@code Dequant.row} these panels used before
     * held Qwen2.5-0.5B Q4_K_M prompts, whose matrices are mostly Q5_0, to about 0.8 times
     * llama.cpp's speed.)
     */
    private static void q5_0(MemorySegment w, long at, int blocks, float[] out, int o) {
        if (L > 16) {
            // Vectors wider than 512 bits (not on x86): the reference itself.
            Dequant.row(GgmlType.Q5_0, w, at, out, o, 32 * blocks);
            return;
        }
        for (int b = 0; b < blocks; b++, at += 22, o += 32) {
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(w.get(Le.I16, at)));
            IntVector qh = IntVector.broadcast(IQ, w.get(Le.I32, at + 2));
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, at + 6 + j, LE);
                FloatVector lowFifth = (FloatVector) qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(IQ, IOTA32, j)).and(1)
                        .lanewise(VectorOperators.LSHL, 4).convertShape(VectorOperators.I2F, F, 0);
                FloatVector highFifth = (FloatVector) qh.lanewise(VectorOperators.LSHR, IntVector.fromArray(IQ, IOTA32, 16 + j)).and(1)
                        .lanewise(VectorOperators.LSHL, 4).convertShape(VectorOperators.I2F, F, 0);
                ((FloatVector) q.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).add(lowFifth).sub(16f).mul(d)
                        .intoArray(out, o + j);
                ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).convertShape(VectorOperators.B2F, F, 0)).add(highFifth).sub(16f).mul(d)
                        .intoArray(out, o + 16 + j);
            }
        }
    }

    /**
     * Rows {@code [rb, rb + count)} of Q2_K or Q3_K ({@code three}) weights from their
     * {@link Interleave}d copy, as {@link #panel} makes them from the file ({@code Dequant.row}:
     * Q2_K {@code (d·scale)·q - dmin·min}, Q3_K {@code (d·(scale - 32))·(q - 4)} with the third bit
     * set adding 4), the same float operations on the same values. A sub-block's sixteen values are
     * one int of the copy ({@code Interleave.q2Bit}); Q3_K's third bits one more
     * ({@code 8h + m/2}, sixteen higher for odd m): L values per vector, a broadcast shifted by a
     * constant vector and masked. Vectors wider than 512 bits take the copy's rows value by value.
     */
    private static void panelQ23x(MemorySegment p, int rows, int rb, int count, int cols, float[] out, boolean three) {
        if (L > 16) {
            GgmlType t = three ? GgmlType.Q3_K : GgmlType.Q2_K;
            for (int i = 0; i < count; i++) Interleave.copyRow(t, p, rows, cols, rb + i, out, i * cols);
            for (int c = count * cols; c < PANEL_ROWS * cols; c++) out[c] = 0;
            return;
        }
        int nb = cols / 256;
        int block = three ? Interleave.Q3_K_COPY_BLOCK : 84;
        for (int i = 0; i < count; i++) {
            int o = i * cols;
            for (int b = 0; b < nb; b++, o += 256) {
                long at = Interleave.blockOffset(rows, nb, block, rb + i, b);
                float d = Float.float16ToFloat(p.get(Le.I16, at + (three ? 112 : 80)));
                float min = three ? 0 : Float.float16ToFloat(p.get(Le.I16, at + 82));
                for (int k = 0; k < 16; k++) {
                    int h = k / 8;
                    IntVector v = IntVector.broadcast(IQ, p.get(Le.I32, at + 32 * h + 4 * (k % 8)));
                    // (Never null: a vector merged with null at a branch would be boxed.)
                    IntVector hb = IntVector.broadcast(IQ, three ? p.get(Le.I32, at + 64 + 4 * (k % 8)) >>> 8 * h : 0);
                    float dl, ml;
                    if (three) {
                        dl = d * p.get(ValueLayout.JAVA_BYTE, at + 96 + k);
                        ml = 0;
                    } else {
                        int sc = p.get(ValueLayout.JAVA_BYTE, at + 64 + k) & 0xFF;
                        dl = d * (sc & 0xF);
                        ml = min * (sc >>> 4);
                    }
                    for (int m = 0; m < 16; m += L) {
                        IntVector low = v.lanewise(VectorOperators.LSHR, IntVector.fromArray(IQ, Q2_SHIFTS, m)).and(3);
                        if (three) {
                            // (low | third << 2) - 4: the reference's low - (third set ? 0 : 4).
                            IntVector q = low.or(hb.lanewise(VectorOperators.LSHR, IntVector.fromArray(IQ, Q3_HIGH_SHIFTS, m)).and(1)
                                    .lanewise(VectorOperators.LSHL, 2)).sub(4);
                            ((FloatVector) q.convertShape(VectorOperators.I2F, F, 0)).mul(dl).intoArray(out, o + 16 * k + m);
                        } else {
                            ((FloatVector) low.convertShape(VectorOperators.I2F, F, 0)).mul(dl).sub(ml).intoArray(out, o + 16 * k + m);
                        }
                    }
                }
            }
        }
        for (int c = count * cols; c < PANEL_ROWS * cols; c++) out[c] = 0;
    }

    /**
     * Rows {@code [rb, rb + count)} of Q4_K or Q5_K ({@code five}) weights from their
     * {@link Interleave}d copy, as {@link #panel} makes them from the file:
     * {@code q·(d·scale) - dmin·min}, the same float operations on the same values. Part k, lane j
     * of a block holds values {@code 8k..8k+3} of sub-block j in its four bytes' low nibbles and
     * {@code 8k+4..8k+7} in their high nibbles; Q5_K ORs in each value's fifth bit from the lane's
     * int at 148 ({@code Interleave.q5HighBit}). L/8 parts per vector (one at 256 bits, two at 512),
     * as blended broadcasts shifted by constant vectors: one int species, no other.
     */
    private static void panelKx(MemorySegment p, int rows, int rb, int count, int cols, float[] out, boolean five) {
        int nb = cols / 256;
        int block = five ? Interleave.Q5_K_COPY_BLOCK : Interleave.Q4_K_COPY_BLOCK;
        int step = Math.max(1, L / 8);
        IntVector nibbleShifts = L <= 16 ? IntVector.fromArray(IQ, NIBBLE_SHIFTS, 0) : null;
        IntVector highShifts = L <= 16 ? IntVector.fromArray(IQ, Q5_HIGH_SHIFTS, 0) : null;
        for (int i = 0; i < count; i++) {
            int o = i * cols;
            for (int b = 0; b < nb; b++, o += 256) {
                long at = Interleave.blockOffset(rows, nb, block, rb + i, b);
                float d = Float.float16ToFloat(p.get(Le.I16, at));
                float min = Float.float16ToFloat(p.get(Le.I16, at + 2));
                for (int j = 0; j < 8; j++) {
                    // The copy's scales and mins, unpacked (the values kScale and kMin give from the file's).
                    float dj = d * p.get(ValueLayout.JAVA_BYTE, at + 4 + j);
                    float mj = min * p.get(ValueLayout.JAVA_BYTE, at + 12 + j);
                    int h = five ? p.get(Le.I32, at + 148 + 4 * j) : 0;
                    if (L > 16) {
                        // Vectors wider than 512 bits (not on x86): value by value.
                        for (int m = 0; m < 32; m++) {
                            int v = p.get(Le.I32, at + 20 + 32 * (m / 8) + 4 * j);
                            int q = (v >>> NIBBLE_SHIFTS[m % 8] & 0xF) | (h >>> Interleave.q5HighBit(m) & 1) << 4;
                            out[o + 32 * j + m] = q * dj - mj;
                        }
                        continue;
                    }
                    for (int k = 0; k < 4; k += step) {
                        IntVector v = IntVector.broadcast(IQ, p.get(Le.I32, at + 20 + 32 * k + 4 * j));
                        if (step == 2) {
                            // Lanes 8..15: part k + 1 (its fifth bits four higher, in the table).
                            v = v.blend(p.get(Le.I32, at + 52 + 32 * k + 4 * j), SECOND_PART);
                        }
                        IntVector q = v.lanewise(VectorOperators.LSHR, nibbleShifts).and(0xF);
                        if (five) {
                            q = q.or(IntVector.broadcast(IQ, h >>> 4 * k).lanewise(VectorOperators.LSHR, highShifts)
                                    .and(1).lanewise(VectorOperators.LSHL, 4));
                        }
                        ((FloatVector) q.convertShape(VectorOperators.I2F, F, 0)).mul(dj).sub(mj).intoArray(out, o + 32 * j + 8 * k);
                    }
                }
            }
        }
        for (int c = count * cols; c < PANEL_ROWS * cols; c++) out[c] = 0;
    }

    /**
     * Int lanes of L: one per value of a 16-value Q6_K sub-block ({@link #panelQ6_Kx}); at most 16
     * (vectors wider than 512 bits take the value-by-value path and leave it unused).
     */
    private static final VectorSpecies<Integer> IQ = VectorSpecies.of(int.class, VectorShape.forBitSize(32 * Math.min(L, 16)));
    /**
     * Rows {@code [rb, rb + count)} of Q6_K weights from their {@link Interleave}d copy, as
     * {@link #panel} makes them from the file: {@code (q - 32)·(d·scale)}, the same float operations
     * on the same values. Sub-block j of half h is lane j of the three ints at {@code 96h + 4j},
     * {@code 96h + 32 + 4j} and {@code 96h + 64 + 4j}; which int, shift and mask give each value is a
     * constant of its position ({@code Interleave.Q6_WORD} and the tables beside it), so L values
     * are L lanes of blended broadcast ints shifted and masked by constant vectors.
     */
    private static void panelQ6_Kx(MemorySegment p, int rows, int rb, int count, int cols, float[] out) {
        int nb = cols / 256;
        for (int i = 0; i < count; i++) {
            int o = i * cols;
            for (int b = 0; b < nb; b++, o += 256) {
                long at = Interleave.blockOffset(rows, nb, 210, rb + i, b);
                float d = Float.float16ToFloat(p.get(Le.I16, at + 208));
                for (int h = 0; h < 2; h++) {
                    for (int j = 0; j < 8; j++) {
                        float sc = d * p.get(ValueLayout.JAVA_BYTE, at + 192 + 8 * h + j);
                        int a = p.get(Le.I32, at + 96 * h + 4 * j);
                        int bw = p.get(Le.I32, at + 96 * h + 32 + 4 * j);
                        int c = p.get(Le.I32, at + 96 * h + 64 + 4 * j);
                        int base = o + 128 * h + 16 * j;
                        if (L > 16) {
                            // Vectors wider than 512 bits (not on x86): value by value.
                            for (int m = 0; m < 16; m++) out[base + m] = (Interleave.q6Value(a, bw, c, m) - 32) * sc;
                            continue;
                        }
                        // Value m: its low bits from A, B or C (a blend), shifted and masked, and its
                        // top two bits from B where it has them (mask 0 elsewhere).
                        for (int m = 0; m < 16; m += L) {
                            IntVector bv = IntVector.broadcast(IQ, bw);
                            IntVector word = IntVector.broadcast(IQ, a)
                                    .blend(bv, VectorMask.fromArray(IQ, Q6_FROM_B, m))
                                    .blend(c, VectorMask.fromArray(IQ, Q6_FROM_C, m));
                            IntVector q = word.lanewise(VectorOperators.LSHR, IntVector.fromArray(IQ, Interleave.Q6_SHIFT, m))
                                    .and(IntVector.fromArray(IQ, Interleave.Q6_MASK, m))
                                    .or(bv.lanewise(VectorOperators.LSHR, IntVector.fromArray(IQ, Interleave.Q6_TOP_SHIFT, m))
                                            .and(IntVector.fromArray(IQ, Interleave.Q6_TOP_MASK, m)).lanewise(VectorOperators.LSHL, 4));
                            ((FloatVector) q.sub(32).convertShape(VectorOperators.I2F, F, 0)).mul(sc).intoArray(out, base + m);
                        }
                    }
                }
            }
        }
        for (int c = count * cols; c < PANEL_ROWS * cols; c++) out[c] = 0;
    }

    /** Per value m of a Q6_K sub-block in the copy: whether its low bits are in B, or in C ({@code Interleave.Q6_WORD}). */
    private static final boolean[] Q6_FROM_B = new boolean[16], Q6_FROM_C = new boolean[16];

    static {
        for (int m = 0; m < 16; m++) {
            Q6_FROM_B[m] = Interleave.Q6_WORD[m] == 1;
            Q6_FROM_C[m] = Interleave.Q6_WORD[m] == 2;
        }
    }

    /** Lanes 4..7 of {@link #IQ} (256-bit panels of the Q4_0 copy: the second int's bytes). */
    private static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(IQ, 0xF0L);
    /**
     * Per lane of {@link #IQ}: the shift that brings value 8k + (lane mod 8) of a K-quant copy lane's
     * eight nibbles of part k down (lanes 8..15: the next part's, at 512 bits).
     */
    private static final int[] NIBBLE_SHIFTS = {0, 8, 16, 24, 4, 12, 20, 28, 0, 8, 16, 24, 4, 12, 20, 28};
    /** Lanes 8..15 of {@link #IQ} at 512 bits (the Q5_K copy's panels: the second part). */
    private static final VectorMask<Integer> SECOND_PART = VectorMask.fromLong(IQ, 0xFF00L);
    /** Per value m of a sub-block: the bit of its two bits in a Q2_K/Q3_K copy lane ({@code Interleave.q2Bit}). */
    private static final int[] Q2_SHIFTS = new int[16];
    /** Per value m of a sub-block of half h: the bit of its third bit in a Q3_K copy lane, after a shift by 8h. */
    private static final int[] Q3_HIGH_SHIFTS = new int[16];

    static {
        for (int m = 0; m < 16; m++) {
            Q2_SHIFTS[m] = Interleave.q2Bit(m);
            Q3_HIGH_SHIFTS[m] = m / 2 + (m & 1) * 16;
        }
    }

    /** Per lane of {@link #IQ}: the bit of value 8k + lane of a Q5_K copy lane's fifth bits, after a shift by 4k. */
    private static final int[] Q5_HIGH_SHIFTS = new int[16];

    static {
        for (int m = 0; m < 16; m++) Q5_HIGH_SHIFTS[m] = Interleave.q5HighBit(m);
    }
    /** Per lane at 256 bits: the shift of byte (lane mod 4)'s low nibble, and of its high nibble. */
    private static final int[] BYTE_SHIFTS = {0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24};
    /** Per lane at 256 bits: the shift that moves byte (lane mod 4) to the top of its int. */
    private static final int[] BYTE_UP_SHIFTS = {24, 16, 8, 0, 24, 16, 8, 0, 24, 16, 8, 0, 24, 16, 8, 0};
    private static final int[] HIGH_NIBBLE_SHIFTS = {4, 12, 20, 28, 4, 12, 20, 28, 4, 12, 20, 28, 4, 12, 20, 28};


    /**
     * Rows {@code [rb, rb + count)} of Q4_0 weights from their {@link Interleave}d copy, as
     * {@link #panel} makes them from the file (the same values: the copy holds the file's scales
     * and nibbles). A row's 16 bytes of nibbles in a block are four ints 32 bytes apart; two
     * pairs of them become two longs, inserted into one vector (no store and reload).
     */
    private static void panelQ4_0x8(MemorySegment p, int rows, int rb, int count, int cols, float[] out) {
        int nb = cols / 32;
        IntVector lowShifts = IntVector.fromArray(IQ, BYTE_SHIFTS, 0);
        IntVector highShifts = IntVector.fromArray(IQ, HIGH_NIBBLE_SHIFTS, 0);
        for (int i = 0; i < count; i++) {
            int r = rb + i;
            int j = 4 * (r % Interleave.GROUP);
            int o = i * cols;
            for (int b = 0; b < nb; b++, o += 32) {
                long at = Interleave.q4_0Offset(rows / Interleave.GROUP, nb, r / Interleave.GROUP, b);
                FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(p.get(Le.I16, at + j / 2)));
                long lo = (p.get(Le.I32, at + 16 + j) & 0xFFFFFFFFL) | ((long) p.get(Le.I32, at + 48 + j) << 32);
                long hi = (p.get(Le.I32, at + 80 + j) & 0xFFFFFFFFL) | ((long) p.get(Le.I32, at + 112 + j) << 32);
                if (L > 16) {
                    // Vectors wider than 512 bits (not on x86): the reference's arithmetic, value by value.
                    for (int c = 0; c < 16; c++) {
                        int q = (int) ((c < 8 ? lo >>> (8 * c) : hi >>> (8 * (c - 8))) & 0xFF);
                        out[o + c] = d.lane(0) * ((q & 0xF) - 8);
                        out[o + 16 + c] = d.lane(0) * ((q >> 4) - 8);
                    }
                    continue;
                }
                if (L == 8) {
                    // Eight int lanes per half (bytes 0..3 of one int, 4..7 of the next), each shifting
                    // its nibble down: no vector of another int species in the process.
                    for (int h = 0; h < 16; h += 8) {
                        long half = h == 0 ? lo : hi;
                        IntVector bytes = IntVector.broadcast(IQ, (int) half).blend((int) (half >>> 32), UPPER_HALF);
                        IntVector qlo = bytes.lanewise(VectorOperators.LSHR, lowShifts).and(0xF).sub(8);
                        IntVector qhi = bytes.lanewise(VectorOperators.LSHR, highShifts).and(0xF).sub(8);
                        ((FloatVector) qlo.convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(out, o + h);
                        ((FloatVector) qhi.convertShape(VectorOperators.I2F, F, 0)).mul(d).intoArray(out, o + 16 + h);
                    }
                    continue;
                }
                for (int h = 0; h < 16; h += L) {
                    ByteVector q = (ByteVector) LongVector.zero(LQ).withLane(0, lo).withLane(1, hi).reinterpretShape(B, 0);
                    ByteVector qlo = q.and((byte) 0xF).sub((byte) 8);
                    ByteVector qhi = q.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                    ((FloatVector) qlo.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, o + h);
                    ((FloatVector) qhi.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, o + 16 + h);
                }
            }
        }
        for (int c = count * cols; c < PANEL_ROWS * cols; c++) out[c] = 0;
    }

    /**
     * Rows {@code [rb, rb + count)} of Q8_0 weights from their {@link Interleave}d copy, as
     * {@link #q8_0} makes them from the file: at 256 bits a row's four values of two parts at a time
     * (one int each, broadcast into a half), each byte moved to the top of its lane and shifted down
     * with its sign, then converted and multiplied by d as the reference does; at other widths
     * through {@link Interleave#copyRow}.
     */
    private static void panelQ8_0x8(MemorySegment p, int rows, int rb, int count, int cols, float[] out) {
        int nb = cols / 32;
        if (L != 8) {
            // Other widths: the copy's own row reader, value by value (the same values).
            for (int i = 0; i < count; i++) Interleave.copyRow(GgmlType.Q8_0, p, rows, cols, rb + i, out, i * cols);
            for (int c = count * cols; c < PANEL_ROWS * cols; c++) out[c] = 0;
            return;
        }
        IntVector upShifts = IntVector.fromArray(IQ, BYTE_UP_SHIFTS, 0);
        for (int i = 0; i < count; i++) {
            int r = rb + i;
            int j = 4 * (r % Interleave.GROUP);
            int o = i * cols;
            for (int b = 0; b < nb; b++, o += 32) {
                long at = Interleave.groupOffset(Interleave.Q8_0_GROUP_BLOCK, rows / Interleave.GROUP, nb, r / Interleave.GROUP, b);
                FloatVector dv = FloatVector.broadcast(F, Float.float16ToFloat(p.get(Le.I16, at + j / 2)));
                for (int m = 0; m < 8; m += 2) {
                    IntVector bytes = IntVector.broadcast(IQ, p.get(Le.I32, at + 16 + 32 * m + j))
                            .blend(p.get(Le.I32, at + 48 + 32 * m + j), UPPER_HALF);
                    ((FloatVector) bytes.lanewise(VectorOperators.LSHL, upShifts).lanewise(VectorOperators.ASHR, 24)
                            .convertShape(VectorOperators.I2F, F, 0)).mul(dv).intoArray(out, o + 4 * m);
                }
            }
        }
        for (int c = count * cols; c < PANEL_ROWS * cols; c++) out[c] = 0;
    }

    /** Q8_0 rows: 34-byte blocks, fp16 d, 32 int8; d·q. */
    private static void q8_0(MemorySegment w, long at, int blocks, float[] out, int o) {
        for (int b = 0; b < blocks; b++, at += 34, o += 32) {
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(w.get(Le.I16, at)));
            for (int j = 0; j < 32; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, at + 2 + j, LE);
                ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, o + j);
            }
        }
    }

    /**
     * Q4_K rows: 144-byte blocks, fp16 d, fp16 dmin, 12 bytes of 6-bit (scale, min) pairs, 128
     * bytes of nibbles; run r of 32 values is (d·scale_r)·q - dmin·min_r, the low nibbles of a
     * 32-byte group for the even run, the high ones for the odd run.
     */
    private static void q4_K(MemorySegment w, long at, int blocks, float[] out, int o) {
        for (int b = 0; b < blocks; b++, at += 144) {
            float d = Float.float16ToFloat(w.get(Le.I16, at));
            float min = Float.float16ToFloat(w.get(Le.I16, at + 2));
            long sc = at + 4;
            for (int g = 0; g < 4; g++, o += 64) {
                FloatVector d1 = FloatVector.broadcast(F, d * kScale(w, sc, 2 * g));
                FloatVector m1 = FloatVector.broadcast(F, min * kMin(w, sc, 2 * g));
                FloatVector d2 = FloatVector.broadcast(F, d * kScale(w, sc, 2 * g + 1));
                FloatVector m2 = FloatVector.broadcast(F, min * kMin(w, sc, 2 * g + 1));
                long q = at + 16 + 32L * g;
                for (int j = 0; j < 32; j += L) {
                    ByteVector v = ByteVector.fromMemorySegment(B, w, q + j, LE);
                    ByteVector lo = v.and((byte) 0xF);
                    ByteVector hi = v.lanewise(VectorOperators.LSHR, 4);
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d1).sub(m1).intoArray(out, o + j);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d2).sub(m2).intoArray(out, o + 32 + j);
                }
            }
        }
    }

    /**
     * Q5_K rows: 176-byte blocks, as Q4_K with qh[32] (before the 128 bytes of nibbles) holding the
     * fifth bits: group g's even run takes bit 2g of qh[l], its odd run bit 2g+1.
     */
    private static void q5_K(MemorySegment w, long at, int blocks, float[] out, int o) {
        for (int b = 0; b < blocks; b++, at += 176) {
            float d = Float.float16ToFloat(w.get(Le.I16, at));
            float min = Float.float16ToFloat(w.get(Le.I16, at + 2));
            long sc = at + 4;
            for (int g = 0; g < 4; g++, o += 64) {
                FloatVector d1 = FloatVector.broadcast(F, d * kScale(w, sc, 2 * g));
                FloatVector m1 = FloatVector.broadcast(F, min * kMin(w, sc, 2 * g));
                FloatVector d2 = FloatVector.broadcast(F, d * kScale(w, sc, 2 * g + 1));
                FloatVector m2 = FloatVector.broadcast(F, min * kMin(w, sc, 2 * g + 1));
                long q = at + 48 + 32L * g;
                for (int j = 0; j < 32; j += L) {
                    ByteVector v = ByteVector.fromMemorySegment(B, w, q + j, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B, w, at + 16 + j, LE);
                    ByteVector lo = v.and((byte) 0xF)
                            .or(h.lanewise(VectorOperators.LSHR, 2 * g).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ByteVector hi = v.lanewise(VectorOperators.LSHR, 4)
                            .or(h.lanewise(VectorOperators.LSHR, 2 * g + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d1).sub(m1).intoArray(out, o + j);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d2).sub(m2).intoArray(out, o + 32 + j);
                }
            }
        }
    }

    /** The j-th 6-bit scale of a Q4_K/Q5_K block's 12 scale bytes at {@code sc}. */
    private static int kScale(MemorySegment w, long sc, int j) {
        if (j < 4) return w.get(ValueLayout.JAVA_BYTE, sc + j) & 63;
        return (u8(w, sc + j + 4) & 0xF) | ((u8(w, sc + j - 4) >>> 6) << 4);
    }

    /** The j-th 6-bit min of a Q4_K/Q5_K block's 12 scale bytes at {@code sc}. */
    private static int kMin(MemorySegment w, long sc, int j) {
        if (j < 4) return u8(w, sc + j + 4) & 63;
        return (u8(w, sc + j + 4) >>> 4) | ((u8(w, sc + j) >>> 6) << 4);
    }

    private static int u8(MemorySegment w, long at) {
        return w.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    /**
     * Q6_K rows: 210-byte blocks, ql[128] (low nibbles), qh[64] (high bit pairs), int8 scales[16],
     * fp16 d. In each 128-value half, value l of the four 32-value runs takes ql[l] low, ql[l+32]
     * low, ql[l] high, ql[l+32] high with bit pairs 0, 2, 4, 6 of qh[l]; (d·scale)·(q - 32), one
     * scale per 16 values.
     */
    private static void q6_K(MemorySegment w, long at, int blocks, float[] out, int o) {
        for (int b = 0; b < blocks; b++, at += 210) {
            float d = Float.float16ToFloat(w.get(Le.I16, at + 208));
            for (int half = 0; half < 2; half++, o += 128) {
                long ql = at + 64L * half;
                long qh = at + 128 + 32L * half;
                long sc = at + 192 + 8L * half;
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ByteVector a = ByteVector.fromMemorySegment(B, w, ql + l, LE);
                    ByteVector c = ByteVector.fromMemorySegment(B, w, ql + l + 32, LE);
                    ByteVector h = ByteVector.fromMemorySegment(B, w, qh + l, LE);
                    ByteVector q1 = a.and((byte) 0xF).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = c.and((byte) 0xF).or(h.and((byte) 0xC).lanewise(VectorOperators.LSHL, 2)).sub((byte) 32);
                    ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    float s1 = d * w.get(ValueLayout.JAVA_BYTE, sc + is);
                    float s2 = d * w.get(ValueLayout.JAVA_BYTE, sc + is + 2);
                    float s3 = d * w.get(ValueLayout.JAVA_BYTE, sc + is + 4);
                    float s4 = d * w.get(ValueLayout.JAVA_BYTE, sc + is + 6);
                    ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).mul(s1).intoArray(out, o + l);
                    ((FloatVector) q2.convertShape(VectorOperators.B2F, F, 0)).mul(s2).intoArray(out, o + l + 32);
                    ((FloatVector) q3.convertShape(VectorOperators.B2F, F, 0)).mul(s3).intoArray(out, o + l + 64);
                    ((FloatVector) q4.convertShape(VectorOperators.B2F, F, 0)).mul(s4).intoArray(out, o + l + 96);
                }
            }
        }
    }
}
