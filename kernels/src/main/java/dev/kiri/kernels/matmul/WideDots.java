package dev.kiri.kernels.matmul;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.ASHR;
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
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The decode kernels of the {@link Interleave}d Q4_0 and Q8_0 copies at 512 bits, for machines
 * whose JVM prefers 512-bit vectors ({@link dev.kiri.kernels.VectorWidth#WIDE_DECODE});
 * {@link VectorDots#q4_0x8} and {@link VectorDots#q8_0x8} are the 256-bit ones, and these give the
 * same floats, bit for bit.
 *
 * <p>A 512-bit load takes two parts of a block at once: int lane j holds bytes 4k..4k+3 of row j
 * (part k) and lane 8 + j bytes 4k+4..4k+7 (part k + 1). A permutation puts each row's two ints side
 * by side (lanes 2j and 2j + 1), where a 64-bit broadcast of the two activation pairs that belong to
 * them ({@link Activations#xq4l}) multiplies both; the nibbles are taken and multiplied in 16-bit
 * lanes as in the 256-bit kernels. Per block each int lane's two 16-bit halves are added with sign
 * extension, then the row's two int lanes with one 64-bit add, so the even int lanes hold the eight
 * rows' exact block sums; the eight F16 scales are sign-extended into the even lanes too, converted
 * as there and applied with one FMA; the odd lanes carry ±0 scales and are never read.
 *
 * <p>Written with no Vector API method that is shared by the species: vectors come from static
 * factories with a constant species, every operation is the operator form ({@code lanewise} with
 * vector operands, overridden in each species class, so dispatched by this kernel's own call-site
 * profiles) or another overridden method ({@code reinterpretShape}, {@code convertShape},
 * {@code rearrange}, {@code lane}); shifts take a count vector (the {@code int} form is shared code).
 * The 512-bit vectors therefore never reach the shared type profiles that the 256-bit kernels are
 * compiled against (docs/KERNELS.md, "One vector width per process", "The Q4_0 and Q8_0 decode
 * kernels at 512 bits"); {@code ImplicitSpeciesTest} checks the compiled class.
 */
final class WideDots {
    /** Whether the copies' decode runs here ({@link dev.kiri.kernels.VectorWidth#WIDE_DECODE}). */
    static final boolean ON = dev.kiri.kernels.VectorWidth.WIDE_DECODE;
    private static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Short> S512 = ShortVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Long> L512 = LongVector.SPECIES_512;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
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

    private WideDots() {
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

    /** {@link VectorDots#q8_0x8} at 512 bits; {@code xl} is {@link Activations#xq4l}, {@code xa} {@link Activations#xq4x8}. */
    static void q8_0x8(MemorySegment p, long stride, long base, int nb, int g0, int g1, long[] xl, int[] xa, float[] xd,
                       int xb, float[] y, int yOff) {
        IntVector m = NIBBLES, c4 = C4, c8 = C8, c12 = C12, c13 = C13, c16 = C16, magMask = MAGNITUDE, signMask = SIGN;
        LongVector c32 = C32;
        FloatVector f112 = F112;
        for (int g = g0; g < g1; g++) {
            FloatVector acc = FloatVector.zero(F512);
            long o = base + g * stride;
            int k = xb * Activations.Q4L_BLOCK;
            for (int b = xb, bEnd = xb + nb; b < bEnd; b++, o += Interleave.Q8_0_GROUP_BLOCK, k += Activations.Q4L_BLOCK) {
                ShortVector x0 = (ShortVector) LongVector.broadcast(L512, xl[k]).reinterpretShape(S512, 0);
                ShortVector x1 = (ShortVector) LongVector.broadcast(L512, xl[k + 1]).reinterpretShape(S512, 0);
                ShortVector x2 = (ShortVector) LongVector.broadcast(L512, xl[k + 2]).reinterpretShape(S512, 0);
                ShortVector x3 = (ShortVector) LongVector.broadcast(L512, xl[k + 3]).reinterpretShape(S512, 0);
                ShortVector x4 = (ShortVector) LongVector.broadcast(L512, xl[k + 4]).reinterpretShape(S512, 0);
                ShortVector x5 = (ShortVector) LongVector.broadcast(L512, xl[k + 5]).reinterpretShape(S512, 0);
                ShortVector x6 = (ShortVector) LongVector.broadcast(L512, xl[k + 6]).reinterpretShape(S512, 0);
                ShortVector x7 = (ShortVector) LongVector.broadcast(L512, xl[k + 7]).reinterpretShape(S512, 0);
                IntVector v0 = IntVector.fromMemorySegment(I512, p, o + 16, LE).rearrange(ROW_PAIRS);
                IntVector v1 = IntVector.fromMemorySegment(I512, p, o + 80, LE).rearrange(ROW_PAIRS);
                ShortVector lo = ((ShortVector) v0.lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x0)
                        .lanewise(ADD, ((ShortVector) v0.lanewise(LSHR, c8).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x1))
                        .lanewise(ADD, ((ShortVector) v0.lanewise(LSHR, c4).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x2))
                        .lanewise(ADD, ((ShortVector) v0.lanewise(LSHR, c12).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x3))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x4))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(LSHR, c8).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x5))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(LSHR, c4).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x6))
                        .lanewise(ADD, ((ShortVector) v1.lanewise(LSHR, c12).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x7));
                IntVector u0 = IntVector.fromMemorySegment(I512, p, o + 144, LE).rearrange(ROW_PAIRS);
                IntVector u1 = IntVector.fromMemorySegment(I512, p, o + 208, LE).rearrange(ROW_PAIRS);
                ShortVector hi = ((ShortVector) u0.lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x0)
                        .lanewise(ADD, ((ShortVector) u0.lanewise(LSHR, c8).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x1))
                        .lanewise(ADD, ((ShortVector) u0.lanewise(LSHR, c4).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x2))
                        .lanewise(ADD, ((ShortVector) u0.lanewise(LSHR, c12).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x3))
                        .lanewise(ADD, ((ShortVector) u1.lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x4))
                        .lanewise(ADD, ((ShortVector) u1.lanewise(LSHR, c8).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x5))
                        .lanewise(ADD, ((ShortVector) u1.lanewise(LSHR, c4).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x6))
                        .lanewise(ADD, ((ShortVector) u1.lanewise(LSHR, c12).lanewise(AND, m).reinterpretShape(S512, 0)).lanewise(MUL, x7));
                IntVector tl = (IntVector) lo.reinterpretShape(I512, 0);
                IntVector th = (IntVector) hi.reinterpretShape(I512, 0);
                // 16·(Σh·x - 8Σx) + Σl·x, exact: each half's 16-bit lanes added with sign extension, then the row's two int lanes.
                LongVector sl = (LongVector) th.lanewise(LSHL, c16).lanewise(ASHR, c16).lanewise(ADD, th.lanewise(ASHR, c16)).lanewise(LSHL, c4)
                        .lanewise(ADD, tl.lanewise(LSHL, c16).lanewise(ASHR, c16)).lanewise(ADD, tl.lanewise(ASHR, c16)).reinterpretShape(L512, 0);
                IntVector s = ((IntVector) sl.lanewise(ADD, sl.lanewise(LSHR, c32)).reinterpretShape(I512, 0))
                        .lanewise(SUB, IntVector.broadcast(I512, xa[b * Activations.Q4X8_BLOCK + 16] << 4));
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
}
