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
import static jdk.incubator.vector.VectorOperators.OR;
import static jdk.incubator.vector.VectorOperators.S2L;
import static jdk.incubator.vector.VectorOperators.SUB;

import java.lang.foreign.MemorySegment;
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
 * The decode kernels of the {@link Interleave}d Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies at 512 bits, for
 * machines whose JVM prefers 512-bit vectors ({@link dev.kiri.kernels.VectorWidth#WIDE_DECODE});
 * {@link VectorDots#q4_0x8}, {@link VectorDots#q8_0x8}, {@link VectorDots#q4_Kx},
 * {@link VectorDots#q5_Kx} and {@link VectorDots#q6_Kx} are the 256-bit ones, and these give the
 * same floats, bit for bit. The K-quant kernels (below) fold their integer sums to 256 bits and
 * accumulate floats there, in the 256-bit kernels' order.
 *
 * <p>Q4_0: a 512-bit load takes two parts of a block at once: int lane j holds bytes
 * 4k..4k+3 of row j (part k) and lane 8 + j bytes 4k+4..4k+7 (part k + 1). A permutation puts each row's two ints side
 * by side (lanes 2j and 2j + 1), where a 64-bit broadcast of the two activation pairs that belong to
 * them ({@link Activations#xq4l}) multiplies both; the nibbles are taken and multiplied in 16-bit
 * lanes as in the 256-bit kernels. Q8_0: a part of the copy sign-extended to 512 bits already holds
 * row j's four values in lanes 2j and 2j + 1, where the four activations broadcast meet them. Per
 * block each int lane's two 16-bit halves are added with sign
 * extension, then the row's two int lanes with one 64-bit add, so the even int lanes hold the eight
 * rows' exact block sums; the eight F16 scales are sign-extended into the even lanes too, converted
 * as there and applied with one FMA; the odd lanes carry ±0 scales and are never read.
 *
 * <p>Written with no Vector API method that is shared by the species: vectors come from static
 * factories with a constant species, every operation is the operator form ({@code lanewise} with
 * vector operands, overridden in each species class, so dispatched by this kernel's own call-site
 * profiles) or another overridden method ({@code reinterpretShape}, {@code convertShape},
 * {@code rearrange}, {@code blend}, {@code lane}, {@code reduceLanes}); shifts take a count vector
 * (the {@code int} form is shared code). The 512-bit vectors therefore never reach the shared type
 * profiles that the 256-bit kernels are compiled against (docs/KERNELS.md, "One vector width per
 * process", "The Q4_0 and Q8_0 decode kernels at 512 bits", "The Q4_K, Q5_K and Q6_K decode
 * kernels at 512 bits"); {@code ImplicitSpeciesTest} checks the compiled class.
 */
final class WideDots {
    /** Whether the copies' decode runs here ({@link dev.kiri.kernels.VectorWidth#WIDE_DECODE}). */
    static final boolean ON = dev.kiri.kernels.VectorWidth.WIDE_DECODE;
    private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Long> L512 = LongVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * A 512-bit load of a block's parts k and k + 1 holds row j's two ints in lanes j and 8 + j;
     * this puts them side by side, in lanes 2j and 2j + 1, where one 64-bit activation broadcast
     * ({@link Activations#xq4l}) meets both, and one 64-bit add sums the row.
     */
    private static final VectorShuffle<Integer> ROW_PAIRS =
            VectorShuffle.fromValues(I512, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    /**
     * The magnitude and sign bits of the eight F16 scales, sign-extended into the even int lanes
     * (64-bit lanes); the odd lanes hold copies of their sign and become ±0, never a subnormal
     * float (as a multiplication's operand one costs a microcode assist).
     */
    private static final int[] EVEN_MAGNITUDE = {0x7FFF, 0, 0x7FFF, 0, 0x7FFF, 0, 0x7FFF, 0, 0x7FFF, 0, 0x7FFF, 0, 0x7FFF, 0, 0x7FFF, 0};
    private static final int[] EVEN_SIGN = {0x80000000, 0, 0x80000000, 0, 0x80000000, 0, 0x80000000, 0, 0x80000000, 0,
            0x80000000, 0, 0x80000000, 0, 0x80000000, 0};

    /**
     * The kernels' constant vectors, made once: as {@code broadcast}s at the top of each call, one
     * JVM in six of a loop of fresh ones (Q8_0 file, 128-token prompt) compiled one of them
     * unintrinsified and allocated it on every call for good (2.4 MB per decode token).
     */
    private static final IntVector NIBBLES = IntVector.broadcast(I512, 0x000F000F);
    private static final IntVector C4 = IntVector.broadcast(I512, 4);
    private static final IntVector C8 = IntVector.broadcast(I512, 8);
    private static final IntVector C12 = IntVector.broadcast(I512, 12);
    private static final IntVector C13 = IntVector.broadcast(I512, 13);
    private static final IntVector C16 = IntVector.broadcast(I512, 16);
    private static final LongVector C32 = LongVector.broadcast(L512, 32);
    private static final IntVector MAGNITUDE = IntVector.fromArray(I512, EVEN_MAGNITUDE, 0);
    private static final IntVector SIGN = IntVector.fromArray(I512, EVEN_SIGN, 0);
    private static final FloatVector F112 = FloatVector.broadcast(F512, 0x1p112f);
    private static final IntVector C5 = IntVector.broadcast(I512, 5);
    private static final IntVector C6 = IntVector.broadcast(I512, 6);
    private static final IntVector C10 = IntVector.broadcast(I512, 10);
    private static final IntVector M6 = IntVector.broadcast(I512, 0x003F003F);
    private static final IntVector M2 = IntVector.broadcast(I512, 0x00300030);
    private static final IntVector ROUND = IntVector.broadcast(I512, 0x8000);
    private static final ShortVector N4 = ShortVector.broadcast(S512, (short) 15);
    private static final ShortVector S4 = ShortVector.broadcast(S512, (short) 4);
    private static final ShortVector S8 = ShortVector.broadcast(S512, (short) 8);
    private static final ShortVector S12 = ShortVector.broadcast(S512, (short) 12);
    private static final IntVector M5 = IntVector.broadcast(I512, 0x00100010);
    /**
     * Q5_K: the fifth bits of way u of parts 0 and 1 (after a shift left by 4) and of parts 2 and 3
     * brought to bits 4 and 20: a right shift by {@code 4k + u} or {@code 4k + u - 4}, lanes 0..7
     * holding the even part and 8..15 the odd one.
     */
    private static final IntVector H01_0 = IntVector.fromArray(I512, halves(0, 4), 0);
    private static final IntVector H01_1 = IntVector.fromArray(I512, halves(1, 5), 0);
    private static final IntVector H01_2 = IntVector.fromArray(I512, halves(2, 6), 0);
    private static final IntVector H01_3 = IntVector.fromArray(I512, halves(3, 7), 0);
    private static final IntVector H23_0 = IntVector.fromArray(I512, halves(4, 8), 0);
    private static final IntVector H23_1 = IntVector.fromArray(I512, halves(5, 9), 0);
    private static final IntVector H23_2 = IntVector.fromArray(I512, halves(6, 10), 0);
    private static final IntVector H23_3 = IntVector.fromArray(I512, halves(7, 11), 0);
    /** The high 256 bits of a load at a Q5_K copy block's offset 116 (its fifth bits) in both halves. */
    private static final VectorShuffle<Integer> HIGH_TWICE =
            VectorShuffle.fromValues(I512, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    /** Int lanes 8..15: the second 256-bit half. */
    private static final VectorMask<Integer> UPPER = VectorMask.fromLong(I512, 0xFF00L);
    /** The two 256-bit halves exchanged, so that adding folds lane 8 + j onto lane j. */
    private static final VectorShuffle<Integer> SWAP_HALVES =
            VectorShuffle.fromValues(I512, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);

    private WideDots() {
    }

    /** Sixteen ints: eight of {@code low}, then eight of {@code high}. */
    private static int[] halves(int low, int high) {
        int[] v = new int[16];
        for (int i = 0; i < 16; i++) v[i] = i < 8 ? low : high;
        return v;
    }

    /** {@link VectorDots#q4_0x8} at 512 bits; {@code xl} is {@link Activations#xq4l}, {@code xa} {@link Activations#xq4x8}. */
    static void q4_0x8(MemorySegment p, long stride, long base, int nb, int g0, int g1, long[] xl, int[] xa, float[] xd,
                       int xb, float[] y, int yOff) {
        IntVector m = NIBBLES, c4 = C4, c8 = C8, c12 = C12, c13 = C13, c16 = C16, magMask = MAGNITUDE, signMask = SIGN;
        LongVector c32 = C32;
        FloatVector f112 = F112;
        for (int g = g0; g < g1; g++) {
            FloatVector acc = FloatVector.zero(F512);
            long o = base + g * stride;
            int k = xb * Activations.Q4L_BLOCK;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++, o += Interleave.Q4_0_GROUP_BLOCK, k += Activations.Q4L_BLOCK) {
                IntVector v0 = IntVector.fromMemorySegment(I512, p, o + 16, LE).rearrange(ROW_PAIRS);
                IntVector v1 = IntVector.fromMemorySegment(I512, p, o + 80, LE).rearrange(ROW_PAIRS);
                ShortVector t = ((ShortVector) v0.lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k]).reinterpretShape(S512, 0))
                        .lanewise(ADD, ((ShortVector) v0.lanewise(LSHR, c8).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 1]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, ((ShortVector) v0.lanewise(LSHR, c4).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 2]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, ((ShortVector) v0.lanewise(LSHR, c12).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 3]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 4]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(LSHR, c8).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 5]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(LSHR, c4).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 6]).reinterpretShape(S512, 0)))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(LSHR, c12).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 7]).reinterpretShape(S512, 0)));
                IntVector ti = (IntVector) t.reinterpretShape(I512, 0);
                LongVector sl = (LongVector) ti.lanewise(LSHL, c16).lanewise(ASHR, c16).lanewise(ADD, ti.lanewise(ASHR, c16)).reinterpretShape(L512, 0);
                IntVector s = ((IntVector) sl.lanewise(ADD, sl.lanewise(LSHR, c32)).reinterpretShape(I512, 0))
                        .lanewise(SUB, IntVector.broadcast(I512, xa[b * Activations.Q4X8_BLOCK + 16]));
                IntVector h = (IntVector) ShortVector.fromMemorySegment(S128, p, o, LE).convertShape(S2L, L512, 0).reinterpretShape(I512, 0);
                FloatVector mag = ((FloatVector) h.lanewise(AND, magMask).lanewise(LSHL, c13).reinterpretShape(F512, 0)).lanewise(MUL, f112);
                FloatVector d = (FloatVector) ((IntVector) mag.reinterpretShape(I512, 0)).lanewise(OR, h.lanewise(AND, signMask)).reinterpretShape(F512, 0);
                acc = ((FloatVector) s.convertShape(I2F, F512, 0)).lanewise(FMA, d.lanewise(MUL, FloatVector.broadcast(F512, xd[b])), acc);
            }
            int at = yOff + 8 * g;
            y[at] += acc.lane(0);
            y[at + 1] += acc.lane(2);
            y[at + 2] += acc.lane(4);
            y[at + 3] += acc.lane(6);
            y[at + 4] += acc.lane(8);
            y[at + 5] += acc.lane(10);
            y[at + 6] += acc.lane(12);
            y[at + 7] += acc.lane(14);
        }
    }

    /**
     * {@link VectorDots#q8_0x8} at 512 bits; {@code xl} is {@link Activations#xq8l}. A part of a block
     * (values 4m..4m+3 of the eight rows) sign-extended fills 32 16-bit lanes, row j's four in
     * the 64-bit lane j, where the four activations broadcast meet them; two parts' products are added
     * there, each int lane's halves added with sign extension, and per block each row's two int lanes
     * with one 64-bit add: the even int lanes hold the eight rows' exact block sums, scaled as in
     * {@link #q4_0x8}.
     */
    static void q8_0x8(MemorySegment p, long stride, long base, int nb, int g0, int g1, long[] xl, float[] xd,
                       int xb, float[] y, int yOff) {
        IntVector c13 = C13, c16 = C16, magMask = MAGNITUDE, signMask = SIGN;
        LongVector c32 = C32;
        FloatVector f112 = F112;
        for (int g = g0; g < g1; g++) {
            FloatVector acc = FloatVector.zero(F512);
            long o = base + g * stride;
            int k = xb * Activations.Q8L_BLOCK;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++, o += Interleave.Q8_0_GROUP_BLOCK, k += Activations.Q8L_BLOCK) {
                IntVector q0 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 16, LE).convertShape(B2S, S512, 0))
                        .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k]).reinterpretShape(S512, 0))
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 48, LE).convertShape(B2S, S512, 0))
                                .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 1]).reinterpretShape(S512, 0)))
                        .reinterpretShape(I512, 0);
                IntVector q1 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 80, LE).convertShape(B2S, S512, 0))
                        .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 2]).reinterpretShape(S512, 0))
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 112, LE).convertShape(B2S, S512, 0))
                                .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 3]).reinterpretShape(S512, 0)))
                        .reinterpretShape(I512, 0);
                IntVector q2 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 144, LE).convertShape(B2S, S512, 0))
                        .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 4]).reinterpretShape(S512, 0))
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 176, LE).convertShape(B2S, S512, 0))
                                .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 5]).reinterpretShape(S512, 0)))
                        .reinterpretShape(I512, 0);
                IntVector q3 = (IntVector) ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 208, LE).convertShape(B2S, S512, 0))
                        .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 6]).reinterpretShape(S512, 0))
                        .lanewise(ADD, ((ShortVector) ByteVector.fromMemorySegment(B256, p, o + 240, LE).convertShape(B2S, S512, 0))
                                .lanewise(MUL, (ShortVector) LongVector.broadcast(L512, xl[k + 7]).reinterpretShape(S512, 0)))
                        .reinterpretShape(I512, 0);
                LongVector sl = (LongVector) q0.lanewise(LSHL, c16).lanewise(ASHR, c16).lanewise(ADD, q0.lanewise(ASHR, c16))
                        .lanewise(ADD, q1.lanewise(LSHL, c16).lanewise(ASHR, c16)).lanewise(ADD, q1.lanewise(ASHR, c16))
                        .lanewise(ADD, q2.lanewise(LSHL, c16).lanewise(ASHR, c16)).lanewise(ADD, q2.lanewise(ASHR, c16))
                        .lanewise(ADD, q3.lanewise(LSHL, c16).lanewise(ASHR, c16)).lanewise(ADD, q3.lanewise(ASHR, c16))
                        .reinterpretShape(L512, 0);
                IntVector s = (IntVector) sl.lanewise(ADD, sl.lanewise(LSHR, c32)).reinterpretShape(I512, 0);
                IntVector h = (IntVector) ShortVector.fromMemorySegment(S128, p, o, LE).convertShape(S2L, L512, 0).reinterpretShape(I512, 0);
                FloatVector mag = ((FloatVector) h.lanewise(AND, magMask).lanewise(LSHL, c13).reinterpretShape(F512, 0)).lanewise(MUL, f112);
                FloatVector d = (FloatVector) ((IntVector) mag.reinterpretShape(I512, 0)).lanewise(OR, h.lanewise(AND, signMask)).reinterpretShape(F512, 0);
                acc = ((FloatVector) s.convertShape(I2F, F512, 0)).lanewise(FMA, d.lanewise(MUL, FloatVector.broadcast(F512, xd[b])), acc);
            }
            int at = yOff + 8 * g;
            y[at] += acc.lane(0);
            y[at + 1] += acc.lane(2);
            y[at + 2] += acc.lane(4);
            y[at + 3] += acc.lane(6);
            y[at + 4] += acc.lane(8);
            y[at + 5] += acc.lane(10);
            y[at + 6] += acc.lane(12);
            y[at + 7] += acc.lane(14);
        }
    }

    /**
     * {@link VectorDots#q4_Kx} at 512 bits, the same floats bit for bit; {@code xw} is
     * {@link Activations#xks} in the layout {@link Activations#Q4_KX_WIDE}. One load takes parts 0
     * and 1 of a block's nibbles, another parts 2 and 3: 32 16-bit lanes, sub-block j's in lanes
     * 2j, 2j + 1 and 16 + 2j, 16 + 2j + 1. The four ways of taking nibbles are multiplied as in the
     * 256-bit kernel (eight products per 16-bit lane, at most 8·15·128), each int lane's halves are
     * added with sign extension and the two 256-bit halves folded together: the eight exact sub-block
     * sums in the low 256 bits, scaled, converted and accumulated there as in the 256-bit kernel.
     */
    static void q4_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, short[] xw, float[] xd, int[] bsum32, int xb,
                      float[] y, int yOff) {
        ShortVector n4 = N4, s4 = S4, s8 = S8, s12 = S12;
        IntVector c16 = C16;
        VectorShuffle<Integer> swap = SWAP_HALVES;
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256), mins = FloatVector.zero(F256);
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + (long) Interleave.Q4_K_COPY_BLOCK * (b - xb);
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B64, p, o + 4, LE).convertShape(B2I, I256, 0);
                IntVector summs = ((IntVector) ByteVector.fromMemorySegment(B64, p, o + 12, LE).convertShape(B2I, I256, 0))
                        .lanewise(MUL, IntVector.fromArray(I256, bsum32, b * 8));
                int x = b * 256;
                ShortVector v0 = ShortVector.fromMemorySegment(S512, p, o + 20, LE);
                ShortVector v1 = ShortVector.fromMemorySegment(S512, p, o + 84, LE);
                // Two sums of four products (parts 0, 1 and parts 2, 3), added: two shorter chains.
                ShortVector t = v0.lanewise(AND, n4).lanewise(MUL, ShortVector.fromArray(S512, xw, x))
                        .lanewise(ADD, v0.lanewise(LSHR, s8).lanewise(AND, n4).lanewise(MUL, ShortVector.fromArray(S512, xw, x + 32)))
                        .lanewise(ADD, v0.lanewise(LSHR, s4).lanewise(AND, n4).lanewise(MUL, ShortVector.fromArray(S512, xw, x + 64)))
                        .lanewise(ADD, v0.lanewise(LSHR, s12).lanewise(MUL, ShortVector.fromArray(S512, xw, x + 96)))
                        .lanewise(ADD, v1.lanewise(AND, n4).lanewise(MUL, ShortVector.fromArray(S512, xw, x + 128))
                        .lanewise(ADD, v1.lanewise(LSHR, s8).lanewise(AND, n4).lanewise(MUL, ShortVector.fromArray(S512, xw, x + 160)))
                        .lanewise(ADD, v1.lanewise(LSHR, s4).lanewise(AND, n4).lanewise(MUL, ShortVector.fromArray(S512, xw, x + 192)))
                        .lanewise(ADD, v1.lanewise(LSHR, s12).lanewise(MUL, ShortVector.fromArray(S512, xw, x + 224))));
                IntVector s = (IntVector) t.reinterpretShape(I512, 0);
                IntVector pairs = s.lanewise(LSHL, c16).lanewise(ASHR, c16).lanewise(ADD, s.lanewise(ASHR, c16));
                IntVector isum = ((IntVector) pairs.lanewise(ADD, pairs.rearrange(swap)).reinterpretShape(I256, 0)).lanewise(MUL, sc);
                float dx = xd[b];
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0))
                        .lanewise(FMA, FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0))
                        .lanewise(FMA, FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o + 2))), mins);
            }
            y[yOff + r] += acc.lanewise(SUB, mins).reduceLanes(ADD);
        }
    }

    /**
     * {@link VectorDots#q6_Kx} at 512 bits, the same floats bit for bit; {@code x6} is
     * {@link Activations#x6} in the layout {@link Activations#Q6_KX_WIDE}. Both halves of a block at
     * once: parts A, B and C of half 0 in int lanes 0..7 and of half 1 in lanes 8..15 (each put
     * together from two overlapping loads of the block's first 192 bytes and a blend), so int lane
     * 8h + j is sub-block 8h + j and its sixteen scales are one 16-byte load. The values are taken
     * apart, multiplied and extracted as in the 256-bit kernel; the sums of a block's two halves
     * are folded together in integers (exactly what that kernel adds), then converted and
     * accumulated in 256 bits as there.
     */
    static void q6_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, int[] x6, float[] xd, int[] bsum, int xb,
                      float[] y, int yOff) {
        IntVector m6 = M6, m4 = NIBBLES, m2 = M2, c5 = C5, c6 = C6, c8 = C8, c10 = C10, c12 = C12, c16 = C16, round = ROUND;
        VectorMask<Integer> upper = UPPER;
        VectorShuffle<Integer> swap = SWAP_HALVES;
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256);
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + 210L * (b - xb);
                // Parts at 96h, 96h + 32, 96h + 64: the low 256 bits of a load at A0, B0 or C0 and the high ones of a load at A1, B1 or C1.
                IntVector mid = IntVector.fromMemorySegment(I512, p, o + 64, LE);
                IntVector a = IntVector.fromMemorySegment(I512, p, o, LE).blend(mid, upper);
                IntVector bb = IntVector.fromMemorySegment(I512, p, o + 32, LE).blend(IntVector.fromMemorySegment(I512, p, o + 96, LE), upper);
                IntVector c = mid.blend(IntVector.fromMemorySegment(I512, p, o + 128, LE), upper);
                int x = b * 128;
                IntVector t0 = a.lanewise(AND, m6).lanewise(MUL, IntVector.fromArray(I512, x6, x))
                        .lanewise(ADD, a.lanewise(LSHR, c6).lanewise(AND, m6).lanewise(MUL, IntVector.fromArray(I512, x6, x + 16)));
                IntVector t1 = bb.lanewise(AND, m6).lanewise(MUL, IntVector.fromArray(I512, x6, x + 32))
                        .lanewise(ADD, bb.lanewise(LSHR, c6).lanewise(AND, m6).lanewise(MUL, IntVector.fromArray(I512, x6, x + 48)));
                IntVector t2 = c.lanewise(AND, m6).lanewise(MUL, IntVector.fromArray(I512, x6, x + 64))
                        .lanewise(ADD, c.lanewise(LSHR, c6).lanewise(AND, m6).lanewise(MUL, IntVector.fromArray(I512, x6, x + 80)));
                IntVector t3 = a.lanewise(LSHR, c12).lanewise(AND, m4).lanewise(OR, bb.lanewise(LSHR, c8).lanewise(AND, m2))
                        .lanewise(MUL, IntVector.fromArray(I512, x6, x + 96))
                        .lanewise(ADD, c.lanewise(LSHR, c12).lanewise(AND, m4).lanewise(OR, bb.lanewise(LSHR, c10).lanewise(AND, m2))
                                .lanewise(MUL, IntVector.fromArray(I512, x6, x + 112)));
                IntVector e = t0.lanewise(ADD, round).lanewise(ASHR, c16).lanewise(ADD, t1.lanewise(ADD, round).lanewise(ASHR, c16))
                        .lanewise(ADD, t2.lanewise(ADD, round).lanewise(ASHR, c16)).lanewise(ADD, t3.lanewise(ADD, round).lanewise(ASHR, c16));
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B128, p, o + 192, LE).convertShape(B2I, I512, 0);
                IntVector s = e.lanewise(MUL, sc).lanewise(SUB, sc.lanewise(MUL, IntVector.fromArray(I512, bsum, b * 16)).lanewise(LSHL, c5));
                IntVector isum = (IntVector) s.lanewise(ADD, s.rearrange(swap)).reinterpretShape(I256, 0);
                float scale = xd[b] * Float.float16ToFloat(p.get(Le.I16, o + 208));
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0)).lanewise(FMA, FloatVector.broadcast(F256, scale), acc);
            }
            y[yOff + r] += acc.reduceLanes(ADD);
        }
    }

    /**
     * {@link VectorDots#q5_Kx} at 512 bits, the same floats bit for bit; {@code xw} is
     * {@link Activations#xk} in the layout {@link Activations#Q5_KX_WIDE}. As {@link #q4_Kx}, one load
     * takes parts 0 and 1 of the nibbles and another parts 2 and 3 (int lane j and 8 + j: sub-block
     * j); the block's 32 bytes of fifth bits are loaded once into both halves, and way u of part k
     * ORs in its bits with one shift by a per-half constant vector and a mask. The packed pairs are
     * multiplied as in the 256-bit kernel (32-bit lanes, four products per extraction); the two
     * halves' extracted sums are folded into eight lanes, and the rest is the 256-bit kernel's.
     */
    static void q5_Kx(MemorySegment p, long stride, long base, int nb, int r0, int r1, int[] xw, float[] xd, int[] bsum32, int xb,
                      float[] y, int yOff) {
        IntVector m4 = NIBBLES, m5 = M5, c4 = C4, c8 = C8, c12 = C12, c16 = C16, round = ROUND;
        IntVector a0 = H01_0, a1 = H01_1, a2 = H01_2, a3 = H01_3, b0 = H23_0, b1 = H23_1, b2 = H23_2, b3 = H23_3;
        VectorShuffle<Integer> swap = SWAP_HALVES, highTwice = HIGH_TWICE;
        for (int r = r0; r < r1; r++) {
            long off = base + stride * r;
            FloatVector acc = FloatVector.zero(F256), mins = FloatVector.zero(F256);
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++) {
                long o = off + (long) Interleave.Q5_K_COPY_BLOCK * (b - xb);
                IntVector sc = (IntVector) ByteVector.fromMemorySegment(B64, p, o + 4, LE).convertShape(B2I, I256, 0);
                IntVector summs = ((IntVector) ByteVector.fromMemorySegment(B64, p, o + 12, LE).convertShape(B2I, I256, 0))
                        .lanewise(MUL, IntVector.fromArray(I256, bsum32, b * 8));
                int x = b * 128;
                IntVector v1 = IntVector.fromMemorySegment(I512, p, o + 84, LE);
                // The fifth bits (at o + 148) are the high half of a load at o + 116, whose low half is part 3.
                IntVector h = IntVector.fromMemorySegment(I512, p, o + 116, LE).rearrange(highTwice);
                IntVector h4 = h.lanewise(LSHL, c4);
                IntVector v0 = IntVector.fromMemorySegment(I512, p, o + 20, LE);
                IntVector t0 = v0.lanewise(AND, m4).lanewise(OR, h4.lanewise(LSHR, a0).lanewise(AND, m5)).lanewise(MUL, IntVector.fromArray(I512, xw, x))
                        .lanewise(ADD, v0.lanewise(LSHR, c8).lanewise(AND, m4).lanewise(OR, h4.lanewise(LSHR, a1).lanewise(AND, m5))
                                .lanewise(MUL, IntVector.fromArray(I512, xw, x + 16)))
                        .lanewise(ADD, v0.lanewise(LSHR, c4).lanewise(AND, m4).lanewise(OR, h4.lanewise(LSHR, a2).lanewise(AND, m5))
                                .lanewise(MUL, IntVector.fromArray(I512, xw, x + 32)))
                        .lanewise(ADD, v0.lanewise(LSHR, c12).lanewise(AND, m4).lanewise(OR, h4.lanewise(LSHR, a3).lanewise(AND, m5))
                                .lanewise(MUL, IntVector.fromArray(I512, xw, x + 48)));
                IntVector t1 = v1.lanewise(AND, m4).lanewise(OR, h.lanewise(LSHR, b0).lanewise(AND, m5)).lanewise(MUL, IntVector.fromArray(I512, xw, x + 64))
                        .lanewise(ADD, v1.lanewise(LSHR, c8).lanewise(AND, m4).lanewise(OR, h.lanewise(LSHR, b1).lanewise(AND, m5))
                                .lanewise(MUL, IntVector.fromArray(I512, xw, x + 80)))
                        .lanewise(ADD, v1.lanewise(LSHR, c4).lanewise(AND, m4).lanewise(OR, h.lanewise(LSHR, b2).lanewise(AND, m5))
                                .lanewise(MUL, IntVector.fromArray(I512, xw, x + 96)))
                        .lanewise(ADD, v1.lanewise(LSHR, c12).lanewise(AND, m4).lanewise(OR, h.lanewise(LSHR, b3).lanewise(AND, m5))
                                .lanewise(MUL, IntVector.fromArray(I512, xw, x + 112)));
                IntVector e = t0.lanewise(ADD, round).lanewise(ASHR, c16).lanewise(ADD, t1.lanewise(ADD, round).lanewise(ASHR, c16));
                IntVector isum = ((IntVector) e.lanewise(ADD, e.rearrange(swap)).reinterpretShape(I256, 0)).lanewise(MUL, sc);
                float dx = xd[b];
                acc = ((FloatVector) isum.convertShape(I2F, F256, 0))
                        .lanewise(FMA, FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o))), acc);
                mins = ((FloatVector) summs.convertShape(I2F, F256, 0))
                        .lanewise(FMA, FloatVector.broadcast(F256, dx * Float.float16ToFloat(p.get(Le.I16, o + 2))), mins);
            }
            y[yOff + r] += acc.lanewise(SUB, mins).reduceLanes(ADD);
        }
    }
}
