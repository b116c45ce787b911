package dev.kiri.kernels.matmul;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.S2I;

import dev.kiri.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batched products for float weights (F32, F16, BF16): a panel of {@link #PANEL_ROWS} weight rows
 * is converted once to F32, then a register-blocked micro-kernel forms 4 rows × 3 batch rows of
 * dot products at a time, twelve vector accumulators fed by seven loads per vector of columns (FMA
 * bound rather than load bound), in the machine's widest vectors. Batch rows are taken in tiles that stay in L2 while every panel
 * of the task's rows passes over them.
 *
 * <p>Like {@link VectorDots}, written flat: no method takes or returns a vector.
 */
final class VectorGemm {
    static final int PANEL_ROWS = 4;
    private static final int BATCH_BLOCK = 3;
    /** Bytes of activations a batch tile may take (stays in L2 next to a panel). */
    private static final int TILE_BYTES = 256 * 1024;
    /** The micro-kernel's vectors: the widest the machine has (512 bits on AVX-512, else 256). */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorGemm() {
    }

    static boolean supports(GgmlType t) {
        return t == GgmlType.F32 || t == GgmlType.F16 || t == GgmlType.BF16;
    }

    /**
     * {@code y[yOff + i*rows + r] = W[r] · x[xOff + i*cols ..]} for rows {@code [r0, r1)} and batch
     * rows {@code [0, n)}; {@code panel} holds at least {@code PANEL_ROWS * cols} floats.
     */
    static void rows(GgmlType t, MemorySegment w, long rowBytes, int cols, int rows, int r0, int r1,
                     float[] x, int xOff, int n, float[] y, int yOff, float[] panel) {
        int tile = Math.max(BATCH_BLOCK, TILE_BYTES / (4 * cols) / BATCH_BLOCK * BATCH_BLOCK);
        for (int i0 = 0; i0 < n; i0 += tile) {
            int i1 = Math.min(n, i0 + tile);
            for (int rb = r0; rb < r1; rb += PANEL_ROWS) {
                int count = Math.min(PANEL_ROWS, r1 - rb);
                switch (t) {
                    case F32 -> panelF32(w, rb * rowBytes, count * cols, panel);
                    case F16 -> panelF16(w, rb * rowBytes, count * cols, panel);
                    case BF16 -> panelBf16(w, rb * rowBytes, count * cols, panel);
                    default -> throw new IllegalArgumentException(t.ggmlName());
                }
                int i = i0;
                if (count == PANEL_ROWS) {
                    for (; i + BATCH_BLOCK <= i1; i += BATCH_BLOCK) {
                        kernel4x3(panel, cols, x, xOff + i * cols, y, yOff + i * rows + rb, rows);
                    }
                }
                for (; i < i1; i++) {
                    for (int j = 0; j < count; j++) {
                        y[yOff + i * rows + rb + j] = dot(panel, j * cols, x, xOff + i * cols, cols);
                    }
                }
            }
        }
    }

    /** Four panel rows · three activation rows (at xo, xo+cols, xo+2·cols) into y[yo + b·yStride + j]. */
    private static void kernel4x3(float[] p, int cols, float[] x, int xo, float[] y, int yo, int yStride) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
        int c = 0;
        int x1 = xo + cols, x2 = xo + 2 * cols;
        int bound = F.loopBound(cols);
        for (; c < bound; c += F.length()) {
            FloatVector v0 = FloatVector.fromArray(F, x, xo + c);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector w0 = FloatVector.fromArray(F, p, c);
            a00 = w0.fma(v0, a00);
            a01 = w0.fma(v1, a01);
            a02 = w0.fma(v2, a02);
            FloatVector w1 = FloatVector.fromArray(F, p, cols + c);
            a10 = w1.fma(v0, a10);
            a11 = w1.fma(v1, a11);
            a12 = w1.fma(v2, a12);
            FloatVector w2 = FloatVector.fromArray(F, p, 2 * cols + c);
            a20 = w2.fma(v0, a20);
            a21 = w2.fma(v1, a21);
            a22 = w2.fma(v2, a22);
            FloatVector w3 = FloatVector.fromArray(F, p, 3 * cols + c);
            a30 = w3.fma(v0, a30);
            a31 = w3.fma(v1, a31);
            a32 = w3.fma(v2, a32);
        }
        float s00 = a00.reduceLanes(ADD), s01 = a01.reduceLanes(ADD), s02 = a02.reduceLanes(ADD);
        float s10 = a10.reduceLanes(ADD), s11 = a11.reduceLanes(ADD), s12 = a12.reduceLanes(ADD);
        float s20 = a20.reduceLanes(ADD), s21 = a21.reduceLanes(ADD), s22 = a22.reduceLanes(ADD);
        float s30 = a30.reduceLanes(ADD), s31 = a31.reduceLanes(ADD), s32 = a32.reduceLanes(ADD);
        for (; c < cols; c++) {
            float v0 = x[xo + c], v1 = x[x1 + c], v2 = x[x2 + c];
            float w0 = p[c], w1 = p[cols + c], w2 = p[2 * cols + c], w3 = p[3 * cols + c];
            s00 += w0 * v0;
            s01 += w0 * v1;
            s02 += w0 * v2;
            s10 += w1 * v0;
            s11 += w1 * v1;
            s12 += w1 * v2;
            s20 += w2 * v0;
            s21 += w2 * v1;
            s22 += w2 * v2;
            s30 += w3 * v0;
            s31 += w3 * v1;
            s32 += w3 * v2;
        }
        y[yo] = s00;
        y[yo + 1] = s10;
        y[yo + 2] = s20;
        y[yo + 3] = s30;
        y[yo + yStride] = s01;
        y[yo + yStride + 1] = s11;
        y[yo + yStride + 2] = s21;
        y[yo + yStride + 3] = s31;
        y[yo + 2 * yStride] = s02;
        y[yo + 2 * yStride + 1] = s12;
        y[yo + 2 * yStride + 2] = s22;
        y[yo + 2 * yStride + 3] = s32;
    }

    /** One panel row · one activation row, for the edges. */
    private static float dot(float[] p, int po, float[] x, int xo, int cols) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        int bound = cols - cols % (2 * F.length());
        for (; c < bound; c += 2 * F.length()) {
            a0 = FloatVector.fromArray(F, p, po + c).fma(FloatVector.fromArray(F, x, xo + c), a0);
            a1 = FloatVector.fromArray(F, p, po + c + F.length()).fma(FloatVector.fromArray(F, x, xo + c + F.length()), a1);
        }
        float s = a0.add(a1).reduceLanes(ADD);
        for (; c < cols; c++) s += p[po + c] * x[xo + c];
        return s;
    }

    /** {@code count} F16 values at {@code off} into {@code out[0..count)} (the conversion of {@link VectorDots#f16}). */
    private static void panelF16(MemorySegment w, long off, int count, float[] out) {
        int c = 0;
        int bound = count & ~15;
        for (; c < bound; c += 16) {
            ShortVector h = ShortVector.fromMemorySegment(S256, w, off + 2L * c, LE);
            IntVector h0 = (IntVector) h.convert(S2I, 0);
            IntVector h1 = (IntVector) h.convert(S2I, 1);
            FloatVector m0 = h0.and(0x7FFF).lanewise(LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
            FloatVector m1 = h1.and(0x7FFF).lanewise(LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
            m0.reinterpretAsInts().or(h0.and(0x80000000)).reinterpretAsFloats().intoArray(out, c);
            m1.reinterpretAsInts().or(h1.and(0x80000000)).reinterpretAsFloats().intoArray(out, c + 8);
        }
        for (; c < count; c++) out[c] = Le.f16(w, off + 2L * c);
    }

    private static void panelF32(MemorySegment w, long off, int count, float[] out) {
        int c = 0;
        int bound = count & ~7;
        for (; c < bound; c += 8) FloatVector.fromMemorySegment(F256, w, off + 4L * c, LE).intoArray(out, c);
        for (; c < count; c++) out[c] = Le.f32(w, off + 4L * c);
    }

    private static void panelBf16(MemorySegment w, long off, int count, float[] out) {
        int c = 0;
        int bound = count & ~15;
        for (; c < bound; c += 16) {
            ShortVector h = ShortVector.fromMemorySegment(S256, w, off + 2L * c, LE);
            ((IntVector) h.convert(S2I, 0)).lanewise(LSHL, 16).reinterpretAsFloats().intoArray(out, c);
            ((IntVector) h.convert(S2I, 1)).lanewise(LSHL, 16).reinterpretAsFloats().intoArray(out, c + 8);
        }
        for (; c < count; c++) out[c] = Le.bf16(w, off + 2L * c);
    }
}
