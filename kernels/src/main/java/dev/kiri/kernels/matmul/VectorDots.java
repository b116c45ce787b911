package dev.kiri.kernels.matmul;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.B2I;
import static jdk.incubator.vector.VectorOperators.B2S;
import static jdk.incubator.vector.VectorOperators.FMA;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;
import static jdk.incubator.vector.VectorOperators.LSHR;
import static jdk.incubator.vector.VectorOperators.MUL;
import static jdk.incubator.vector.VectorOperators.NE;
import static jdk.incubator.vector.VectorOperators.OR;
import static jdk.incubator.vector.VectorOperators.S2I;

import dev.kiri.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API dot products of weight rows with converted activations, 256-bit vectors (AVX2 and up).
 *
 * <p>Quantized types: the weights' 4/6/8-bit values are widened to 16-bit lanes, multiplied with
 * the activations (kept as 16-bit values, widened once per call), and adjacent pairs of products
 * are added into 32-bit lanes ("pairs", the Vector API spelling of {@code pmaddwd}: seen as 32-bit
 * lanes, {@code v + (v << 16)} holds the sum of the two halves in its upper 16 bits, which an
 * arithmetic shift brings down: three operations, exact while that sum fits 16 bits, true for the
 * 4-, 5- and 6-bit types; Q8_0 and the IQ4 code book, whose pair sums reach 4·128·127, sign-extend
 * each half and add, four operations). Products and the sum of two of them fit 16 bits for every
 * type here (at most 2·128·127 = 32512). Each block or
 * sub-block then scales its exact integer sums, as {@link ScalarDots} does, in a different float
 * summation order. Q6_K and Q4_K do without the widening and the pair sums: they multiply two
 * 16-bit values at a time in 32-bit lanes against activations stored as swapped pairs
 * ({@link #q6_K}). The products stay exact (the pair sums too), so the same holds there. The
 * Q4_K copy kernel ({@link #q4_Kx}) reads its nibbles in place in 16-bit lanes, without widening,
 * and sums pairs once per block.
 *
 * <p>Every method here is written flat, without helper methods taking or returning vectors: C2
 * stops inlining once a method's graph passes its node budget, and a vector that crosses a call
 * that was not inlined becomes a heap object (one allocation per operation, 20x slower). Each
 * kernel takes and returns only scalars and arrays, so whether or not it is inlined into its
 * caller, its vectors stay in registers. For the same reason the bodies of the inner loops are
 * kept to a few dozen vector operations.
 *
 * <p>Every conversion names its result species ({@code convertShape(I2F, F256, 0)},
 * {@code reinterpretShape(I256, 0)}), never the shape-invariant {@code convert(I2F, 0)} or
 * {@code reinterpretAsInts()}: those look the species up at run time, and when C2 does not fold that
 * lookup it goes by the Vector API's shared type profile, leaves the conversion unintrinsified and
 * allocates on every block for good (docs/KERNELS.md; {@code ImplicitSpeciesTest} enforces it).
 */
final class VectorDots {
    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Long> L256 = LongVector.SPECIES_256;
    /** The odd lanes of an 8-lane int vector. */
    private static final VectorMask<Integer> ODD = VectorMask.fromLong(I256, 0xAA);
    /** Block sums blended as rows [0, 4, 1, 5, 2, 6, 3, 7], put back in order ({@link #q8_0x8}). */
    private static final VectorShuffle<Integer> ROWS_IN_ORDER = VectorShuffle.fromValues(I256, 0, 2, 4, 6, 1, 3, 5, 7);
    // q8_0x8's constants, made once and read into locals (as WideDots' are; docs/KERNELS.md, "The
    // Q4_0 and Q8_0 decode kernels at 512 bits"). Beside its shifts, which keep int counts (count
    // vectors compile to variable shifts, a fifth slower with AVX2 code), it calls only methods that
    // each species class overrides (lanewise with vector operands, convertShape, reinterpretShape,
    // blend, rearrange, lane).
    private static final IntVector Q8_MAGNITUDE = IntVector.broadcast(I256, 0x7FFF);
    private static final IntVector Q8_SIGN = IntVector.broadcast(I256, 0x80000000);
    private static final FloatVector Q8_F112 = FloatVector.broadcast(F256, 0x1p112f);
    /** Lanes 4..7 of an 8-lane int vector. */
    private static final VectorMask<Integer> UPPER4 = VectorMask.fromLong(I256, 0xF0);
    /** Lanes 4..7 of an 8-lane float vector. */
    private static final VectorMask<Float> UPPER4F = VectorMask.fromLong(F256, 0xF0);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    // Bytes are widened to 16-bit lanes with the sign-extending cast B2S and, where the high bits
    // matter, a mask: never with ZERO_EXTEND_B2S. The Vector API's zero extension checks the class of
    // the converted vector after the conversion, and in some JIT states C2 compiled that check against
    // a boxed vector, allocating on every block for as long as the JVM ran (docs/KERNELS.md,
    // "Steady-state allocation in decode: C2's trap budget").

    private VectorDots() {
    }

    /** Whether {@link #rows} has a vector kernel for {@code t} (otherwise {@link ScalarDots} is used). */
    static boolean supports(GgmlType t) {
        return switch (t) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS -> true;
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
            case Q8_0 -> q8_0(w, rowBytes, cols / 32, r0, r1, a.q, a.d, row * (cols / 32), y, yOff);
            case Q4_0 -> {
                if (cols <= Activations.Q4_PAIRS_MAX_COLS) {
                    q4_0(w, rowBytes, cols / 32, r0, r1, a.xq4, row * (cols / 64) * Activations.Q4_PAIR, a.q16, a.d,
                            row * (cols / 32), y, yOff);
                } else {
                    q4_0Shorts(w, rowBytes, cols / 32, r0, r1, a.q16, a.d, row * (cols / 32), y, yOff);
                }
            }
            case Q4_1 -> q4_1(w, rowBytes, cols / 32, r0, r1, a.q16, a.d, a.s, row * (cols / 32), y, yOff);
            case Q5_0 -> q5_0(w, rowBytes, cols / 32, r0, r1, a.q16, a.d, a.xsum, row * (cols / 32), y, yOff);
            case Q5_1 -> q5_1(w, rowBytes, cols / 32, r0, r1, a.q16, a.d, a.s, row * (cols / 32), y, yOff);
            case IQ4_NL -> iq4_nl(w, rowBytes, cols / 32, r0, r1, a.q16, a.d, row * (cols / 32), y, yOff);
            case Q2_K -> q2_K(w, rowBytes, cols / 256, r0, r1, a.q16, a.d, a.bsum16, row * (cols / 256), y, yOff);
            case Q3_K -> q3_K(w, rowBytes, cols / 256, r0, r1, a.q16, a.d, row * (cols / 256), y, yOff);
            case Q5_K -> q5_K(w, rowBytes, cols / 256, r0, r1, a.q16, a.d, a.bsum32, row * (cols / 256), y, yOff);
            case IQ4_XS -> iq4_xs(w, rowBytes, cols / 256, r0, r1, a.q16, a.d, row * (cols / 256), y, yOff);
            case Q4_K -> q4_K(w, rowBytes, cols / 256, r0, r1, a.xg, a.d, a.bsum32, row * (cols / 256), y, yOff);
            case Q6_K -> q6_K(w, rowBytes, cols / 256, r0, r1, a.xg, a.d, a.bsum, row * (cols / 256), y, yOff);
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
            int bound32 = cols & ~31;
            for (; c < bound32; c += 32) {
                long o = 4L * c;
                a0 = FloatVector.fromMemorySegment(F256, w, off + o, LE).fma(FloatVector.fromArray(F256, x, xo + c), a0);
                a1 = FloatVector.fromMemorySegment(F256, w, off + o + 32, LE).fma(FloatVector.fromArray(F256, x, xo + c + 8), a1);
                a2 = FloatVector.fromMemorySegment(F256, w, off + o + 64, LE).fma(FloatVector.fromArray(F256, x, xo + c + 16), a2);
                a3 = FloatVector.fromMemorySegment(F256, w, off + o + 96, LE).fma(FloatVector.fromArray(F256, x, xo + c + 24), a3);
            }
            int bound8 = cols & ~7;
            for (; c < bound8; c += 8) {
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
            int bound = cols & ~15;
            for (; c < bound; c += 16) {
                ShortVector h = ShortVector.fromMemorySegment(S256, w, off + 2L * c, LE);
                IntVector h0 = (IntVector) h.convertShape(S2I, I256, 0);
                IntVector h1 = (IntVector) h.convertShape(S2I, I256, 1);
                FloatVector m0 = ((FloatVector) h0.and(0x7FFF).lanewise(LSHL, 13).reinterpretShape(F256, 0)).mul(0x1p112f);
                FloatVector m1 = ((FloatVector) h1.and(0x7FFF).lanewise(LSHL, 13).reinterpretShape(F256, 0)).mul(0x1p112f);
                FloatVector f0 = (FloatVector) ((IntVector) m0.reinterpretShape(I256, 0)).or(h0.and(0x80000000)).reinterpretShape(F256, 0);
                FloatVector f1 = (FloatVector) ((IntVector) m1.reinterpretShape(I256, 0)).or(h1.and(0x80000000)).reinterpretShape(F256, 0);
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
            int bound = cols & ~15;
            for (; c < bound; c += 16) {
                ShortVector h = ShortVector.fromMemorySegment(S256, w, off + 2L * c, LE);
                FloatVector f0 = (FloatVector) ((IntVector) h.convertShape(S2I, I256, 0)).lanewise(LSHL, 16).reinterpretShape(F256, 0);
                FloatVector f1 = (FloatVector) ((IntVector) h.convertShape(S2I, I256, 1)).lanewise(LSHL, 16).reinterpretShape(F256, 0);
                a0 = f0.fma(FloatVector.fromArray(F256, x, xo + c), a0);
                a1 = f1.fma(FloatVector.fromArray(F256, x, xo + c + 8), a1);
            }
            float sum = a0.add(a1).reduceLanes(ADD);
            for (; c < cols; c++) sum += Le.bf16(w, off + 2L * c) * x[xo + c];
            y[yOff + r] = sum;
        }
    }

    // ---- 32-value blocks with Q8_0 activations ------------------------------------------------

    /**
     * Q8_0 block (34 bytes): d, then 32 int8 at +2. One row at a time, two accumulators over
     * alternate blocks: with one, every block waits for the previous block's multiply-add (four
     * cycles of latency), which bounded this loop more than its arithmetic did. The activations are
     * read as int8 ({@link Activations#q}) and widened by the load, as the weights are: as 16-bit
     * values a row of 8192 (16 KiB) did not stay in L1 beside the streaming weights, and long rows
     * ran 1.5x slower per block.
     */
    static void q8_0(MemorySegment w, long rowBytes, int nb, int r0, int r1, byte[] xq, float[] xd, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(F256), acc1 = acc0;
            int b = xb;
            for (int bEnd = xb + (nb & ~1); b < bEnd; b += 2) {
                long o = off + 34L * (b - xb);
                int x = b * 32;
                IntVector p0 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(B2S, S256, 0))
                        .mul((ShortVector) ByteVector.fromArray(B128, xq, x).convertShape(B2S, S256, 0))
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).convertShape(B2S, S256, 0))
                                .mul((ShortVector) ByteVector.fromArray(B128, xq, x + 16).convertShape(B2S, S256, 0)))
                        .reinterpretShape(I256, 0);
                IntVector s0 = p0.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p0.lanewise(ASHR, 16));
                acc0 = ((FloatVector) s0.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(w.get(Le.I16, o)) * xd[b]), acc0);
                IntVector p1 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 36, LE).convertShape(B2S, S256, 0))
                        .mul((ShortVector) ByteVector.fromArray(B128, xq, x + 32).convertShape(B2S, S256, 0))
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 52, LE).convertShape(B2S, S256, 0))
                                .mul((ShortVector) ByteVector.fromArray(B128, xq, x + 48).convertShape(B2S, S256, 0)))
                        .reinterpretShape(I256, 0);
                IntVector s1 = p1.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p1.lanewise(ASHR, 16));
                acc1 = ((FloatVector) s1.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(w.get(Le.I16, o + 34)) * xd[b + 1]), acc1);
            }
            if ((nb & 1) != 0) {
                long o = off + 34L * (b - xb);
                int x = b * 32;
                IntVector p = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(B2S, S256, 0))
                        .mul((ShortVector) ByteVector.fromArray(B128, xq, x).convertShape(B2S, S256, 0))
                        .add(((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 18, LE).convertShape(B2S, S256, 0))
                                .mul((ShortVector) ByteVector.fromArray(B128, xq, x + 16).convertShape(B2S, S256, 0)))
                        .reinterpretShape(I256, 0);
                IntVector s = p.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p.lanewise(ASHR, 16));
                acc0 = ((FloatVector) s.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(w.get(Le.I16, o)) * xd[b]), acc0);
            }
            y[yOff + r] = acc0.add(acc1).reduceLanes(ADD);
        }
    }

    /**
     * Q8_0 weights interleaved in groups of eight rows ({@link Interleave}, "Q8_0x8"), groups, rows and
     * results as {@link #q4_0x8}; {@code xl} is {@link Activations#xq8l}. Part m of a block holds
     * values 4m..4m+3 of the eight rows, rows 0..3 in its first 16 bytes and rows 4..7 in the next:
     * each half sign-extended to sixteen 16-bit lanes ({@code vpmovsxbw}), multiplied by the four
     * activations broadcast ({@code vpmullw}), two parts' products added there (at most
     * 2·128·127 = 32512, as the activations stay within ±127), and each int lane's two 16-bit halves
     * added with sign extension: int lane 2j + e holds four products of row j. Per block the two
     * lanes of a row are added (64-bit lanes), rows 0..3 and 4..7 blended into one vector
     * ([0, 4, 1, 5, 2, 6, 3, 7]) and put in order with one permutation: the eight exact block sums,
     * scaled by the F16 scales converted as {@link #q4_0x8} converts them. The whole block written out,
     * with no loop over the parts: as a loop of four C2 left it rolled, at about two thirds of the
     * speed (docs/KERNELS.md, "Q8_0x8: the bytes themselves"). Written as {@link WideDots}' kernels
     * are (constants made once, only methods that each species class overrides, the results added
     * lane by lane) but for its shifts, which keep {@code int} counts.
     */
    static void q8_0x8(MemorySegment p, long stride, long base, int nb, int g0, int g1, long[] xl, float[] xd, int xb,
                       float[] y, int yOff) {
        IntVector magMask = Q8_MAGNITUDE, signMask = Q8_SIGN;
        FloatVector f112 = Q8_F112;
        for (int g = g0; g < g1; g++) {
            FloatVector acc = FloatVector.zero(F256);
            long o = base + g * stride;
            int k = xb * Activations.Q8L_BLOCK;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++, o += Interleave.Q8_0_GROUP_BLOCK, k += Activations.Q8L_BLOCK) {
                ShortVector x0 = (ShortVector) LongVector.broadcast(L256, xl[k]).reinterpretShape(S256, 0);
                ShortVector x1 = (ShortVector) LongVector.broadcast(L256, xl[k + 1]).reinterpretShape(S256, 0);
                IntVector a0 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 16, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x0)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 48, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x1))
                        .reinterpretShape(I256, 0);
                IntVector b0 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 32, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x0)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 64, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x1))
                        .reinterpretShape(I256, 0);
                ShortVector x2 = (ShortVector) LongVector.broadcast(L256, xl[k + 2]).reinterpretShape(S256, 0);
                ShortVector x3 = (ShortVector) LongVector.broadcast(L256, xl[k + 3]).reinterpretShape(S256, 0);
                IntVector a1 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 80, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x2)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 112, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x3))
                        .reinterpretShape(I256, 0);
                IntVector b1 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 96, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x2)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 128, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x3))
                        .reinterpretShape(I256, 0);
                ShortVector x4 = (ShortVector) LongVector.broadcast(L256, xl[k + 4]).reinterpretShape(S256, 0);
                ShortVector x5 = (ShortVector) LongVector.broadcast(L256, xl[k + 5]).reinterpretShape(S256, 0);
                IntVector a2 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 144, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x4)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 176, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x5))
                        .reinterpretShape(I256, 0);
                IntVector b2 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 160, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x4)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 192, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x5))
                        .reinterpretShape(I256, 0);
                ShortVector x6 = (ShortVector) LongVector.broadcast(L256, xl[k + 6]).reinterpretShape(S256, 0);
                ShortVector x7 = (ShortVector) LongVector.broadcast(L256, xl[k + 7]).reinterpretShape(S256, 0);
                IntVector a3 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 208, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x6)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 240, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x7))
                        .reinterpretShape(I256, 0);
                IntVector b3 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 224, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x6)
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B128, p, o + 256, LE).convertShape(B2S, S256, 0)).lanewise(MUL, x7))
                        .reinterpretShape(I256, 0);
                LongVector la = (LongVector) a0.lanewise(LSHL, 16).lanewise(ASHR, 16).lanewise(ADD, a0.lanewise(ASHR, 16))
                        .lanewise(ADD, a1.lanewise(LSHL, 16).lanewise(ASHR, 16)).lanewise(ADD, a1.lanewise(ASHR, 16))
                        .lanewise(ADD, a2.lanewise(LSHL, 16).lanewise(ASHR, 16)).lanewise(ADD, a2.lanewise(ASHR, 16))
                        .lanewise(ADD, a3.lanewise(LSHL, 16).lanewise(ASHR, 16)).lanewise(ADD, a3.lanewise(ASHR, 16))
                        .reinterpretShape(L256, 0);
                LongVector lb = (LongVector) b0.lanewise(LSHL, 16).lanewise(ASHR, 16).lanewise(ADD, b0.lanewise(ASHR, 16))
                        .lanewise(ADD, b1.lanewise(LSHL, 16).lanewise(ASHR, 16)).lanewise(ADD, b1.lanewise(ASHR, 16))
                        .lanewise(ADD, b2.lanewise(LSHL, 16).lanewise(ASHR, 16)).lanewise(ADD, b2.lanewise(ASHR, 16))
                        .lanewise(ADD, b3.lanewise(LSHL, 16).lanewise(ASHR, 16)).lanewise(ADD, b3.lanewise(ASHR, 16))
                        .reinterpretShape(L256, 0);
                // Rows 0..3 in the low ints of la's longs, rows 4..7 in the high ints of lb's: blended, then in order.
                IntVector s = ((IntVector) la.lanewise(ADD, la.lanewise(LSHR, 32)).reinterpretShape(I256, 0))
                        .blend((IntVector) lb.lanewise(ADD, lb.lanewise(LSHR, 32)).lanewise(LSHL, 32).reinterpretShape(I256, 0), ODD)
                        .rearrange(ROWS_IN_ORDER);
                IntVector h = (IntVector) ShortVector.fromMemorySegment(S128, p, o, LE).convertShape(S2I, I256, 0);
                FloatVector mag = ((FloatVector) h.lanewise(AND, magMask).lanewise(LSHL, 13).reinterpretShape(F256, 0)).lanewise(MUL, f112);
                FloatVector d = (FloatVector) ((IntVector) mag.reinterpretShape(I256, 0)).lanewise(OR, h.lanewise(AND, signMask)).reinterpretShape(F256, 0);
                acc = ((FloatVector) s.convertShape(I2F, F256, 0)).lanewise(FMA, d.lanewise(MUL, FloatVector.broadcast(F256, xd[b])), acc);
            }
            int at = yOff + 8 * g;
            y[at] += acc.lane(0);
            y[at + 1] += acc.lane(1);
            y[at + 2] += acc.lane(2);
            y[at + 3] += acc.lane(3);
            y[at + 4] += acc.lane(4);
            y[at + 5] += acc.lane(5);
            y[at + 6] += acc.lane(6);
            y[at + 7] += acc.lane(7);
        }
    }

    /**
     * Q4_0 weights interleaved in groups of eight rows ({@link Interleave}): groups {@code [g0, g1)},
     * group g's {@code nb} blocks at {@code base + g·stride}, results to
     * {@code y[yOff + 8g .. yOff + 8g + 8)}, always added to what is there (the caller sets those
     * values to -0.0f, for which adding is exact, before a row's first column chunk); activation row
     * starting at block {@code xb}. The K-quant copy kernels below take their rows the same way (row
     * r's {@code nb} blocks at {@code base + r·stride}, added to {@code y[yOff + r]}), so that a
     * copy's long rows run column chunk by column chunk ({@link Interleave#blockOffset}). Always
     * adding leaves no branch on the chunk in the kernels: with one, C2's first compile (made before
     * any later chunk had run) trapped at the first long-row product and was thrown away during the
     * first forward pass (docs/BENCHMARKS.md, "Startup to first token").
     * Per block, each of the four 256-bit parts holds four bytes of nibbles of every row of the group
     * (one row per int lane). The four ways of taking two nibbles from a lane ({@code v & 0x000F000F},
     * and after a shift by 8, 4 or 12) are shifted and masked in 32-bit lanes (one {@code vpsrld} with
     * an immediate each), except the last: a 16-bit shift by 12 ({@code vpsrlw} with an immediate)
     * leaves each half's top nibble alone in its lane, with no mask (9 % faster with AVX2 code,
     * docs/KERNELS.md). Each way is then read as sixteen 16-bit lanes, two per row, and multiplied ({@code vpmullw}: one micro-operation, where
     * the 32-bit multiply of the swapped-pair form this replaced took two on Intel cores) by the
     * broadcast activation pair that matches them ({@link Activations#xq4x8}: value of the lane's
     * low half in the low 16 bits). All sixteen products of a 16-bit lane are added there (at most
     * 16·15·127 = 30480), the two halves of each row's int lane added with sign extension, and the
     * block's {@code 8·Σx} subtracted: the eight rows' exact block sums. They are scaled by the eight
     * F16 scales (one 128-bit load, converted as {@link #f16} converts, exactly for every finite
     * value) times {@code d_x}.
     */
    static void q4_0x8(MemorySegment p, long stride, long base, int nb, int g0, int g1, int[] xa, float[] xd, int xb,
                       float[] y, int yOff) {
        IntVector m = IntVector.broadcast(I256, 0x000F000F);
        for (int g = g0; g < g1; g++) {
            FloatVector acc = FloatVector.zero(F256);
            long o = base + g * stride;
            int i = xb * Activations.Q4X8_BLOCK;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++, o += Interleave.Q4_0_GROUP_BLOCK, i += Activations.Q4X8_BLOCK) {
                IntVector v0 = IntVector.fromMemorySegment(I256, p, o + 16, LE);
                IntVector v1 = IntVector.fromMemorySegment(I256, p, o + 48, LE);
                ShortVector t0 = ((ShortVector) v0.and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i]).reinterpretShape(S256, 0))
                        .add(((ShortVector) v0.lanewise(LSHR, 8).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 1]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v0.lanewise(LSHR, 4).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 2]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v0.reinterpretShape(S256, 0)).lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I256, xa[i + 3]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v1.and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 4]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v1.lanewise(LSHR, 8).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 5]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v1.lanewise(LSHR, 4).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 6]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v1.reinterpretShape(S256, 0)).lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I256, xa[i + 7]).reinterpretShape(S256, 0)));
                IntVector v2 = IntVector.fromMemorySegment(I256, p, o + 80, LE);
                IntVector v3 = IntVector.fromMemorySegment(I256, p, o + 112, LE);
                ShortVector t1 = ((ShortVector) v2.and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 8]).reinterpretShape(S256, 0))
                        .add(((ShortVector) v2.lanewise(LSHR, 8).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 9]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v2.lanewise(LSHR, 4).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 10]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v2.reinterpretShape(S256, 0)).lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I256, xa[i + 11]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v3.and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 12]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v3.lanewise(LSHR, 8).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 13]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v3.lanewise(LSHR, 4).and(m).reinterpretShape(S256, 0)).mul((ShortVector) IntVector.broadcast(I256, xa[i + 14]).reinterpretShape(S256, 0)))
                        .add(((ShortVector) v3.reinterpretShape(S256, 0)).lanewise(LSHR, 12).mul((ShortVector) IntVector.broadcast(I256, xa[i + 15]).reinterpretShape(S256, 0)));
                IntVector t = (IntVector) t0.add(t1).reinterpretShape(I256, 0);
                IntVector s = t.lanewise(LSHL, 16).lanewise(ASHR, 16).add(t.lanewise(ASHR, 16)).sub(xa[i + 16]);
                // The eight F16 scales as floats (as in f16: magnitude bits moved and rescaled, sign put back).
                IntVector h = (IntVector) ShortVector.fromMemorySegment(S128, p, o, LE).convertShape(S2I, I256, 0);
                FloatVector mag = ((FloatVector) h.and(0x7FFF).lanewise(LSHL, 13).reinterpretShape(F256, 0)).mul(0x1p112f);
                FloatVector d = (FloatVector) ((IntVector) mag.reinterpretShape(I256, 0)).or(h.and(0x80000000)).reinterpretShape(F256, 0);
                acc = ((FloatVector) s.convertShape(I2F, F256, 0)).fma(d.mul(xd[b]), acc);
            }
            acc.add(FloatVector.fromArray(F256, y, yOff + 8 * g)).intoArray(y, yOff + 8 * g);
        }
    }

    /**
     * Q4_0 block (18 bytes): d, then 16 bytes (element j: low nibble, j+16: high nibble), value q-8;
     * rows of at most {@link Activations#Q4_PAIRS_MAX_COLS} values. Two blocks per step: their
     * 16 bytes of nibbles are one 256-bit vector of eight int lanes (two overlapping loads blended,
     * since the second block's scale sits between them), and each lane gives two nibbles four ways
     * ({@code v & 0x000F000F}, and after a shift by 8, 4 or 12), each multiplied in 32-bit lanes with
     * the activations' swapped pairs ({@link Activations#xq4}): the pair's dot product lands in the
     * upper 16 bits. A lane's four products are added with the activations' lane correction (the
     * weights' -8 and the rounding), and an arithmetic shift leaves the lane's exact sum of eight
     * products (at most 8·15·127 in magnitude before the offset, the low halves at most 4·15·127:
     * both fit their 16 bits). The lanes are scaled by their block's {@code d_w·d_x} (two scalars
     * blended into one vector). Against {@link #q4_0Shorts} this is 26 vector operations per two blocks
     * instead of 32: 15 % less time per block on one thread (docs/KERNELS.md). An odd last block is
     * summed in scalar code.
     */
    static void q4_0(MemorySegment w, long rowBytes, int nb, int r0, int r1, int[] xp, int xi,
                     short[] xq, float[] xd, int xb, float[] y, int yOff) {
        IntVector m = IntVector.broadcast(I256, 0x000F000F);
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            int b = xb;
            int i = xi;
            for (int bEnd = xb + (nb & ~1); b < bEnd; b += 2, i += Activations.Q4_PAIR) {
                long o = off + 18L * (b - xb);
                IntVector v = IntVector.fromMemorySegment(I256, w, o + 2, LE)
                        .blend(IntVector.fromMemorySegment(I256, w, o + 4, LE), UPPER4);
                IntVector t = v.and(m).mul(IntVector.fromArray(I256, xp, i))
                        .add(v.lanewise(LSHR, 8).and(m).mul(IntVector.fromArray(I256, xp, i + 8)))
                        .add(v.lanewise(LSHR, 4).and(m).mul(IntVector.fromArray(I256, xp, i + 16)))
                        .add(v.lanewise(LSHR, 12).and(m).mul(IntVector.fromArray(I256, xp, i + 24)))
                        .add(IntVector.fromArray(I256, xp, i + 32))
                        .lanewise(ASHR, 16);
                float dA = Float.float16ToFloat(w.get(Le.I16, o)) * xd[b];
                float dB = Float.float16ToFloat(w.get(Le.I16, o + 18)) * xd[b + 1];
                acc = ((FloatVector) t.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dA).blend(dB, UPPER4F), acc);
            }
            float tail = 0;
            if ((nb & 1) != 0) {
                // The odd last block, one per row: scalar, its exact integer sum scaled as the reference does.
                long o = off + 18L * (b - xb);
                int x = b * 32, sumi = 0;
                for (int j = 0; j < 16; j++) {
                    int qv = Le.u8(w, o + 2 + j);
                    sumi += ((qv & 0xF) - 8) * xq[x + j] + ((qv >> 4) - 8) * xq[x + j + 16];
                }
                tail = sumi * (Float.float16ToFloat(w.get(Le.I16, o)) * xd[b]);
            }
            y[yOff + r] = acc.reduceLanes(ADD) + tail;
        }
    }

    /**
     * Q4_0 block (18 bytes): d, then 16 bytes (element j: low nibble, j+16: high nibble), value
     * q-8, subtracted from the nibbles in their 16-bit lanes (two vector subtractions per block; the
     * scalar correction with the activations' block sums that they replace, a multiply-add per block
     * and a register, measured 4–6 % slower). One row at a time with two accumulators over
     * alternate blocks, as in {@link #q8_0}.
     */
    static void q4_0Shorts(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc0 = FloatVector.zero(F256), acc1 = acc0;
            int b = xb;
            long o;
            // The loop counts blocks (an int) and computes the byte offset: measured 2–6 % faster than
            // stepping the byte offset as the loop variable (see docs/KERNELS.md, "Q4_K rewritten").
            for (int bEnd = xb + (nb & ~1); b < bEnd; b += 2) {
                o = off + 18L * (b - xb);
                int x = b * 32;
                ShortVector q0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p0 = (IntVector) q0.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x))
                        .add(q0.lanewise(ASHR, 4).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                float d0 = Float.float16ToFloat(w.get(Le.I16, o));
                acc0 = ((FloatVector) p0.add(p0.lanewise(LSHL, 16)).lanewise(ASHR, 16).convertShape(I2F, F256, 0))
                        .fma(FloatVector.broadcast(F256, d0 * xd[b]), acc0);
                ShortVector q1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 20, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p1 = (IntVector) q1.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x + 32))
                        .add(q1.lanewise(ASHR, 4).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x + 48))).reinterpretShape(I256, 0);
                float d1 = Float.float16ToFloat(w.get(Le.I16, o + 18));
                acc1 = ((FloatVector) p1.add(p1.lanewise(LSHL, 16)).lanewise(ASHR, 16).convertShape(I2F, F256, 0))
                        .fma(FloatVector.broadcast(F256, d1 * xd[b + 1]), acc1);
            }
            if ((nb & 1) != 0) {
                o = off + 18L * (b - xb);
                int x = b * 32;
                ShortVector q = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 2, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p = (IntVector) q.and((short) 0xF).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x))
                        .add(q.lanewise(ASHR, 4).sub((short) 8).mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                float d = Float.float16ToFloat(w.get(Le.I16, o));
                acc0 = ((FloatVector) p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16).convertShape(I2F, F256, 0))
                        .fma(FloatVector.broadcast(F256, d * xd[b]), acc0);
            }
            y[yOff + r] = acc0.add(acc1).reduceLanes(ADD);
        }
    }

    /** Q4_1 block (20 bytes): d, m, 16 bytes of nibbles; value d·q + m, with Q8_1's s = d_x·Σq_x for m. */
    static void q4_1(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, float[] xs, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            float mins = 0;
            for (int b = 0; b < nb; b++) {
                long o = 20L * b;
                int x = (xb + b) * 32;
                ShortVector q = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + o + 4, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p = (IntVector) q.and((short) 0xF).mul(ShortVector.fromArray(S256, xq, x))
                        .add(q.lanewise(ASHR, 4).mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                IntVector s = p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16);
                acc = ((FloatVector) s.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(w.get(Le.I16, off + o)) * xd[xb + b]), acc);
                mins += Float.float16ToFloat(w.get(Le.I16, off + o + 2)) * xs[xb + b];
            }
            y[yOff + r] = acc.reduceLanes(ADD) + mins;
        }
    }

    /**
     * Q5_0 block (22 bytes): d, qh (32 bits, bit j the fifth bit of element j), 16 bytes of nibbles;
     * value q-16 ({@code 16Σx = 2·xs}). A fifth bit becomes 16 in its lane: the 16 bits for 16 lanes
     * are broadcast, each lane keeps its own bit ({@link #BIT}), and lanes that kept one get 16.
     */
    static void q5_0(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, float[] xs, int xb,
                     float[] y, int yOff) {
        ShortVector bit = ShortVector.fromArray(S256, BIT, 0);
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            float corr = 0;
            for (int b = 0; b < nb; b++) {
                long o = 22L * b;
                int x = (xb + b) * 32;
                int qh = w.get(Le.I32, off + o + 2);
                ShortVector q = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + o + 6, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                ShortVector h0 = ShortVector.zero(S256).blend((short) 16, ShortVector.broadcast(S256, (short) qh).and(bit).compare(NE, 0));
                ShortVector h1 = ShortVector.zero(S256).blend((short) 16, ShortVector.broadcast(S256, (short) (qh >>> 16)).and(bit).compare(NE, 0));
                IntVector p = (IntVector) q.and((short) 0xF).or(h0).mul(ShortVector.fromArray(S256, xq, x))
                        .add(q.lanewise(ASHR, 4).or(h1).mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                IntVector s = p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16);
                float d = Float.float16ToFloat(w.get(Le.I16, off + o));
                acc = ((FloatVector) s.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, d * xd[xb + b]), acc);
                corr += d * xs[xb + b];
            }
            y[yOff + r] = acc.reduceLanes(ADD) - 2 * corr;
        }
    }

    /** Q5_1 block (24 bytes): d, m, qh, 16 bytes of nibbles; value d·q + m (fifth bit as in Q5_0). */
    static void q5_1(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, float[] xs, int xb,
                     float[] y, int yOff) {
        ShortVector bit = ShortVector.fromArray(S256, BIT, 0);
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            float mins = 0;
            for (int b = 0; b < nb; b++) {
                long o = 24L * b;
                int x = (xb + b) * 32;
                int qh = w.get(Le.I32, off + o + 4);
                ShortVector q = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + o + 8, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                ShortVector h0 = ShortVector.zero(S256).blend((short) 16, ShortVector.broadcast(S256, (short) qh).and(bit).compare(NE, 0));
                ShortVector h1 = ShortVector.zero(S256).blend((short) 16, ShortVector.broadcast(S256, (short) (qh >>> 16)).and(bit).compare(NE, 0));
                IntVector p = (IntVector) q.and((short) 0xF).or(h0).mul(ShortVector.fromArray(S256, xq, x))
                        .add(q.lanewise(ASHR, 4).or(h1).mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                IntVector s = p.add(p.lanewise(LSHL, 16)).lanewise(ASHR, 16);
                acc = ((FloatVector) s.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(w.get(Le.I16, off + o)) * xd[xb + b]), acc);
                mins += Float.float16ToFloat(w.get(Le.I16, off + o + 2)) * xs[xb + b];
            }
            y[yOff + r] = acc.reduceLanes(ADD) + mins;
        }
    }

    /**
     * IQ4_NL block (18 bytes): d, 16 bytes of 4-bit codes into {@link ScalarDots#KVALUES}. The code
     * book lookup is a byte shuffle of a 16-byte table ({@code selectFrom}, {@code pshufb}).
     */
    static void iq4_nl(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int xb,
                       float[] y, int yOff) {
        ByteVector table = ByteVector.fromArray(B128, KVALUES, 0);
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                long o = 18L * b;
                int x = (xb + b) * 32;
                ByteVector q = ByteVector.fromMemorySegment(B128, w, off + o + 2, LE);
                ShortVector lo = (ShortVector) q.and((byte) 0xF).selectFrom(table).convertShape(B2S, S256, 0);
                ShortVector hi = (ShortVector) q.lanewise(LSHR, 4).and((byte) 0xF).selectFrom(table).convertShape(B2S, S256, 0);
                IntVector p = (IntVector) lo.mul(ShortVector.fromArray(S256, xq, x)).add(hi.mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                IntVector s = p.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p.lanewise(ASHR, 16));
                acc = ((FloatVector) s.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, Float.float16ToFloat(w.get(Le.I16, off + o)) * xd[xb + b]), acc);
            }
            y[yOff + r] = acc.reduceLanes(ADD);
        }
    }

    /** Lane j shifts byte j%4 of an int down. */
    private static final int[] BYTE_SHIFTS = {0, 8, 16, 24, 0, 8, 16, 24};
    /** Lane j holds bit j (the fifth-bit masks of Q5_0/Q5_1). */
    private static final short[] BIT = new short[16];
    /** {@link ScalarDots#KVALUES} as bytes. */
    private static final byte[] KVALUES = new byte[16];

    static {
        for (int j = 0; j < 16; j++) {
            BIT[j] = (short) (1 << j);
            KVALUES[j] = (byte) ScalarDots.KVALUES[j];
        }
    }

    // ---- 256-value super-blocks with Q8_K activations -----------------------------------------

    /**
     * Q2_K (84 bytes): scales[16] (low nibble scale, high nibble min of each run of 16), qs[64],
     * d, dmin. Element e = 128h + 32s + l is bits 2s..2s+1 of qs[32h + l]. One loop step per run.
     */
    static void q2_K(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, short[] bsum16, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int b = 0; b < nb; b++) {
                long o = 84L * b;
                int blk = xb + b;
                // Mins: the high nibbles of scales[16] times the activations' sums per 16.
                IntVector pm = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + o, LE).convertShape(B2S, S256, 0)).and((short) 0xFF)
                        .lanewise(ASHR, 4).mul(ShortVector.fromArray(S256, bsum16, blk * 16)).reinterpretShape(I256, 0);
                IntVector summs = pm.lanewise(LSHL, 16).lanewise(ASHR, 16).add(pm.lanewise(ASHR, 16));
                IntVector isum = IntVector.zero(I256);
                for (int step = 0; step < 8; step++) {
                    // Runs k and k + 4 (shifts 2s and 2s + 4) read the same 16 bytes of qs.
                    int h = step >> 2, lh = 16 * ((step >> 1) & 1), s = step & 1;
                    int k = 8 * h + 2 * s + (lh >> 4);
                    ShortVector q = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + o + 16 + 32 * h + lh, LE)
                            .convertShape(B2S, S256, 0)).and((short) 0xFF).lanewise(ASHR, 2 * s);
                    IntVector pa = (IntVector) q.and((short) 3).mul(ShortVector.fromArray(S256, xq, blk * 256 + 16 * k)).reinterpretShape(I256, 0);
                    IntVector pb = (IntVector) q.lanewise(ASHR, 4).and((short) 3).mul(ShortVector.fromArray(S256, xq, blk * 256 + 16 * k + 64)).reinterpretShape(I256, 0);
                    isum = isum.add(pa.add(pa.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(Le.u8(w, off + o + k) & 0xF))
                            .add(pb.add(pb.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(Le.u8(w, off + o + k + 4) & 0xF));
                }
                float dx = xd[blk];
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(w.get(Le.I16, off + o + 80))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(w.get(Le.I16, off + o + 82))), mins);
            }
            y[yOff + r] = acc.sub(mins).reduceLanes(ADD);
        }
    }

    /**
     * Q3_K (110 bytes): hmask[32], qs[64], scales[12], d. Element e = 128h + 32s + l: low bits
     * 2s..2s+1 of qs[32h + l], high bit (4h + s) of hmask[l] (clear: minus 4); 16 six-bit scales
     * minus 32, unpacked four at a time as llama.cpp does. One loop step per run of 16.
     */
    static void q3_K(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                long o = 110L * b;
                int blk = xb + b;
                int a0 = w.get(Le.I32, off + o + 96), a1 = w.get(Le.I32, off + o + 100), a2 = w.get(Le.I32, off + o + 104);
                long sc07 = ((a0 & 0x0f0f0f0f) | (((a2 & 0x03030303)) << 4)) & 0xFFFFFFFFL
                        | (((a1 & 0x0f0f0f0fL) | (((a2 >>> 2) & 0x03030303L) << 4)) << 32);
                long sc815 = (((a0 >>> 4) & 0x0f0f0f0f) | (((a2 >>> 4) & 0x03030303) << 4)) & 0xFFFFFFFFL
                        | ((((a1 >>> 4) & 0x0f0f0f0fL) | (((a2 >>> 6) & 0x03030303L) << 4)) << 32);
                IntVector isum = IntVector.zero(I256);
                for (int step = 0; step < 8; step++) {
                    // Runs k and k + 4 (s and s + 2) read the same bytes of qs and hmask.
                    int h = step >> 2, lh = 16 * ((step >> 1) & 1), s = step & 1;
                    int k = 8 * h + 2 * s + (lh >> 4);
                    ShortVector lo = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + o + 32 + 32 * h + lh, LE)
                            .convertShape(B2S, S256, 0)).and((short) 0xFF).lanewise(ASHR, 2 * s);
                    ShortVector hb = ((ShortVector) ByteVector.fromMemorySegment(B128, w, off + o + lh, LE)
                            .convertShape(B2S, S256, 0)).and((short) 0xFF).lanewise(ASHR, 4 * h + s);
                    ShortVector qa = lo.and((short) 3).or(hb.and((short) 1).lanewise(LSHL, 2)).sub((short) 4);
                    ShortVector qb = lo.lanewise(ASHR, 4).and((short) 3).or(hb.and((short) 4)).sub((short) 4);
                    IntVector pa = (IntVector) qa.mul(ShortVector.fromArray(S256, xq, blk * 256 + 16 * k)).reinterpretShape(I256, 0);
                    IntVector pb = (IntVector) qb.mul(ShortVector.fromArray(S256, xq, blk * 256 + 16 * k + 64)).reinterpretShape(I256, 0);
                    int sca = (int) (((k < 8 ? sc07 : sc815) >>> (8 * (k & 7))) & 0xFF) - 32;
                    int scb = (int) (((k + 4 < 8 ? sc07 : sc815) >>> (8 * ((k + 4) & 7))) & 0xFF) - 32;
                    isum = isum.add(pa.add(pa.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sca))
                            .add(pb.add(pb.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(scb));
                }
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, xd[blk] * Float.float16ToFloat(w.get(Le.I16, off + o + 108))), acc);
            }
            y[yOff + r] = acc.reduceLanes(ADD);
        }
    }

    /**
     * Q5_K (176 bytes): d, dmin, scales[12] (as Q4_K), qh[32], qs[128]. Sub-block j takes the
     * low (j even) or high nibbles of qs[32(j/2) ..] and bit j of qh[l] as fifth bit. Written as
     * {@link #q4_K} is: the eight scales as one int vector per block (as the mins), each run's scale
     * a {@code rearrange} of it with a constant broadcast shuffle, the four sub-block pairs written
     * out, the block loop counting blocks. The 32 bytes of qh are read once per block (two vectors
     * of 16-bit lanes) and bit j is moved to bit 4 with one constant shift and a mask. Products stay
     * exact: a 16-bit lane holds two products of a 5-bit value and an int8, the pair sum four, at
     * most 4·31·128 = 15872.
     */
    static void q5_K(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int[] bsum32, int xb,
                     float[] y, int yOff) {
        IntVector byteShifts = IntVector.fromArray(I256, BYTE_SHIFTS, 0);
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + 176L * (b - xb);
                int x = b * 256;
                int u0 = w.get(Le.I32, o + 4), u1 = w.get(Le.I32, o + 8), u2 = w.get(Le.I32, o + 12);
                // Scales (and mins) of sub-blocks 0..3 one per byte of the first int, 4..7 of the second.
                int sLo = KScales.scalesLow(u0), sHi = KScales.scalesHigh(u0, u2);
                int mLo = KScales.minsLow(u1), mHi = KScales.minsHigh(u1, u2);
                IntVector sc = IntVector.broadcast(I256, sLo).blend(sHi, UPPER4).lanewise(LSHR, byteShifts).and(0xFF);
                IntVector summs = IntVector.broadcast(I256, mLo).blend(mHi, UPPER4).lanewise(LSHR, byteShifts).and(0xFF)
                        .mul(IntVector.fromArray(I256, bsum32, b * 8));
                // qh[0..15] and qh[16..31]: bit j is the fifth bit of sub-block j's elements l and 16 + l.
                // Sign-extended without a mask: every use shifts one of bits 0..7 to bit 4 and masks it.
                ShortVector h0 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 16, LE).convertShape(B2S, S256, 0);
                ShortVector h1 = (ShortVector) ByteVector.fromMemorySegment(B128, w, o + 32, LE).convertShape(B2S, S256, 0);
                // Sub-block pair i: qs[32i..32i+31], low nibbles sub-block 2i, high nibbles 2i+1.
                ShortVector a0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 48, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                ShortVector a1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 64, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p0 = (IntVector) a0.and((short) 0xF).or(h0.lanewise(LSHL, 4).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x))
                        .add(a1.and((short) 0xF).or(h1.lanewise(LSHL, 4).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                IntVector p1 = (IntVector) a0.lanewise(LSHR, 4).or(h0.lanewise(LSHL, 3).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 32))
                        .add(a1.lanewise(LSHR, 4).or(h1.lanewise(LSHL, 3).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 48))).reinterpretShape(I256, 0);
                IntVector s0 = p0.add(p0.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE0))
                        .add(p1.add(p1.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE1)));
                ShortVector b0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 80, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                ShortVector b1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 96, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p2 = (IntVector) b0.and((short) 0xF).or(h0.lanewise(LSHL, 2).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 64))
                        .add(b1.and((short) 0xF).or(h1.lanewise(LSHL, 2).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 80))).reinterpretShape(I256, 0);
                IntVector p3 = (IntVector) b0.lanewise(LSHR, 4).or(h0.lanewise(LSHL, 1).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 96))
                        .add(b1.lanewise(LSHR, 4).or(h1.lanewise(LSHL, 1).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 112))).reinterpretShape(I256, 0);
                IntVector s1 = p2.add(p2.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE2))
                        .add(p3.add(p3.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE3)));
                ShortVector c0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 112, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                ShortVector c1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 128, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p4 = (IntVector) c0.and((short) 0xF).or(h0.and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 128))
                        .add(c1.and((short) 0xF).or(h1.and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 144))).reinterpretShape(I256, 0);
                IntVector p5 = (IntVector) c0.lanewise(LSHR, 4).or(h0.lanewise(LSHR, 1).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 160))
                        .add(c1.lanewise(LSHR, 4).or(h1.lanewise(LSHR, 1).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 176))).reinterpretShape(I256, 0);
                s0 = s0.add(p4.add(p4.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE4)))
                        .add(p5.add(p5.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE5)));
                ShortVector d0 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 144, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                ShortVector d1 = ((ShortVector) ByteVector.fromMemorySegment(B128, w, o + 160, LE).convertShape(B2S, S256, 0)).and((short) 0xFF);
                IntVector p6 = (IntVector) d0.and((short) 0xF).or(h0.lanewise(LSHR, 2).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 192))
                        .add(d1.and((short) 0xF).or(h1.lanewise(LSHR, 2).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 208))).reinterpretShape(I256, 0);
                IntVector p7 = (IntVector) d0.lanewise(LSHR, 4).or(h0.lanewise(LSHR, 3).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 224))
                        .add(d1.lanewise(LSHR, 4).or(h1.lanewise(LSHR, 3).and((short) 0x10)).mul(ShortVector.fromArray(S256, xq, x + 240))).reinterpretShape(I256, 0);
                s1 = s1.add(p6.add(p6.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE6)))
                        .add(p7.add(p7.lanewise(LSHL, 16)).lanewise(ASHR, 16).mul(sc.rearrange(LANE7)));
                float dx = xd[b];
                acc = ((FloatVector) s0.add(s1).convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(w.get(Le.I16, o))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(w.get(Le.I16, o + 2))), mins);
            }
            y[yOff + r] = acc.sub(mins).reduceLanes(ADD);
        }
    }

    /**
     * IQ4_XS (136 bytes): d, scales_h (16 bits), scales_l[4], qs[128]. Sub-block ib (32 elements)
     * has the 6-bit scale {@code ls} (low 4 bits from scales_l, high 2 from scales_h) and value
     * {@code d·(ls-32)·KVALUES[code]}, codes as in IQ4_NL.
     */
    static void iq4_xs(MemorySegment w, long rowBytes, int nb, int r0, int r1, short[] xq, float[] xd, int xb,
                       float[] y, int yOff) {
        ByteVector table = ByteVector.fromArray(B128, KVALUES, 0);
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = 0; b < nb; b++) {
                long o = 136L * b;
                int blk = xb + b;
                int scalesH = Le.u16(w, off + o + 2);
                int scalesL = w.get(Le.I32, off + o + 4);
                IntVector isum = IntVector.zero(I256);
                for (int ib = 0; ib < 8; ib++) {
                    int ls = ((scalesL >>> (4 * ib)) & 0xF) | (((scalesH >>> (2 * ib)) & 3) << 4);
                    int x = blk * 256 + 32 * ib;
                    ByteVector q = ByteVector.fromMemorySegment(B128, w, off + o + 8 + 16 * ib, LE);
                    ShortVector lo = (ShortVector) q.and((byte) 0xF).selectFrom(table).convertShape(B2S, S256, 0);
                    ShortVector hi = (ShortVector) q.lanewise(LSHR, 4).and((byte) 0xF).selectFrom(table).convertShape(B2S, S256, 0);
                    IntVector p = (IntVector) lo.mul(ShortVector.fromArray(S256, xq, x)).add(hi.mul(ShortVector.fromArray(S256, xq, x + 16))).reinterpretShape(I256, 0);
                    isum = isum.add(p.lanewise(LSHL, 16).lanewise(ASHR, 16).add(p.lanewise(ASHR, 16)).mul(ls - 32));
                }
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, xd[blk] * Float.float16ToFloat(w.get(Le.I16, off + o))), acc);
            }
            y[yOff + r] = acc.reduceLanes(ADD);
        }
    }

    /**
     * Q4_K (144 bytes): d, dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles.
     * Sub-block pair i (elements 64i..64i+63) reads qs[32i..32i+31]: low nibbles for sub-block 2i,
     * high nibbles for 2i+1. The mins meet the activations' sums per 32: eight lanes, one vector
     * multiply per block. The eight scales are built the same way, as one int vector per block, and
     * each run's scale is a lane broadcast of it ({@code rearrange} with a constant shuffle) instead
     * of a scalar extraction and broadcast. The constant shuffles need the four sub-block pairs
     * written out. The block loop counts blocks (an int) rather than stepping the byte offset as
     * {@link #q4_0} does: measured 15–20 % faster here. The nibbles are multiplied as
     * {@link #q6_K}'s values are: a pair's 32 bytes read as one int vector, the low and high nibbles
     * of its even and odd bytes taken by shifts and masks (two values per int lane) and multiplied
     * in 32-bit lanes against {@link Activations#xg}; {@code (p + 0x8000) >> 16} extracts the sum of
     * four products (each at most 15·127, so the low part stays within ±2^15).
     */
    static void q4_K(MemorySegment w, long rowBytes, int nb, int r0, int r1, int[] xg, float[] xd, int[] bsum32, int xb,
                     float[] y, int yOff) {
        IntVector byteShifts = IntVector.fromArray(I256, BYTE_SHIFTS, 0);
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + 144L * (b - xb);
                int u0 = w.get(Le.I32, o + 4), u1 = w.get(Le.I32, o + 8), u2 = w.get(Le.I32, o + 12);
                // Scales (and mins) of sub-blocks 0..3 one per byte of the first int, 4..7 of the second.
                int sLo = KScales.scalesLow(u0), sHi = KScales.scalesHigh(u0, u2);
                int mLo = KScales.minsLow(u1), mHi = KScales.minsHigh(u1, u2);
                IntVector sc = IntVector.broadcast(I256, sLo).blend(sHi, UPPER4).lanewise(LSHR, byteShifts).and(0xFF);
                IntVector summs = IntVector.broadcast(I256, mLo).blend(mHi, UPPER4).lanewise(LSHR, byteShifts).and(0xFF)
                        .mul(IntVector.fromArray(I256, bsum32, b * 8));
                // Sub-block pair i: qs[32i..32i+31], low nibbles sub-block 2i, high nibbles 2i+1, two
                // values per int lane (even and odd bytes) against the activation pairs of xg.
                int x = b * 128;
                IntVector v0 = IntVector.fromMemorySegment(I256, w, o + 16, LE);
                IntVector t0 = v0.and(M4).mul(IntVector.fromArray(I256, xg, x + 0))
                        .add(v0.lanewise(LSHR, 8).and(M4).mul(IntVector.fromArray(I256, xg, x + 8)));
                IntVector t1 = v0.lanewise(LSHR, 4).and(M4).mul(IntVector.fromArray(I256, xg, x + 16))
                        .add(v0.lanewise(LSHR, 12).and(M4).mul(IntVector.fromArray(I256, xg, x + 24)));
                IntVector s0 = t0.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE0))
                        .add(t1.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE1)));
                IntVector v1 = IntVector.fromMemorySegment(I256, w, o + 48, LE);
                IntVector t2 = v1.and(M4).mul(IntVector.fromArray(I256, xg, x + 32))
                        .add(v1.lanewise(LSHR, 8).and(M4).mul(IntVector.fromArray(I256, xg, x + 40)));
                IntVector t3 = v1.lanewise(LSHR, 4).and(M4).mul(IntVector.fromArray(I256, xg, x + 48))
                        .add(v1.lanewise(LSHR, 12).and(M4).mul(IntVector.fromArray(I256, xg, x + 56)));
                IntVector s1 = t2.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE2))
                        .add(t3.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE3)));
                IntVector v2 = IntVector.fromMemorySegment(I256, w, o + 80, LE);
                IntVector t4 = v2.and(M4).mul(IntVector.fromArray(I256, xg, x + 64))
                        .add(v2.lanewise(LSHR, 8).and(M4).mul(IntVector.fromArray(I256, xg, x + 72)));
                IntVector t5 = v2.lanewise(LSHR, 4).and(M4).mul(IntVector.fromArray(I256, xg, x + 80))
                        .add(v2.lanewise(LSHR, 12).and(M4).mul(IntVector.fromArray(I256, xg, x + 88)));
                s0 = s0.add(t4.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE4)))
                        .add(t5.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE5)));
                IntVector v3 = IntVector.fromMemorySegment(I256, w, o + 112, LE);
                IntVector t6 = v3.and(M4).mul(IntVector.fromArray(I256, xg, x + 96))
                        .add(v3.lanewise(LSHR, 8).and(M4).mul(IntVector.fromArray(I256, xg, x + 104)));
                IntVector t7 = v3.lanewise(LSHR, 4).and(M4).mul(IntVector.fromArray(I256, xg, x + 112))
                        .add(v3.lanewise(LSHR, 12).and(M4).mul(IntVector.fromArray(I256, xg, x + 120)));
                s1 = s1.add(t6.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE6)))
                        .add(t7.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(LANE7)));
                float dx = xd[b];
                acc = ((FloatVector) s0.add(s1).convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(w.get(Le.I16, o))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(w.get(Le.I16, o + 2))), mins);
            }
            y[yOff + r] = acc.sub(mins).reduceLanes(ADD);
        }
    }

    /**
     * Q4_K rows from their {@link Interleave}d copy (each block's nibbles reordered so that 32-bit
     * lane j of each of its four 32-byte parts holds sub-block j), multiplied in 16-bit lanes: each
     * part is read as 16 shorts, two per sub-block, whose four nibbles ({@code & 15},
     * {@code >>> 8 & 15}, {@code >>> 4 & 15}, {@code >>> 12}) are multiplied with the activations of
     * {@link Activations#xks}, one value per 16-bit lane. A lane adds eight products of at most
     * 15·128 for each half of the block; the two halves (at most 30720 in magnitude) are added in
     * 16 bits, and each sub-block's two lanes into its 32-bit lane (a sign extension, a shift, an
     * add): the eight exact sub-block sums, one multiply by the eight scales as they are unpacked.
     * Sixteen {@code vpmullw} per block where the packed-pair form ({@link #q5_Kx}'s) takes sixteen
     * {@code vpmulld}, two micro-operations each on Intel cores (docs/KERNELS.md, "Q4_K blocks with
     * their nibbles reordered", "16-bit lanes again").
     */
    static void q4_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, short[] xs, float[] xd, int[] bsum32, int xb,
                      float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + (long) Interleave.Q4_K_COPY_BLOCK * (b - xb);
                // The copy holds the scales and mins unpacked, a byte each (0..63: the sign-extending
                // cast widens them exactly).
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B64, p, o + 4, LE).convertShape(B2I, I256, 0);
                IntVector summs = ((IntVector) ByteVector.fromMemorySegment(B64, p, o + 12, LE).convertShape(B2I, I256, 0))
                        .mul(IntVector.fromArray(I256, bsum32, b * 8));
                int x = b * 256;
                ShortVector v0 = ShortVector.fromMemorySegment(S256, p, o + 20, LE);
                ShortVector v1 = ShortVector.fromMemorySegment(S256, p, o + 52, LE);
                ShortVector t0 = v0.and(N4).mul(ShortVector.fromArray(S256, xs, x))
                        .add(v0.lanewise(LSHR, 8).and(N4).mul(ShortVector.fromArray(S256, xs, x + 16)))
                        .add(v0.lanewise(LSHR, 4).and(N4).mul(ShortVector.fromArray(S256, xs, x + 32)))
                        .add(v0.lanewise(LSHR, 12).mul(ShortVector.fromArray(S256, xs, x + 48)))
                        .add(v1.and(N4).mul(ShortVector.fromArray(S256, xs, x + 64)))
                        .add(v1.lanewise(LSHR, 8).and(N4).mul(ShortVector.fromArray(S256, xs, x + 80)))
                        .add(v1.lanewise(LSHR, 4).and(N4).mul(ShortVector.fromArray(S256, xs, x + 96)))
                        .add(v1.lanewise(LSHR, 12).mul(ShortVector.fromArray(S256, xs, x + 112)));
                ShortVector v2 = ShortVector.fromMemorySegment(S256, p, o + 84, LE);
                ShortVector v3 = ShortVector.fromMemorySegment(S256, p, o + 116, LE);
                ShortVector t1 = v2.and(N4).mul(ShortVector.fromArray(S256, xs, x + 128))
                        .add(v2.lanewise(LSHR, 8).and(N4).mul(ShortVector.fromArray(S256, xs, x + 144)))
                        .add(v2.lanewise(LSHR, 4).and(N4).mul(ShortVector.fromArray(S256, xs, x + 160)))
                        .add(v2.lanewise(LSHR, 12).mul(ShortVector.fromArray(S256, xs, x + 176)))
                        .add(v3.and(N4).mul(ShortVector.fromArray(S256, xs, x + 192)))
                        .add(v3.lanewise(LSHR, 8).and(N4).mul(ShortVector.fromArray(S256, xs, x + 208)))
                        .add(v3.lanewise(LSHR, 4).and(N4).mul(ShortVector.fromArray(S256, xs, x + 224)))
                        .add(v3.lanewise(LSHR, 12).mul(ShortVector.fromArray(S256, xs, x + 240)));
                IntVector s = (IntVector) t0.add(t1).reinterpretShape(I256, 0);
                IntVector isum = s.lanewise(LSHL, 16).lanewise(ASHR, 16).add(s.lanewise(ASHR, 16)).mul(sc);
                float dx = xd[b];
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o + 2))), mins);
            }
            y[yOff + r] += acc.sub(mins).reduceLanes(ADD);
        }
    }

    /**
     * Q5_K rows from their {@link Interleave}d copy: the Q4_K copy's layout and activations
     * ({@link Activations#xk}), and per block one more 256-bit vector whose lane j holds sub-block
     * j's 32 fifth bits. Way u of part k takes two nibbles from a 32-bit lane ({@code & 0x000F000F},
     * and after a shift by 8, 4 or 12), multiplies them as a packed pair against the activations'
     * swapped pairs (the pair's dot product lands in the lane's upper 16 bits), and ORs in
     * their fifth bits, which the copy keeps at bits {@code 4k + u} and {@code 4k + u + 16}: one
     * shift of that vector to bits 4 and 20 and a mask ({@code Interleave.q5HighBit}). The values
     * reach 31, so a part's four products (at most 4·2·31·127 = 31496 in the upper halves, 4·31·127
     * in the lower) are extracted before the next part's are added. 16 32-bit multiplies and about
     * 125 vector operations per block, against 16 and about 185 with widening to 16-bit lanes in
     * place ({@link #q5_K}); the kernel streams about 1.5 times the file's bytes per CPU-second
     * (docs/KERNELS.md).
     */
    static void q5_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, int[] xk, float[] xd, int[] bsum32, int xb,
                      float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + (long) Interleave.Q5_K_COPY_BLOCK * (b - xb);
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B64, p, o + 4, LE).convertShape(B2I, I256, 0);
                IntVector summs = ((IntVector) ByteVector.fromMemorySegment(B64, p, o + 12, LE).convertShape(B2I, I256, 0))
                        .mul(IntVector.fromArray(I256, bsum32, b * 8));
                int x = b * 128;
                IntVector h = IntVector.fromMemorySegment(I256, p, o + 148, LE);
                IntVector v0 = IntVector.fromMemorySegment(I256, p, o + 20, LE);
                IntVector t0 = v0.and(M4).or(h.lanewise(LSHL, 4).and(M5)).mul(IntVector.fromArray(I256, xk, x))
                        .add(v0.lanewise(LSHR, 8).and(M4).or(h.lanewise(LSHL, 3).and(M5)).mul(IntVector.fromArray(I256, xk, x + 8)))
                        .add(v0.lanewise(LSHR, 4).and(M4).or(h.lanewise(LSHL, 2).and(M5)).mul(IntVector.fromArray(I256, xk, x + 16)))
                        .add(v0.lanewise(LSHR, 12).and(M4).or(h.lanewise(LSHL, 1).and(M5)).mul(IntVector.fromArray(I256, xk, x + 24)));
                IntVector v1 = IntVector.fromMemorySegment(I256, p, o + 52, LE);
                IntVector t1 = v1.and(M4).or(h.and(M5)).mul(IntVector.fromArray(I256, xk, x + 32))
                        .add(v1.lanewise(LSHR, 8).and(M4).or(h.lanewise(LSHR, 1).and(M5)).mul(IntVector.fromArray(I256, xk, x + 40)))
                        .add(v1.lanewise(LSHR, 4).and(M4).or(h.lanewise(LSHR, 2).and(M5)).mul(IntVector.fromArray(I256, xk, x + 48)))
                        .add(v1.lanewise(LSHR, 12).and(M4).or(h.lanewise(LSHR, 3).and(M5)).mul(IntVector.fromArray(I256, xk, x + 56)));
                IntVector v2 = IntVector.fromMemorySegment(I256, p, o + 84, LE);
                IntVector t2 = v2.and(M4).or(h.lanewise(LSHR, 4).and(M5)).mul(IntVector.fromArray(I256, xk, x + 64))
                        .add(v2.lanewise(LSHR, 8).and(M4).or(h.lanewise(LSHR, 5).and(M5)).mul(IntVector.fromArray(I256, xk, x + 72)))
                        .add(v2.lanewise(LSHR, 4).and(M4).or(h.lanewise(LSHR, 6).and(M5)).mul(IntVector.fromArray(I256, xk, x + 80)))
                        .add(v2.lanewise(LSHR, 12).and(M4).or(h.lanewise(LSHR, 7).and(M5)).mul(IntVector.fromArray(I256, xk, x + 88)));
                IntVector v3 = IntVector.fromMemorySegment(I256, p, o + 116, LE);
                IntVector t3 = v3.and(M4).or(h.lanewise(LSHR, 8).and(M5)).mul(IntVector.fromArray(I256, xk, x + 96))
                        .add(v3.lanewise(LSHR, 8).and(M4).or(h.lanewise(LSHR, 9).and(M5)).mul(IntVector.fromArray(I256, xk, x + 104)))
                        .add(v3.lanewise(LSHR, 4).and(M4).or(h.lanewise(LSHR, 10).and(M5)).mul(IntVector.fromArray(I256, xk, x + 112)))
                        .add(v3.lanewise(LSHR, 12).and(M4).or(h.lanewise(LSHR, 11).and(M5)).mul(IntVector.fromArray(I256, xk, x + 120)));
                IntVector isum = t0.add(0x8000).lanewise(ASHR, 16).add(t1.add(0x8000).lanewise(ASHR, 16))
                        .add(t2.add(0x8000).lanewise(ASHR, 16)).add(t3.add(0x8000).lanewise(ASHR, 16)).mul(sc);
                float dx = xd[b];
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o + 2))), mins);
            }
            y[yOff + r] += acc.sub(mins).reduceLanes(ADD);
        }
    }

    /**
     * Q6_K (210 bytes): ql[128], qh[64], int8 scales[16], d. In half h (elements 128h..), for
     * l < 32 and s < 4, element 32s + l has its low nibble in ql[64h + 32(s%2) + l] (low half of the
     * byte for s < 2, high half otherwise) and its two high bits at bits 2s of qh[32h + l]; value
     * q - 32; each run of 16 elements has its own scale.
     *
     * <p>No widening: per half, the 32 bytes of ql[64h..], of ql[64h+32..] and of qh[32h..] are read
     * as int vectors, and the 6-bit values of group s (32 elements) are put together in 16-bit
     * halves of int lanes by shifts and masks: the even bytes of each lane ({@code & 0x000F000F}) and
     * the odd ones ({@code >>> 8} first), two values per lane. Each such lane is multiplied (32-bit
     * multiply) with the activations' matching pair from {@link Activations#xg}, which leaves the
     * pair's dot product in the upper 16 bits; the even and odd products of a group are added and
     * {@code (p + 0x8000) >> 16} extracts the sum of four products exactly (the low part stays within
     * ±2·63·127, the upper one within 4·63·127). Lanes 0..3 of a group hold elements l &lt; 16 and
     * lanes 4..7 the rest, so the group's scale vector is the two scales 8h + 2s and 8h + 2s + 1,
     * four lanes each: one {@code rearrange} with a constant shuffle of the half's eight scales. The
     * {@code -32} is taken once per half as {@code 32·Σ scale·bsum} with the activations' sums per
     * 16. The block loop counts blocks (an int), so that the activation reads' range checks leave it.
     */
    static void q6_K(MemorySegment w, long rowBytes, int nb, int r0, int r1, int[] xg, float[] xd, int[] bsum, int xb,
                     float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = r * rowBytes;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + 210L * (b - xb);
                IntVector s0 = IntVector.zero(I256), s1 = s0, corr = s0;
                for (int h = 0; h < 2; h++) {
                    IntVector sc = (IntVector) ByteVector.fromMemorySegment(B64, w, o + 192 + 8 * h, LE).convertShape(B2I, I256, 0);
                    corr = corr.add(sc.mul(IntVector.fromArray(I256, bsum, b * 16 + 8 * h)));
                    IntVector a = IntVector.fromMemorySegment(I256, w, o + 64 * h, LE);
                    IntVector c = IntVector.fromMemorySegment(I256, w, o + 64 * h + 32, LE);
                    IntVector hb = IntVector.fromMemorySegment(I256, w, o + 128 + 32 * h, LE);
                    int x = b * 128 + 64 * h;
                    IntVector t0 = a.and(M4).or(hb.lanewise(LSHL, 4).and(M2)).mul(IntVector.fromArray(I256, xg, x))
                            .add(a.lanewise(LSHR, 8).and(M4).or(hb.lanewise(LSHR, 4).and(M2)).mul(IntVector.fromArray(I256, xg, x + 8)));
                    IntVector t1 = c.and(M4).or(hb.lanewise(LSHL, 2).and(M2)).mul(IntVector.fromArray(I256, xg, x + 16))
                            .add(c.lanewise(LSHR, 8).and(M4).or(hb.lanewise(LSHR, 6).and(M2)).mul(IntVector.fromArray(I256, xg, x + 24)));
                    s0 = s0.add(t0.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(PAIR0)))
                            .add(t1.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(PAIR1)));
                    IntVector t2 = a.lanewise(LSHR, 4).and(M4).or(hb.and(M2)).mul(IntVector.fromArray(I256, xg, x + 32))
                            .add(a.lanewise(LSHR, 12).and(M4).or(hb.lanewise(LSHR, 8).and(M2)).mul(IntVector.fromArray(I256, xg, x + 40)));
                    IntVector t3 = c.lanewise(LSHR, 4).and(M4).or(hb.lanewise(LSHR, 2).and(M2)).mul(IntVector.fromArray(I256, xg, x + 48))
                            .add(c.lanewise(LSHR, 12).and(M4).or(hb.lanewise(LSHR, 10).and(M2)).mul(IntVector.fromArray(I256, xg, x + 56)));
                    s1 = s1.add(t2.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(PAIR2)))
                            .add(t3.add(0x8000).lanewise(ASHR, 16).mul(sc.rearrange(PAIR3)));
                }
                IntVector isum = s0.add(s1).sub(corr.lanewise(LSHL, 5));
                float scale = xd[b] * Float.float16ToFloat(w.get(Le.I16, o + 208));
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, scale), acc);
            }
            y[yOff + r] = acc.reduceLanes(ADD);
        }
    }

    /**
     * Q6_K rows from their {@link Interleave}d copy (in each half, int lane j of the three parts A,
     * B, C holds sub-block 8h + j's sixteen 6-bit values: pairs 0..5 whole, {@code & M6} or
     * {@code >>> 6 & M6}; pairs 6 and 7 from A's or C's bits 12..15 and two of B's). The pairs are
     * multiplied with {@link Activations#x6}; two products per extraction (at most 2·2·63·127 = 32004
     * in the upper halves), the four extracted vectors added, and the half's eight sub-block sums
     * scaled by its eight scales as loaded: no lane permutes, one scale multiply per half, and 19
     * operations to take the 6-bit values apart where the nibble-and-bit-pair layout took 37.
     */
    static void q6_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, int[] x6, float[] xd, int[] bsum, int xb,
                      float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + 210L * (b - xb);
                IntVector s = IntVector.zero(I256), corr = s;
                for (int h = 0; h < 2; h++) {
                    IntVector sc = (IntVector) ByteVector.fromMemorySegment(B64, p, o + 192 + 8 * h, LE).convertShape(B2I, I256, 0);
                    corr = corr.add(sc.mul(IntVector.fromArray(I256, bsum, b * 16 + 8 * h)));
                    IntVector a = IntVector.fromMemorySegment(I256, p, o + 96 * h, LE);
                    IntVector bb = IntVector.fromMemorySegment(I256, p, o + 96 * h + 32, LE);
                    IntVector c = IntVector.fromMemorySegment(I256, p, o + 96 * h + 64, LE);
                    int x = b * 128 + 64 * h;
                    IntVector t0 = a.and(M6).mul(IntVector.fromArray(I256, x6, x))
                            .add(a.lanewise(LSHR, 6).and(M6).mul(IntVector.fromArray(I256, x6, x + 8)));
                    IntVector t1 = bb.and(M6).mul(IntVector.fromArray(I256, x6, x + 16))
                            .add(bb.lanewise(LSHR, 6).and(M6).mul(IntVector.fromArray(I256, x6, x + 24)));
                    IntVector t2 = c.and(M6).mul(IntVector.fromArray(I256, x6, x + 32))
                            .add(c.lanewise(LSHR, 6).and(M6).mul(IntVector.fromArray(I256, x6, x + 40)));
                    IntVector t3 = a.lanewise(LSHR, 12).and(M4).or(bb.lanewise(LSHR, 8).and(M2)).mul(IntVector.fromArray(I256, x6, x + 48))
                            .add(c.lanewise(LSHR, 12).and(M4).or(bb.lanewise(LSHR, 10).and(M2)).mul(IntVector.fromArray(I256, x6, x + 56)));
                    IntVector e = t0.add(0x8000).lanewise(ASHR, 16).add(t1.add(0x8000).lanewise(ASHR, 16))
                            .add(t2.add(0x8000).lanewise(ASHR, 16)).add(t3.add(0x8000).lanewise(ASHR, 16));
                    s = s.add(e.mul(sc));
                }
                IntVector isum = s.sub(corr.lanewise(LSHL, 5));
                float scale = xd[b] * Float.float16ToFloat(p.get(Le.I16, o + 208));
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, scale), acc);
            }
            y[yOff + r] += acc.reduceLanes(ADD);
        }
    }

    /**
     * Q2_K rows from their {@link Interleave}d copy: in each half, int lane j holds sub-block 8h + j's
     * sixteen 2-bit values, the pair of way w at bits 2w and 16 + 2w ({@code >>> 2w & 0x00030003}),
     * multiplied with the Q6_K copy's activation pairs ({@link Activations#x6}, the same order). A
     * half's eight products per lane (at most 8·2·3·127 = 6096 in the upper halves) need one
     * extraction; its eight sub-block sums are scaled by the eight 4-bit scales and the mins by the
     * activations' sums per 16 ({@link Activations#bsum}) as loaded: about 45 vector operations per
     * half where the in-place kernel ({@link #q2_K}) widens, masks, multiplies in 16-bit lanes and sums
     * pairs for every run of 16 (about 190 per block).
     */
    static void q2_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, int[] x6, float[] xd, int[] bsum, int xb,
                      float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256), mins = acc;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + 84L * (b - xb);
                IntVector s = IntVector.zero(I256), summs = s;
                for (int h = 0; h < 2; h++) {
                    // Scale in the low nibble, min in the high one (sign-extended bytes: mask after the shift).
                    IntVector sm = (IntVector) ByteVector.fromMemorySegment(B64, p, o + 64 + 8 * h, LE).convertShape(B2I, I256, 0);
                    summs = summs.add(sm.lanewise(LSHR, 4).and(0xF).mul(IntVector.fromArray(I256, bsum, b * 16 + 8 * h)));
                    IntVector v = IntVector.fromMemorySegment(I256, p, o + 32 * h, LE);
                    int x = b * 128 + 64 * h;
                    IntVector t = v.and(M3).mul(IntVector.fromArray(I256, x6, x))
                            .add(v.lanewise(LSHR, 2).and(M3).mul(IntVector.fromArray(I256, x6, x + 8)))
                            .add(v.lanewise(LSHR, 4).and(M3).mul(IntVector.fromArray(I256, x6, x + 16)))
                            .add(v.lanewise(LSHR, 6).and(M3).mul(IntVector.fromArray(I256, x6, x + 24)))
                            .add(v.lanewise(LSHR, 8).and(M3).mul(IntVector.fromArray(I256, x6, x + 32)))
                            .add(v.lanewise(LSHR, 10).and(M3).mul(IntVector.fromArray(I256, x6, x + 40)))
                            .add(v.lanewise(LSHR, 12).and(M3).mul(IntVector.fromArray(I256, x6, x + 48)))
                            .add(v.lanewise(LSHR, 14).and(M3).mul(IntVector.fromArray(I256, x6, x + 56)));
                    s = s.add(t.add(0x8000).lanewise(ASHR, 16).mul(sm.and(0xF)));
                }
                float dx = xd[b];
                acc = ((FloatVector) s.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o + 80))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o + 82))), mins);
            }
            y[yOff + r] += acc.sub(mins).reduceLanes(ADD);
        }
    }

    /**
     * Q3_K rows from their {@link Interleave}d copy: the low two bits as in the Q2_K copy, each way's
     * pair ORed with its third bits (one shift of the lane's third-bit int to bits 2 and 18 and a
     * mask), multiplied with {@link Activations#x6}; the values 0..7 leave room for a half's eight
     * products per extraction (at most 8·2·7·127 = 14224 in the upper halves), and the offset of 4
     * comes off as {@code 4·bsum} per sub-block before the eight signed scales (unpacked in the
     * copy) multiply the sums: about 60 vector operations per half against about 190 per block plus
     * the scalar scale unpacking of the in-place kernel ({@link #q3_K}).
     */
    static void q3_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, int[] x6, float[] xd, int[] bsum, int xb,
                      float[] y, int yOff) {
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + (long) Interleave.Q3_K_COPY_BLOCK * (b - xb);
                int x = b * 128;
                IntVector hb = IntVector.fromMemorySegment(I256, p, o + 64, LE);
                IntVector v0 = IntVector.fromMemorySegment(I256, p, o + 0, LE);
                IntVector t0 = v0.and(M3).or(hb.lanewise(LSHL, 2).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 0))
                        .add(v0.lanewise(LSHR, 2).and(M3).or(hb.lanewise(LSHL, 1).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 8)))
                        .add(v0.lanewise(LSHR, 4).and(M3).or(hb.and(M3H)).mul(IntVector.fromArray(I256, x6, x + 16)))
                        .add(v0.lanewise(LSHR, 6).and(M3).or(hb.lanewise(LSHR, 1).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 24)))
                        .add(v0.lanewise(LSHR, 8).and(M3).or(hb.lanewise(LSHR, 2).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 32)))
                        .add(v0.lanewise(LSHR, 10).and(M3).or(hb.lanewise(LSHR, 3).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 40)))
                        .add(v0.lanewise(LSHR, 12).and(M3).or(hb.lanewise(LSHR, 4).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 48)))
                        .add(v0.lanewise(LSHR, 14).and(M3).or(hb.lanewise(LSHR, 5).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 56)));
                IntVector v1 = IntVector.fromMemorySegment(I256, p, o + 32, LE);
                IntVector t1 = v1.and(M3).or(hb.lanewise(LSHR, 6).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 64))
                        .add(v1.lanewise(LSHR, 2).and(M3).or(hb.lanewise(LSHR, 7).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 72)))
                        .add(v1.lanewise(LSHR, 4).and(M3).or(hb.lanewise(LSHR, 8).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 80)))
                        .add(v1.lanewise(LSHR, 6).and(M3).or(hb.lanewise(LSHR, 9).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 88)))
                        .add(v1.lanewise(LSHR, 8).and(M3).or(hb.lanewise(LSHR, 10).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 96)))
                        .add(v1.lanewise(LSHR, 10).and(M3).or(hb.lanewise(LSHR, 11).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 104)))
                        .add(v1.lanewise(LSHR, 12).and(M3).or(hb.lanewise(LSHR, 12).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 112)))
                        .add(v1.lanewise(LSHR, 14).and(M3).or(hb.lanewise(LSHR, 13).and(M3H)).mul(IntVector.fromArray(I256, x6, x + 120)));
                IntVector e0 = t0.add(0x8000).lanewise(ASHR, 16).sub(IntVector.fromArray(I256, bsum, b * 16).lanewise(LSHL, 2));
                IntVector e1 = t1.add(0x8000).lanewise(ASHR, 16).sub(IntVector.fromArray(I256, bsum, b * 16 + 8).lanewise(LSHL, 2));
                IntVector isum = e0.mul((IntVector) ByteVector.fromMemorySegment(B64, p, o + 96, LE).convertShape(B2I, I256, 0))
                        .add(e1.mul((IntVector) ByteVector.fromMemorySegment(B64, p, o + 104, LE).convertShape(B2I, I256, 0)));
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).fma(FloatVector.broadcast(F256, xd[b] * Float.float16ToFloat(p.get(Le.I16, o + 112))), acc);
            }
            y[yOff + r] += acc.reduceLanes(ADD);
        }
    }

    /** Low nibbles of the even bytes of an int lane (a 16-bit value in each half). */
    private static final int M4 = 0x000F000F;
    /** A nibble of a 16-bit lane. */
    private static final short N4 = 15;
    /** Bit 4 of both 16-bit halves of an int lane: a pair's fifth bits ({@link #q5_Kx}). */
    private static final int M5 = 0x00100010;
    /** Bits 4 and 5 of each half. */
    private static final int M2 = 0x00300030;
    /** The low six bits of each half. */
    private static final int M6 = 0x003F003F;
    /** The low two bits of each half ({@link #q2_Kx}). */
    private static final int M3 = 0x00030003;
    /** Bit 2 of each half: a pair's third bits ({@link #q3_Kx}). */
    private static final int M3H = 0x00040004;

    /** Lanes 0..3 take scale 2k of the vector, lanes 4..7 scale 2k + 1. */
    private static VectorShuffle<Integer> pair(int k) {
        return VectorShuffle.fromValues(I256, 2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1);
    }

    private static final VectorShuffle<Integer> PAIR0 = pair(0), PAIR1 = pair(1), PAIR2 = pair(2), PAIR3 = pair(3);

    private static VectorShuffle<Integer> lane(int k) {
        return VectorShuffle.fromValues(I256, k, k, k, k, k, k, k, k);
    }

    private static final VectorShuffle<Integer> LANE0 = lane(0), LANE1 = lane(1), LANE2 = lane(2), LANE3 = lane(3),
            LANE4 = lane(4), LANE5 = lane(5), LANE6 = lane(6), LANE7 = lane(7);
}
