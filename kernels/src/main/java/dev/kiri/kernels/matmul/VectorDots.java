package dev.kiri.kernels.matmul;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.B2S;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.S2I;
import static jdk.incubator.vector.VectorOperators.ZERO_EXTEND_B2S;

import dev.kiri.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API dot products of weight rows with converted activations, 256-bit vectors (AVX2 and up).
 *
 * <p>Quantized types: the weights' 4/6/8-bit values are widened to 16-bit lanes, multiplied with
 * the activations (kept as 16-bit values, widened once per call), and adjacent pairs of products
 * are added into 32-bit lanes ("pairs": shift left/arithmetic right by 16 to take the low half,
 * arithmetic right by 16 for the high half; the Vector API spelling of {@code pmaddwd}). Products
 * and their pair sums fit 16 bits for every type here (at most 2·128·127 = 32512). Each block or
 * sub-block then scales its exact integer sums, as {@link ScalarDots} does, in a different float
 * summation order.
 *
 * <p>Every method here is written flat, without helper methods taking or returning vectors: C2
 * stops inlining once a method's graph passes its node budget, and a vector that crosses a call
 * that was not inlined becomes a heap object (one allocation per operation, 20x slower). Each
 * kernel takes and returns only scalars and arrays, so whether or not it is inlined into its
 * caller, its vectors stay in registers. For the same reason the bodies of the inner loops are
 * kept to a few dozen vector operations.
 */
final class VectorDots {
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private VectorDots() {
    }

    /** Whether {@link #rows} has a vector kernel for {@code t} (otherwise {@link ScalarDots} is used). */
    static boolean supports(GgmlType t) {
        return switch (t) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * {@code y[yOff + r] = row r · activation row {@code row}} for r in {@code [r0, r1)}. Types
     * without a vector kernel go through {@link ScalarDots} (the activations then hold bytes).
     */
    static void rows(GgmlType t, MemorySegment w, long rowBytes, int cols, int r0, int r1,
                     Activations a, int row, float[] y, int yOff) {
        switch (t) {
            case F32 -> f32(w, rowBytes, cols, r0, r1, a.f, a.fOff + row * cols, y, yOff);
            case F16 -> f16(w, rowBytes, cols, r0, r1, a.f, a.fOff + row * cols, y, yOff);
            case BF16 -> bf16(w, rowBytes, cols, r0, r1, a.f, a.fOff + row * cols, y, yOff);
            case Q8_0 -> q8_0(w, rowBytes, cols / 32, r0, r1, a.q16, a.d, row * (cols / 32), y, yOff);
            case Q4_0 -> q4_0(w, rowBytes, cols / 32, r0, r1, a.q16, a.d, row * (cols / 32), y, yOff);
            case Q4_K -> q4_K(w, rowBytes, cols / 256, r0, r1, a.q16, a.d, a.bsum, row * (cols / 256), y, yOff);
            case Q6_K -> q6_K(w, rowBytes, cols / 256, r0, r1, a.q16, a.d, row * (cols / 256), y, yOff);
            default -> {
                for (int r = r0; r < r1; r++) y[yOff + r] = ScalarDots.dot(t, w, r * rowBytes, cols, a, row);
            }
        }
    }

    // ---- float weights ----------------------------------------------------------------------

    static void f32(MemorySegment w, long rowBytes, int cols, int r0, int r1, float[] x, int xo, float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector a0 = FloatVector.zero(F256), a1 = a0, a2 = a0, a3 = a0;
            int c = 0;
            for (; c + 32 <= cols; c += 32) {
                long o = off + 4L * c;
                a0 = FloatVector.fromMemorySegment(F256, w, o, LE).fma(FloatVector.fromArray(F256, x, xo + c), a0);
                a1 = FloatVector.fromMemorySegment(F256, w, o + 32, LE).fma(FloatVector.fromArray(F256, x, xo + c + 8), a1);
                a2 = FloatVector.fromMemorySegment(F256, w, o + 64, LE).fma(FloatVector.fromArray(F256, x, xo + c + 16), a2);
                a3 = FloatVector.fromMemorySegment(F256, w, o + 96, LE).fma(FloatVector.fromArray(F256, x, xo + c + 24), a3);
            }
            for (; c + 8 <= cols; c += 8) {
                a0 = FloatVector.fromMemorySegment(F256, w, off + 4L * c, LE).fma(FloatVector.fromArray(F256, x, xo + c), a0);
            }
            float sum = a0.add(a1).add(a2.add(a3)).reduceLanes(ADD);
            for (; c < cols; c++) sum += w.get(Le.F32, off + 4L * c) * x[xo + c];
            y[yOff + r] = sum;
        }
    }

    /**
     * F16 weights: 16 halves per step, widened to two vectors of 32-bit lanes; each half's 15
     * magnitude bits are moved into float position and rescaled by 2^112 (exact for normals,
     * subnormals and zero), the sign put back. Infinities and NaNs are not special-cased: they read
     * as finite values of magnitude 2^16 or more.
     */
    static void f16(MemorySegment w, long rowBytes, int cols, int r0, int r1, float[] x, int xo, float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector a0 = FloatVector.zero(F256), a1 = a0;
            int c = 0;
            for (; c + 16 <= cols; c += 16) {
                ShortVector h = ShortVector.fromMemorySegment(S256, w, off + 2L * c, LE);
                IntVector h0 = (IntVector) h.convert(S2I, 0);
                IntVector h1 = (IntVector) h.convert(S2I, 1);
                FloatVector m0 = h0.and(0x7FFF).lanewise(LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
                FloatVector m1 = h1.and(0x7FFF).lanewise(LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
                FloatVector f0 = m0.reinterpretAsInts().or(h0.and(0x80000000)).reinterpretAsFloats();
                FloatVector f1 = m1.reinterpretAsInts().or(h1.and(0x80000000)).reinterpretAsFloats();
                a0 = f0.fma(FloatVector.fromArray(F256, x, xo + c), a0);
                a1 = f1.fma(FloatVector.fromArray(F256, x, xo + c + 8), a1);
            }
            float sum = a0.add(a1).reduceLanes(ADD);
            for (; c < cols; c++) sum += Le.f16(w, off + 2L * c) * x[xo + c];
            y[yOff + r] = sum;
        }
    }

    /** BF16 weights: a bfloat16 is the upper half of a float, so widening is a 16-bit shift. */
    static void bf16(MemorySegment w, long rowBytes, int cols, int r0, int r1, float[] x, int xo, float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector a0 = FloatVector.zero(F256), a1 = a0;
            int c = 0;
            for (; c + 16 <= cols; c += 16) {
                ShortVector h = ShortVector.fromMemorySegment(S256, w, off + 2L * c, LE);
                FloatVector f0 = ((IntVector) h.convert(S2I, 0)).lanewise(LSHL, 16).reinterpretAsFloats();
                FloatVector f1 = ((IntVector) h.convert(S2I, 1)).lanewise(LSHL, 16).reinterpretAsFloats();
                a0 = f0.fma(FloatVector.fromArray(F256, x, xo + c), a0);
                a1 = f1.fma(FloatVector.fromArray(F256, x, xo + c + 8), a1);
            }
            float sum = a0.add(a1).reduceLanes(ADD);
            for (; c < cols; c++) sum += Le.bf16(w, off + 2L * c) * x[xo + c];
            y[yOff + r] = sum;
        }
    }

    // ---- 32-value blocks with Q8_0 activations ------------------------------------------------

    /** Q8_0 block (34 bytes): d, then 32 int8 at +2. */
    static void q8_0(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                long o = off + 34L * b;
                int x = (xb + b) * 32;
                ShortVector w0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(B2S, S256, 0);
                ShortVector w1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).convertShape(B2S, S256, 0);
                IntVector p = w0.mul(ShortVector.fromArray(S256, xq, x))
                        .add(w1.mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretAsInts();
                IntVector s = p.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p.lanewise(ASHR, 16));
                float scale = Float.float16ToFloat(w.get(Le.I16, o)) * xd[xb + b];
                acc = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F256, scale), acc);
            }
            y[yOff + r] = acc.reduceLanes(ADD);
        }
    }

    /** Q4_0 block (18 bytes): d, then 16 bytes (element j: low nibble, j+16: high nibble), value q-8. */
    static void q4_0(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                long o = off + 18L * b;
                int x = (xb + b) * 32;
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE)
                        .convertShape(ZERO_EXTEND_B2S, S256, 0);
                IntVector p = q.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x))
                        .add(q.lanewise(LSHR, 4).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x + 16)))
                        .reinterpretAsInts();
                IntVector s = p.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p.lanewise(ASHR, 16));
                float scale = Float.float16ToFloat(w.get(Le.I16, o)) * xd[xb + b];
                acc = ((FloatVector) s.convert(I2F, 0)).fma(FloatVector.broadcast(F256, scale), acc);
            }
            y[yOff + r] = acc.reduceLanes(ADD);
        }
    }

    // ---- 256-value super-blocks with Q8_K activations -----------------------------------------

    /**
     * Q4_K (144 bytes): d, dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles.
     * Sub-block pair i (elements 64i..64i+63) reads qs[32i..32i+31]: low nibbles for sub-block 2i,
     * high nibbles for 2i+1. The mins meet the activations' sums per 16, so they cost 8 scalar
     * multiply-adds per block.
     */
    static void q4_K(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int[] bsum, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            float mins = 0;
            for (int b = 0; b < nb; b++) {
                long o = off + 144L * b;
                int blk = xb + b;
                int u0 = w.get(Le.I32, o + 4), u1 = w.get(Le.I32, o + 8), u2 = w.get(Le.I32, o + 12);
                // Scales of sub-blocks 0..7 one per byte of a long; mins likewise.
                long scales = (u0 & 0x3f3f3f3fL) | (((u2 & 0x0f0f0f0f) | (((u0 >>> 6) & 0x03030303) << 4)) & 0xFFFFFFFFL) << 32;
                long mns = (u1 & 0x3f3f3f3fL) | ((((u2 >>> 4) & 0x0f0f0f0f) | (((u1 >>> 6) & 0x03030303) << 4)) & 0xFFFFFFFFL) << 32;
                int bs = blk * 16;
                int summs = 0;
                for (int j = 0; j < 8; j++) {
                    summs += (int) ((mns >>> (8 * j)) & 0xFF) * (bsum[bs + 2 * j] + bsum[bs + 2 * j + 1]);
                }
                IntVector isum = IntVector.zero(I256);
                for (int i = 0; i < 4; i++) {
                    long q = o + 16 + 32 * i;
                    int x = blk * 256 + 64 * i;
                    ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, q, LE).convertShape(ZERO_EXTEND_B2S, S256, 0);
                    ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, q + 16, LE).convertShape(ZERO_EXTEND_B2S, S256, 0);
                    IntVector pl = q0.and((short) 0xF).mul(ShortVector.fromArray(S256, xq, x))
                            .add(q1.and((short) 0xF).mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretAsInts();
                    IntVector ph = q0.lanewise(LSHR, 4).mul(ShortVector.fromArray(S256, xq, x + 32))
                            .add(q1.lanewise(LSHR, 4).mul(ShortVector.fromArray(S256, xq, x + 48))).reinterpretAsInts();
                    IntVector sl = pl.lanewise(LSHL, 16).lanewise(ASHR, 16).add(pl.lanewise(ASHR, 16));
                    IntVector sh = ph.lanewise(LSHL, 16).lanewise(ASHR, 16).add(ph.lanewise(ASHR, 16));
                    int scl = (int) (scales >>> (16 * i)) & 0xFF;
                    int sch = (int) (scales >>> (16 * i + 8)) & 0xFF;
                    isum = isum.add(sl.mul(scl)).add(sh.mul(sch));
                }
                float dx = xd[blk];
                acc = ((FloatVector) isum.convert(I2F, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(w.get(Le.I16, o))), acc);
                mins += dx * Float.float16ToFloat(w.get(Le.I16, o + 2)) * summs;
            }
            y[yOff + r] = acc.reduceLanes(ADD) - mins;
        }
    }

    /**
     * Q6_K (210 bytes): ql[128], qh[64], int8 scales[16], d. In half h (elements 128h..), for
     * l < 32 and s < 4, element 32s + l has its low nibble in ql[64h + 32(s%2) + l] (low half of the
     * byte for s < 2, high half otherwise) and its two high bits at bits 2s of qh[32h + l]; value
     * q - 32; each run of 16 elements has its own scale. One loop step takes one run.
     */
    static void q6_K(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                long o = off + 210L * b;
                IntVector isum = IntVector.zero(I256);
                for (int run = 0; run < 16; run++) {
                    int h = run >> 3, s = (run >> 1) & 3, lh = 16 * (run & 1);
                    ShortVector lo = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 64 * h + 32 * (s & 1) + lh, LE)
                            .convertShape(ZERO_EXTEND_B2S, S256, 0);
                    ShortVector hi = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 128 + 32 * h + lh, LE)
                            .convertShape(ZERO_EXTEND_B2S, S256, 0);
                    ShortVector q = lo.lanewise(LSHR, 4 * (s >> 1)).and((short) 0xF)
                            .or(hi.lanewise(LSHR, 2 * s).and((short) 3).lanewise(LSHL, 4)).sub((short) 32);
                    int x = (xb + b) * 256 + 128 * h + 32 * s + lh;
                    IntVector p = q.mul(ShortVector.fromArray(S256, xq, x)).reinterpretAsInts();
                    IntVector ps = p.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p.lanewise(ASHR, 16));
                    isum = isum.add(ps.mul(w.get(ValueLayout.JAVA_BYTE, o + 192 + 8 * h + 2 * s + (run & 1))));
                }
                float scale = xd[xb + b] * Float.float16ToFloat(w.get(Le.I16, o + 208));
                acc = ((FloatVector) isum.convert(I2F, 0)).fma(FloatVector.broadcast(F256, scale), acc);
            }
            y[yOff + r] = acc.reduceLanes(ADD);
        }
    }
}
