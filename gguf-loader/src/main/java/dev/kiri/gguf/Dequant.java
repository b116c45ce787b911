package dev.kiri.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference dequantization of GGUF blocks to F32, written to be obviously correct rather
 * than fast. It is the oracle the SIMD kernels are tested against, and it reproduces ggml's
 * {@code to_float} bit for bit: every product is computed in float in the same order as ggml.
 *
 * <p>Block layouts are drawn in {@code docs/FORMATS.md}. All multi-byte fields are little-endian;
 * "fp16" is an IEEE half-precision scale.
 *
 * <p>Stateless and thread-safe.
 */
public final class Dequant {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The 16 non-linear levels of IQ4_NL and IQ4_XS, indexed by a 4-bit code. */
    static final byte[] IQ4_NL_LEVELS = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private Dequant() {
    }

    /** An IEEE half-precision value (the low 16 bits of {@code bits}) as a float. */
    public static float fp16ToFloat(int bits) {
        return Float.float16ToFloat((short) bits);
    }

    /** A bfloat16 value (the low 16 bits of {@code bits}) as a float: it is the top half of an F32. */
    public static float bf16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** True if {@link #row} can dequantize this type. */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q8_K,
                 Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS -> true;
            default -> false;
        };
    }

    /**
     * Dequantizes a whole tensor into a new array, in ggml order (ne0 fastest).
     *
     * @throws UnsupportedOperationException if the type is not supported (the message names the tensor and type)
     * @throws IllegalArgumentException      if the tensor has more than {@code Integer.MAX_VALUE - 8} elements
     */
    public static float[] tensor(GgufTensor t) {
        if (!supports(t.type())) {
            throw new UnsupportedOperationException("tensor " + t.name() + ": cannot dequantize type " + t.type().ggmlName());
        }
        long count = t.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor " + t.name() + " has " + count + " elements, too many for one float[]");
        }
        float[] out = new float[(int) count];
        row(t.type(), t.data(), 0, out, 0, out.length);
        return out;
    }

    /**
     * Dequantizes {@code n} elements stored as {@code type} blocks starting at {@code byteOffset} of
     * {@code src} into {@code dst[dstOff .. dstOff + n)}.
     *
     * @param n a multiple of the type's block size
     * @throws UnsupportedOperationException if the type is not supported (the message names it)
     * @throws IllegalArgumentException      if {@code n} is not a whole number of blocks
     * @throws IndexOutOfBoundsException     if the source or destination range is out of bounds
     */
    public static void row(GgmlType type, MemorySegment src, long byteOffset, float[] dst, int dstOff, int n) {
        if (!supports(type)) throw new UnsupportedOperationException("cannot dequantize type " + type.ggmlName());
        if (n < 0 || n % type.blockSize() != 0) {
            throw new IllegalArgumentException(n + " elements is not a whole number of " + type.ggmlName()
                    + " blocks of " + type.blockSize());
        }
        java.util.Objects.checkFromIndexSize(dstOff, n, dst.length);
        java.util.Objects.checkFromIndexSize(byteOffset, type.byteSize(n), src.byteSize());
        int blocks = n / type.blockSize();
        long bpb = type.bytesPerBlock();
        for (int b = 0; b < blocks; b++) {
            long at = byteOffset + b * bpb;
            int y = dstOff + b * type.blockSize();
            switch (type) {
                case F32 -> dst[y] = src.get(F32, at);
                case F16 -> dst[y] = fp16ToFloat(u16(src, at));
                case BF16 -> dst[y] = bf16ToFloat(u16(src, at));
                case Q8_0 -> q8_0(src, at, dst, y);
                case Q4_0 -> q4_0(src, at, dst, y);
                case Q4_1 -> q4_1(src, at, dst, y);
                case Q5_0 -> q5_0(src, at, dst, y);
                case Q5_1 -> q5_1(src, at, dst, y);
                case Q8_K -> q8_k(src, at, dst, y);
                case Q2_K -> q2_k(src, at, dst, y);
                case Q3_K -> q3_k(src, at, dst, y);
                case Q4_K -> q4_k(src, at, dst, y);
                case Q5_K -> q5_k(src, at, dst, y);
                case Q6_K -> q6_k(src, at, dst, y);
                case IQ4_NL -> iq4_nl(src, at, dst, y);
                case IQ4_XS -> iq4_xs(src, at, dst, y);
                default -> throw new AssertionError(type);
            }
        }
    }

    // ---- 32-element blocks ----------------------------------------------------------------

    /** Q8_0: fp16 d, int8 q[32]; x = d * q. */
    private static void q8_0(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        for (int j = 0; j < 32; j++) y[o + j] = s.get(ValueLayout.JAVA_BYTE, at + 2 + j) * d;
    }

    /** Q4_0: fp16 d, 16 bytes of nibbles; low nibbles are elements 0..15, high nibbles 16..31; x = d * (q - 8). */
    private static void q4_0(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 2 + j);
            y[o + j] = ((q & 0xF) - 8) * d;
            y[o + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    /** Q4_1: fp16 d, fp16 m, 16 bytes of nibbles; x = d * q + m. */
    private static void q4_1(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        float m = fp16ToFloat(u16(s, at + 2));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 4 + j);
            y[o + j] = (q & 0xF) * d + m;
            y[o + j + 16] = (q >>> 4) * d + m;
        }
    }

    /** Q5_0: fp16 d, uint32 qh (fifth bits, bit j for element j), 16 bytes of nibbles; x = d * (q - 16). */
    private static void q5_0(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        int qh = s.get(I32, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 6 + j);
            int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
            int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
            y[o + j] = (lo - 16) * d;
            y[o + j + 16] = (hi - 16) * d;
        }
    }

    /** Q5_1: fp16 d, fp16 m, uint32 qh, 16 bytes of nibbles; x = d * q + m. */
    private static void q5_1(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        float m = fp16ToFloat(u16(s, at + 2));
        int qh = s.get(I32, at + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 8 + j);
            int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
            int hi = (q >>> 4) | (((qh >>> (j + 16)) & 1) << 4);
            y[o + j] = lo * d + m;
            y[o + j + 16] = hi * d + m;
        }
    }

    /** IQ4_NL: fp16 d, 16 bytes of nibbles indexing a non-linear table; x = d * level[q]. */
    private static void iq4_nl(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 2 + j);
            y[o + j] = d * IQ4_NL_LEVELS[q & 0xF];
            y[o + j + 16] = d * IQ4_NL_LEVELS[q >>> 4];
        }
    }

    // ---- 256-element super-blocks (K-quants) -----------------------------------------------

    /** Q8_K: f32 d, int8 q[256], int16 bsums[16] (sums of 16 q's, not needed here); x = d * q. */
    private static void q8_k(MemorySegment s, long at, float[] y, int o) {
        float d = s.get(F32, at);
        for (int j = 0; j < 256; j++) y[o + j] = d * s.get(ValueLayout.JAVA_BYTE, at + 4 + j);
    }

    /**
     * Q2_K: scales[16] (low nibble: scale, high nibble: min, per 16 elements), qs[64] (2-bit codes),
     * fp16 d, fp16 dmin. x = d*scale * q - dmin*min. Each 128-element half uses 32 bytes of qs; the
     * four 32-element groups of a half take bit pairs 0-1, 2-3, 4-5, 6-7 of those bytes.
     */
    private static void q2_k(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at + 80));
        float min = fp16ToFloat(u16(s, at + 82));
        int is = 0;
        for (int half = 0; half < 2; half++) {
            long q = at + 16 + 32L * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    int sc = u8(s, at + is++);
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; l++) {
                        y[o++] = dl * ((u8(s, q + 16 * part + l) >>> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /**
     * Q3_K: hmask[32] (third bits), qs[64] (low 2 bits), scales[12] (sixteen 6-bit signed scales,
     * offset by 32), fp16 d. x = d*(scale-32) * (q - (high bit set ? 0 : 4)).
     */
    private static void q3_k(MemorySegment s, long at, float[] y, int o) {
        long hmask = at;
        long qs = at + 32;
        long scales = at + 96;
        float dAll = fp16ToFloat(u16(s, at + 108));
        int is = 0;
        int m = 1;
        for (int half = 0; half < 2; half++) {
            long q = qs + 32L * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    float dl = dAll * (q3kScale(s, scales, is++) - 32);
                    for (int l = 0; l < 16; l++) {
                        int idx = 16 * part + l;
                        int low = (u8(s, q + idx) >>> shift) & 3;
                        int sub = (u8(s, hmask + idx) & m) != 0 ? 0 : 4;
                        y[o++] = dl * (low - sub);
                    }
                }
                m <<= 1;
            }
        }
    }

    /**
     * The i-th 6-bit Q3_K scale: its low four bits are a nibble of bytes 0..7 (low nibbles for
     * scales 0..7, high nibbles for 8..15); its high two bits are bit pair {@code i / 4} of byte
     * {@code 8 + i % 4}.
     */
    static int q3kScale(MemorySegment s, long scales, int i) {
        int low = i < 8 ? u8(s, scales + i) & 0xF : u8(s, scales + i - 8) >>> 4;
        int high = (u8(s, scales + 8 + (i & 3)) >>> (2 * (i >>> 2))) & 3;
        return low | (high << 4);
    }

    /**
     * The j-th (scale, min) pair of Q4_K / Q5_K, both 6 bits, packed in 12 bytes: pairs 0..3 are
     * the low 6 bits of bytes j and j+4; pairs 4..7 take their low 4 bits from the nibbles of byte
     * j+4 and their high 2 bits from the top bits of bytes j-4 (scale) and j (min).
     */
    static int kScale(MemorySegment s, long scales, int j) {
        if (j < 4) return u8(s, scales + j) & 63;
        return (u8(s, scales + j + 4) & 0xF) | ((u8(s, scales + j - 4) >>> 6) << 4);
    }

    static int kMin(MemorySegment s, long scales, int j) {
        if (j < 4) return u8(s, scales + j + 4) & 63;
        return (u8(s, scales + j + 4) >>> 4) | ((u8(s, scales + j) >>> 6) << 4);
    }

    /**
     * Q4_K: fp16 d, fp16 dmin, scales[12] (eight 6-bit scale/min pairs), qs[128]. Each 64-element
     * chunk uses 32 bytes: low nibbles are its first 32 elements, high nibbles the next 32.
     * x = d*scale * q - dmin*min.
     */
    private static void q4_k(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        float min = fp16ToFloat(u16(s, at + 2));
        long scales = at + 4;
        long qs = at + 16;
        for (int chunk = 0; chunk < 4; chunk++) {
            int is = 2 * chunk;
            float d1 = d * kScale(s, scales, is);
            float m1 = min * kMin(s, scales, is);
            float d2 = d * kScale(s, scales, is + 1);
            float m2 = min * kMin(s, scales, is + 1);
            long q = qs + 32L * chunk;
            for (int l = 0; l < 32; l++) y[o + l] = d1 * (u8(s, q + l) & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[o + 32 + l] = d2 * (u8(s, q + l) >>> 4) - m2;
            o += 64;
        }
    }

    /**
     * Q5_K: as Q4_K plus qh[32] (before qs) holding the fifth bits: chunk c takes bit 2c of qh[l]
     * for its first 32 elements and bit 2c+1 for the next 32.
     */
    private static void q5_k(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        float min = fp16ToFloat(u16(s, at + 2));
        long scales = at + 4;
        long qh = at + 16;
        long qs = at + 48;
        for (int chunk = 0; chunk < 4; chunk++) {
            int is = 2 * chunk;
            float d1 = d * kScale(s, scales, is);
            float m1 = min * kMin(s, scales, is);
            float d2 = d * kScale(s, scales, is + 1);
            float m2 = min * kMin(s, scales, is + 1);
            long q = qs + 32L * chunk;
            for (int l = 0; l < 32; l++) {
                int h = u8(s, qh + l);
                int lo = (u8(s, q + l) & 0xF) + (((h >>> (2 * chunk)) & 1) << 4);
                int hi = (u8(s, q + l) >>> 4) + (((h >>> (2 * chunk + 1)) & 1) << 4);
                y[o + l] = d1 * lo - m1;
                y[o + 32 + l] = d2 * hi - m2;
            }
            o += 64;
        }
    }

    /**
     * Q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16] (per 16 elements), fp16 d.
     * x = d*scale * (q - 32). Each 128-element half uses 64 bytes of ql and 32 of qh: element l
     * (0..31) of the four 32-element groups comes from ql[l] low, ql[l+32] low, ql[l] high,
     * ql[l+32] high nibbles, with bit pairs 0-1, 2-3, 4-5, 6-7 of qh[l].
     */
    private static void q6_k(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at + 208));
        for (int half = 0; half < 2; half++) {
            long ql = at + 64L * half;
            long qh = at + 128 + 32L * half;
            long sc = at + 192 + 8L * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(s, qh + l);
                int a = u8(s, ql + l);
                int b = u8(s, ql + l + 32);
                int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((b & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((a >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((b >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[o + l] = d * s.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                y[o + l + 32] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                y[o + l + 64] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                y[o + l + 96] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
            o += 128;
        }
    }

    /**
     * IQ4_XS: fp16 d, uint16 scales_h, scales_l[4], qs[128]. Eight 32-element sub-blocks, each with
     * a 6-bit scale (low 4 bits: nibble ib%2 of scales_l[ib/2]; high 2 bits: bit pair ib of
     * scales_h) offset by 32, and IQ4_NL-style nibbles. x = d*(scale-32) * level[q].
     */
    private static void iq4_xs(MemorySegment s, long at, float[] y, int o) {
        float d = fp16ToFloat(u16(s, at));
        int scalesH = u16(s, at + 2);
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((u8(s, at + 4 + ib / 2) >>> (4 * (ib % 2))) & 0xF) | (((scalesH >>> (2 * ib)) & 3) << 4);
            float dl = d * (ls - 32);
            long qs = at + 8 + 16L * ib;
            for (int j = 0; j < 16; j++) {
                int q = u8(s, qs + j);
                y[o + j] = dl * IQ4_NL_LEVELS[q & 0xF];
                y[o + j + 16] = dl * IQ4_NL_LEVELS[q >>> 4];
            }
            o += 32;
        }
    }

    private static int u8(MemorySegment s, long at) {
        return s.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    private static int u16(MemorySegment s, long at) {
        return s.get(U16, at) & 0xFFFF;
    }
}
