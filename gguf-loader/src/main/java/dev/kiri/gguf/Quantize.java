package dev.kiri.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Reference quantization from F32 to GGUF blocks, the inverse of {@link Dequant}.
 *
 * <ul>
 *   <li>F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 produce exactly the bytes that llama.cpp's
 *       quantizer writes without an importance matrix (round-to-nearest-even half floats, the
 *       same rounding of codes).</li>
 *   <li>Q4_K and Q6_K search, per sub-block, a small grid of candidate scales and keep the one with
 *       the least squared error after a least-squares refit. The result is not byte-identical to
 *       llama.cpp's (which weights the error towards large values) but has about the same or a lower
 *       RMSE, at about 25 ns (Q4_K) and 30 ns (Q6_K) per element on one core.</li>
 *   <li>Q5_K produces exactly llama.cpp's bytes without an importance matrix: its sub-block fit
 *       ({@link WeightedAffineFit}) repeats llama.cpp's weighted search operation by operation, in
 *       float and in the same order, so that the fixture model pins it down bit for bit. Its 17
 *       candidate passes cost about 80 ns per element on one core.</li>
 *   <li>Q3_K and Q2_K produce exactly llama.cpp's bytes without an importance matrix: Q3_K's
 *       symmetric sub-block fit ({@link Q3K#fitSymmetric}) and Q2_K's absolute-error affine fit
 *       ({@link WeightedAffineFit} in its absolute-error mode) repeat llama.cpp's float operations in
 *       its order, and both round with ggml's own float-to-int trick ({@link #ggmlNearestInt}).</li>
 * </ul>
 *
 * Every method is stateless and thread-safe: callers quantize different rows from different
 * threads. A row needs no allocation beyond a few small scratch arrays.
 */
public final class Quantize {
    private Quantize() {
    }

    /** True if {@link #row} can produce this type. */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** F32 to IEEE half, rounding to nearest even (as the F16C instruction does). */
    public static short floatToFp16(float f) {
        return Float.floatToFloat16(f);
    }

    /** F32 to bfloat16, rounding to nearest even; NaN stays a (quiet) NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return (short) ((bits >>> 16) | 64);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /**
     * Quantizes {@code src} (length a multiple of the block size) into a new array of
     * {@code type.byteSize(src.length)} bytes.
     */
    public static byte[] quantize(GgmlType type, float[] src) {
        byte[] out = new byte[Math.toIntExact(type.byteSize(src.length))];
        row(type, src, 0, out, 0, src.length);
        return out;
    }

    /**
     * Quantizes {@code n} values {@code src[srcOff .. srcOff + n)} to {@code type.byteSize(n)} bytes
     * at {@code dst[dstOff ..]}.
     *
     * @throws UnsupportedOperationException if the type cannot be produced (the message names it)
     * @throws IllegalArgumentException      if {@code n} is not a whole number of blocks
     */
    public static void row(GgmlType type, float[] src, int srcOff, byte[] dst, int dstOff, int n) {
        if (!supports(type)) throw new UnsupportedOperationException("cannot quantize to type " + type.ggmlName());
        if (n < 0 || n % type.blockSize() != 0) {
            throw new IllegalArgumentException(n + " elements is not a whole number of " + type.ggmlName()
                    + " blocks of " + type.blockSize());
        }
        Objects.checkFromIndexSize(srcOff, n, src.length);
        Objects.checkFromIndexSize(dstOff, Math.toIntExact(type.byteSize(n)), dst.length);
        switch (type) {
            case F32 -> {
                for (int i = 0; i < n; i++) putInt(dst, dstOff + 4 * i, Float.floatToRawIntBits(src[srcOff + i]));
            }
            case F16 -> {
                for (int i = 0; i < n; i++) putShort(dst, dstOff + 2 * i, floatToFp16(src[srcOff + i]));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) putShort(dst, dstOff + 2 * i, floatToBf16(src[srcOff + i]));
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) q8_0(src, srcOff + 32 * b, dst, dstOff + 34 * b);
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) q4_0(src, srcOff + 32 * b, dst, dstOff + 18 * b);
            }
            case Q4_1 -> {
                for (int b = 0; b < n / 32; b++) q4_1(src, srcOff + 32 * b, dst, dstOff + 20 * b);
            }
            case Q5_0 -> {
                for (int b = 0; b < n / 32; b++) q5_0(src, srcOff + 32 * b, dst, dstOff + 22 * b);
            }
            case Q5_1 -> {
                for (int b = 0; b < n / 32; b++) q5_1(src, srcOff + 32 * b, dst, dstOff + 24 * b);
            }
            case Q2_K -> new Q2K().row(src, srcOff, dst, dstOff, n / 256);
            case Q3_K -> new Q3K().row(src, srcOff, dst, dstOff, n / 256);
            case Q4_K -> new Q4K().row(src, srcOff, dst, dstOff, n / 256);
            case Q5_K -> new Q5K().row(src, srcOff, dst, dstOff, n / 256);
            case Q6_K -> new Q6K().row(src, srcOff, dst, dstOff, n / 256);
            default -> throw new AssertionError(type);
        }
    }

    /**
     * Quantizes {@code n} values into {@code dst} at {@code dstOffset}, for callers that write
     * straight into a mapped file or native buffer.
     */
    public static void row(GgmlType type, float[] src, int srcOff, MemorySegment dst, long dstOffset, int n) {
        if (!supports(type)) throw new UnsupportedOperationException("cannot quantize to type " + type.ggmlName());
        byte[] tmp = new byte[Math.toIntExact(type.byteSize(n))];
        row(type, src, srcOff, tmp, 0, n);
        MemorySegment.copy(tmp, 0, dst, ValueLayout.JAVA_BYTE, dstOffset, tmp.length);
    }

    // ---- 32-element blocks, byte-exact with llama.cpp -------------------------------------

    /** Q8_0: d = max|x| / 127, q = round-half-away(x / d). */
    private static void q8_0(float[] x, int o, byte[] y, int p) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putShort(y, p, floatToFp16(d));
        for (int j = 0; j < 32; j++) y[p + 2 + j] = (byte) roundHalfAway(x[o + j] * id);
    }

    /**
     * Q4_0: the value of largest magnitude maps to code 0 (-8 after the offset), so d = max / -8
     * keeps its sign; the other codes are (x / d + 8.5) truncated, capped at 15.
     */
    private static void q4_0(float[] x, int o, byte[] y, int p) {
        float max = signedAbsMax(x, o, 32);
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putShort(y, p, floatToFp16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[o + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[o + 16 + j] * id + 8.5f));
            y[p + 2 + j] = (byte) (lo | (hi << 4));
        }
    }

    /** Q4_1: d = (max - min) / 15, m = min, codes (x - min) / d + 0.5 truncated, capped at 15. */
    private static void q4_1(float[] x, int o, byte[] y, int p) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        float d = (max - min) / 15;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putShort(y, p, floatToFp16(d));
        putShort(y, p + 2, floatToFp16(min));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) ((x[o + j] - min) * id + 0.5f));
            int hi = Math.min(15, (int) ((x[o + 16 + j] - min) * id + 0.5f));
            y[p + 4 + j] = (byte) (lo | (hi << 4));
        }
    }

    /** Q5_0: as Q4_0 with 5-bit codes: d = max / -16, codes capped at 31; fifth bits go to qh. */
    private static void q5_0(float[] x, int o, byte[] y, int p) {
        float max = signedAbsMax(x, o, 32);
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putShort(y, p, floatToFp16(d));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(31, (int) (x[o + j] * id + 16.5f));
            int hi = Math.min(31, (int) (x[o + 16 + j] * id + 16.5f));
            y[p + 6 + j] = (byte) ((lo & 0xF) | ((hi & 0xF) << 4));
            qh |= ((lo >>> 4) & 1) << j;
            qh |= ((hi >>> 4) & 1) << (j + 16);
        }
        putInt(y, p + 2, qh);
    }

    /** Q5_1: as Q4_1 with 5-bit codes: d = (max - min) / 31. */
    private static void q5_1(float[] x, int o, byte[] y, int p) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        float d = (max - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        putShort(y, p, floatToFp16(d));
        putShort(y, p + 2, floatToFp16(min));
        int qh = 0;
        for (int j = 0; j < 16; j++) {
            // No cap, as in llama.cpp: the code is taken modulo 256, then its low 5 bits are stored.
            int lo = ((int) ((x[o + j] - min) * id + 0.5f)) & 0xFF;
            int hi = ((int) ((x[o + 16 + j] - min) * id + 0.5f)) & 0xFF;
            y[p + 8 + j] = (byte) ((lo & 0xF) | ((hi & 0xF) << 4));
            qh |= ((lo >>> 4) & 1) << j;
            qh |= ((hi >>> 4) & 1) << (j + 16);
        }
        putInt(y, p + 4, qh);
    }

    /**
     * The element of largest magnitude of {@code x[o..o+n)} (the first one on ties), with its sign;
     * 0 if all are 0. ggml's rule for the symmetric scales (Q8_0, Q8_K, Q6_K's sub-blocks), shared
     * with the kernels' activation quantization, which must agree with it bit for bit.
     */
    public static float signedAbsMax(float[] x, int o, int n) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < n; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        return max;
    }

    /** C's roundf: halves round away from zero (Java's Math.round rounds them up). */
    private static int roundHalfAway(float v) {
        return v < 0 ? -Math.round(-v) : Math.round(v);
    }

    /** Round half to even, as ggml's nearest_int does for the K-quants. */
    private static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    /**
     * ggml's nearest_int bit for bit: adding 1.5 * 2^23 leaves the rounded (half to even) integer in
     * the low mantissa bits. Equal to {@link #nearestInt} for |v| < 2^22; beyond that (a huge ratio
     * from a tiny divisor, or an infinity) it gives llama.cpp's wrapped value rather than a saturated
     * one, which only matters to byte-exactness once the caller clamps it.
     */
    static int ggmlNearestInt(float v) {
        return (Float.floatToRawIntBits(v + 12582912f) & 0x007FFFFF) - 0x00400000;
    }

    // ---- K-quants: 256-element super-blocks -----------------------------------------------

    /**
     * Q3_K: sixteen 16-element sub-blocks, each x ≈ scale * q with q in -4..3; the scales are signed
     * 6-bit multiples of the super-block's fp16 d. Layout: hmask[32] (the third bit of code j is bit
     * j / 32 of hmask[j % 32]), qs[64] (low two bits, four codes 32 apart per byte in each 128-element
     * half), scales[12] (low nibbles in bytes 0..7, high bit pairs in bytes 8..11), then d.
     *
     * <p>Byte-exact with llama.cpp's reference quantizer without an importance matrix: each sub-block's
     * scale comes from {@link #fitSymmetric}; the scale of largest magnitude maps to the 6-bit code -32,
     * and every value is then rounded against the scale it will be decoded with.
     */
    private static final class Q3K {
        private static final int NMAX = 4;
        private final float[] scales = new float[16];
        private final byte[] codes = new byte[256];

        void row(float[] x, int o, byte[] y, int p, int blocks) {
            for (int b = 0; b < blocks; b++) block(x, o + 256 * b, y, p + 110 * b);
        }

        private void block(float[] x, int o, byte[] y, int p) {
            float amax = 0;
            float maxScale = 0;
            for (int j = 0; j < 16; j++) {
                scales[j] = fitSymmetric(x, o + 16 * j, codes, 16 * j);
                float a = Math.abs(scales[j]);
                if (a > amax) {
                    amax = a;
                    maxScale = scales[j];
                }
            }
            int sc = p + 96;
            java.util.Arrays.fill(y, sc, sc + 12, (byte) 0);
            if (maxScale != 0) {
                float toCode = -32f / maxScale;
                for (int j = 0; j < 16; j++) {
                    // llama.cpp keeps the rounded value in an int8 before clamping it.
                    int l = Math.clamp((byte) ggmlNearestInt(toCode * scales[j]), -32, 31) + 32;
                    if (j < 8) y[sc + j] = (byte) (l & 0xF);
                    else y[sc + j - 8] |= (byte) ((l & 0xF) << 4);
                    y[sc + 8 + j % 4] |= (byte) ((l >>> 4) << (2 * (j / 4)));
                }
                putShort(y, p + 108, floatToFp16(1 / toCode));
            } else {
                putShort(y, p + 108, floatToFp16(0f));
            }

            // Round every value against its decoded scale. A sub-block whose scale code is 32 (a zero
            // scale) keeps its fit's codes, which llama.cpp writes although they decode to 0.
            float d = Float.float16ToFloat(getShort(y, p + 108));
            for (int j = 0; j < 16; j++) {
                int low = j < 8 ? y[sc + j] & 0xF : (y[sc + j - 8] & 0xFF) >>> 4;
                int high = ((y[sc + 8 + j % 4] & 0xFF) >>> (2 * (j / 4))) & 3;
                float sd = d * ((low | (high << 4)) - 32);
                if (sd == 0) continue;
                for (int l = 0; l < 16; l++) {
                    codes[16 * j + l] = (byte) (Math.clamp(ggmlNearestInt(x[o + 16 * j + l] / sd), -4, 3) + 4);
                }
            }

            int hmask = p;
            int qs = p + 32;
            java.util.Arrays.fill(y, hmask, hmask + 32, (byte) 0);
            for (int j = 0; j < 256; j++) {
                if (codes[j] > 3) {
                    y[hmask + j % 32] |= (byte) (1 << (j / 32));
                    codes[j] -= 4;
                }
            }
            for (int h = 0; h < 2; h++) {
                int c = 128 * h;
                for (int l = 0; l < 32; l++) {
                    y[qs + 32 * h + l] = (byte) (codes[c + l] | (codes[c + l + 32] << 2)
                            | (codes[c + l + 64] << 4) | (codes[c + l + 96] << 6));
                }
            }
        }

        /**
         * llama.cpp's symmetric 3-bit fit of x ≈ scale * q (q in -4..3) to the 16 values at {@code o},
         * weighting each value by x²: codes start from the mapping of the value of largest magnitude
         * to -4; then up to five sweeps move single codes to the value's best code under the current
         * least-squares scale, keeping a move only if it raises sumXL² / sumL2 (the error the scale
         * removes). Returns that scale and leaves the codes, offset by 4, at {@code codes[at ..]}. An
         * all-(near-)zero sub-block gives scale 0 and codes 0 (not 4), as in llama.cpp.
         *
         * <p>Float operations in llama.cpp's order, so that the codes and hence the bytes agree.
         */
        static float fitSymmetric(float[] x, int o, byte[] codes, int at) {
            float max = 0;
            float amax = 0;
            for (int i = 0; i < 16; i++) {
                float a = Math.abs(x[o + i]);
                if (a > amax) {
                    amax = a;
                    max = x[o + i];
                }
            }
            if (amax < 1e-15f) {
                java.util.Arrays.fill(codes, at, at + 16, (byte) 0);
                return 0f;
            }
            float inv = -NMAX / max;
            float sumLX = 0;
            float sumL2 = 0;
            for (int i = 0; i < 16; i++) {
                float v = x[o + i];
                int l = Math.clamp(ggmlNearestInt(inv * v), -NMAX, NMAX - 1);
                codes[at + i] = (byte) l;
                float w = v * v;
                sumLX += w * v * l;
                sumL2 += w * l * l;
            }
            for (int sweep = 0; sweep < 5; sweep++) {
                int changed = 0;
                for (int i = 0; i < 16; i++) {
                    float v = x[o + i];
                    float w = v * v;
                    int cur = codes[at + i];
                    float slx = sumLX - w * v * cur;
                    if (slx > 0) {
                        float sl2 = sumL2 - w * cur * cur;
                        int l = Math.clamp(ggmlNearestInt(v * sl2 / slx), -NMAX, NMAX - 1);
                        if (l != cur) {
                            slx += w * v * l;
                            sl2 += w * l * l;
                            if (sl2 > 0 && slx * slx * sumL2 > sumLX * sumLX * sl2) {
                                codes[at + i] = (byte) l;
                                sumLX = slx;
                                sumL2 = sl2;
                                changed++;
                            }
                        }
                    }
                }
                if (changed == 0) break;
            }
            for (int i = 0; i < 16; i++) codes[at + i] += NMAX;
            return sumL2 > 0 ? sumLX / sumL2 : 0f;
        }
    }

    /**
     * Q2_K: sixteen 16-element sub-blocks, each x ≈ scale * q - min with q in 0..3; scale and min are
     * 4-bit multiples of the super-block's fp16 d and dmin, packed as one byte per sub-block (scale in
     * the low nibble). Layout: scales[16], qs[64] (as Q3_K's low bits), d, dmin.
     *
     * <p>Byte-exact with llama.cpp's reference quantizer without an importance matrix: each sub-block is
     * fitted by {@link WeightedAffineFit} with weights |x| and the absolute error (with only four
     * levels, that keeps the large values from being rounded away), over 16 candidate steps
     * (nmax - 0.5 to nmax + 1 in tenths).
     */
    private static final class Q2K {
        private static final int LEVELS = 3;
        private final WeightedAffineFit fit = new WeightedAffineFit(16);
        private final float[] weights = new float[16];
        private final float[] scales = new float[16];
        private final float[] mins = new float[16];
        private final byte[] codes = new byte[256];
        private final int[] packed = new int[16];

        void row(float[] x, int o, byte[] y, int p, int blocks) {
            for (int b = 0; b < blocks; b++) block(x, o + 256 * b, y, p + 84 * b);
        }

        private void block(float[] x, int o, byte[] y, int p) {
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < 16; j++) {
                int s = o + 16 * j;
                for (int l = 0; l < 16; l++) weights[l] = Math.abs(x[s + l]);
                fit.fit(x, s, weights, LEVELS, -0.5f, 0.1f, 15, true, codes, 16 * j);
                scales[j] = fit.scale;
                mins[j] = fit.min;
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            // Each scale byte is built as llama.cpp's uint8_t: the scale code stored whole, then the
            // min code shifted in on top (both are 0..15 for any finite fit).
            java.util.Arrays.fill(packed, 0);
            if (maxScale > 0) {
                float toCode = 15f / maxScale;
                for (int j = 0; j < 16; j++) packed[j] = ggmlNearestInt(toCode * scales[j]) & 0xFF;
                putShort(y, p + 80, floatToFp16(maxScale / 15f));
            } else {
                putShort(y, p + 80, floatToFp16(0f));
            }
            if (maxMin > 0) {
                float toCode = 15f / maxMin;
                for (int j = 0; j < 16; j++) packed[j] = (packed[j] | (ggmlNearestInt(toCode * mins[j]) << 4)) & 0xFF;
                putShort(y, p + 82, floatToFp16(maxMin / 15f));
            } else {
                putShort(y, p + 82, floatToFp16(0f));
            }
            for (int j = 0; j < 16; j++) y[p + j] = (byte) packed[j];

            // Round against the decoded scale and min; a sub-block whose scale code is 0 keeps its fit's codes.
            float d = Float.float16ToFloat(getShort(y, p + 80));
            float dmin = Float.float16ToFloat(getShort(y, p + 82));
            for (int j = 0; j < 16; j++) {
                float sd = d * (packed[j] & 0xF);
                if (sd == 0) continue;
                float sm = dmin * (packed[j] >>> 4);
                for (int l = 0; l < 16; l++) {
                    codes[16 * j + l] = (byte) Math.clamp(ggmlNearestInt((x[o + 16 * j + l] + sm) / sd), 0, LEVELS);
                }
            }
            int qs = p + 16;
            for (int h = 0; h < 2; h++) {
                int c = 128 * h;
                for (int l = 0; l < 32; l++) {
                    y[qs + 32 * h + l] = (byte) (codes[c + l] | (codes[c + l + 32] << 2)
                            | (codes[c + l + 64] << 4) | (codes[c + l + 96] << 6));
                }
            }
        }
    }

    /**
     * Q4_K: eight 32-element sub-blocks, each x ≈ scale * q - min with q in 0..15; the eight
     * scales and mins are themselves 6-bit multiples of the super-block's fp16 d and dmin.
     */
    private static final class Q4K {
        /** Candidate step sizes tried per sub-block, spread over ±1 code around the min/max mapping. */
        private static final int CANDIDATES = 11;
        private final float[] scales = new float[8];
        private final float[] mins = new float[8];
        private final byte[] codes = new byte[256];
        private final int[] trial = new int[32];
        private final float[] shifted = new float[32];
        private final int[] packedScale = new int[8];
        private final int[] packedMin = new int[8];

        void row(float[] x, int o, byte[] y, int p, int blocks) {
            for (int b = 0; b < blocks; b++) block(x, o + 256 * b, y, p + 144 * b);
        }

        private void block(float[] x, int o, byte[] y, int p) {
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < 8; j++) {
                fitAffine(x, o + 32 * j, j);
                maxScale = Math.max(maxScale, scales[j]);
                maxMin = Math.max(maxMin, mins[j]);
            }
            writeScalesAndMins(scales, mins, maxScale, maxMin, packedScale, packedMin, y, p);

            // Round every element against the scale and min it will actually be decoded with.
            float d = Float.float16ToFloat(getShort(y, p));
            float dmin = Float.float16ToFloat(getShort(y, p + 2));
            for (int j = 0; j < 8; j++) {
                float sd = d * packedScale[j];
                float sm = dmin * packedMin[j];
                for (int l = 0; l < 32; l++) {
                    int q = sd == 0 ? 0 : nearestInt((x[o + 32 * j + l] + sm) / sd);
                    codes[32 * j + l] = (byte) Math.clamp(q, 0, 15);
                }
            }
            // Each 64-element chunk: first 32 codes in the low nibbles, next 32 in the high nibbles.
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    y[p + 16 + 32 * c + l] = (byte) (codes[64 * c + l] | (codes[64 * c + 32 + l] << 4));
                }
            }
        }

        /**
         * Fits x ≈ scale * q - min (q in 0..15, min ≥ 0) to the 32 values at {@code o}, least
         * squared error first. For each candidate step size around (max - min) / 15 the codes are
         * rounded, then scale and min are refitted to those codes by least squares; the candidate
         * with the smallest error wins. Stores scales[j] and mins[j].
         */
        private void fitAffine(float[] x, int o, int j) {
            final int n = 32;
            final int qmax = 15;
            float lo = x[o];
            float hi = x[o];
            float sumX = 0;
            float sumX2 = 0;
            for (int i = 0; i < n; i++) {
                float v = x[o + i];
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
                sumX += v;
                sumX2 += v * v;
            }
            lo = Math.min(lo, 0f); // the offset is a subtracted min, never an added one
            if (hi == lo) {
                scales[j] = 0;
                mins[j] = -lo;
                return;
            }
            float range = hi - lo;
            for (int i = 0; i < n; i++) shifted[i] = x[o + i] - lo;
            // Starting point: the plain min/max mapping, scale = range / 15, offset = lo.
            float bestScale = range / qmax;
            float bestOffset = lo;
            float bestErr = 0;
            for (int i = 0; i < n; i++) {
                int q = Math.clamp(nearestInt(shifted[i] / bestScale), 0, qmax);
                float diff = bestScale * q + lo - x[o + i];
                bestErr += diff * diff;
            }
            for (int c = 0; c < CANDIDATES; c++) {
                float inv = (qmax - 1f + 2f * c / (CANDIDATES - 1)) / range;
                int sumL = 0;
                int sumL2 = 0;
                float sumXL = 0;
                for (int i = 0; i < n; i++) {
                    int q = Math.clamp(nearestInt(inv * shifted[i]), 0, qmax);
                    trial[i] = q;
                    sumL += q;
                    sumL2 += q * q;
                    sumXL += x[o + i] * q;
                }
                float det = (float) n * sumL2 - (float) sumL * sumL;
                if (det <= 0) continue;
                float scale = (n * sumXL - sumX * sumL) / det;
                float offset = (sumL2 * sumX - sumL * sumXL) / det;
                if (offset > 0) { // would need an added min: refit through zero instead
                    offset = 0;
                    scale = sumXL / sumL2;
                }
                // Σ (scale q + offset - x)², expanded so that no second pass is needed.
                float err = scale * scale * sumL2 + 2 * scale * offset * sumL - 2 * scale * sumXL
                        + offset * offset * n - 2 * offset * sumX + sumX2;
                if (err < bestErr) {
                    bestErr = err;
                    bestScale = scale;
                    bestOffset = offset;
                }
            }
            scales[j] = bestScale;
            mins[j] = -bestOffset;
        }
    }

    /**
     * Writes eight 6-bit scales and mins in the 12-byte K-quant layout: pairs 0..3 in the low six
     * bits of bytes 0..3 (scales) and 4..7 (mins); pairs 4..7 as nibbles of bytes 8..11 (scale low,
     * min high) with their top two bits in the spare top bits of bytes 0..7.
     */
    static void packScalesAndMins(int[] sc, int[] mn, byte[] y, int p) {
        int[] b = new int[12];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                b[j] = sc[j];
                b[j + 4] = mn[j];
            } else {
                b[j + 4] = (sc[j] & 0xF) | ((mn[j] & 0xF) << 4);
                b[j - 4] |= (sc[j] >>> 4) << 6;
                b[j] |= (mn[j] >>> 4) << 6;
            }
        }
        for (int i = 0; i < 12; i++) y[p + i] = (byte) b[i];
    }

    /**
     * Writes the 16-byte head of a Q4_K / Q5_K super-block at {@code y[p..]}: fp16 d = maxScale / 63 and
     * dmin = maxMin / 63, then the eight sub-block scales and mins as 6-bit multiples of them (left in
     * {@code packedScale} and {@code packedMin} for the caller's rounding of the codes). A multiple is
     * rounded half to even, kept to its low eight bits and capped at 63, as llama.cpp stores it in a
     * byte before the cap; the sub-block fits never give a negative scale or min, so only the cap acts.
     */
    private static void writeScalesAndMins(float[] scales, float[] mins, float maxScale, float maxMin,
                                           int[] packedScale, int[] packedMin, byte[] y, int p) {
        float toScale = maxScale > 0 ? 63f / maxScale : 0f;
        float toMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++) {
            packedScale[j] = Math.min(63, nearestInt(toScale * scales[j]) & 0xFF);
            packedMin[j] = Math.min(63, nearestInt(toMin * mins[j]) & 0xFF);
        }
        putShort(y, p, floatToFp16(maxScale / 63f));
        putShort(y, p + 2, floatToFp16(maxMin / 63f));
        packScalesAndMins(packedScale, packedMin, y, p + 4);
    }

    /**
     * Q5_K: as Q4_K (eight 32-element sub-blocks, x ≈ scale * q - min, the same 16-byte head) with
     * q in 0..31; the fifth bits go to 32 bytes of qh before the 128 bytes of low nibbles.
     * Byte-exact with llama.cpp's reference quantizer without an importance matrix: each sub-block is
     * fitted by {@link WeightedAffineFit} with weights rms(sub-block) + |x|, which protects the large
     * values, and its 16 candidate step sizes (nmax - 0.5 to nmax + 1 in tenths).
     */
    private static final class Q5K {
        private static final int LEVELS = 31;
        private static final float FIRST_STEP = -0.5f;
        private static final float STEP = 0.1f;
        private static final int STEPS = 15;
        private final WeightedAffineFit fit = new WeightedAffineFit(32);
        private final float[] weights = new float[32];
        private final float[] scales = new float[8];
        private final float[] mins = new float[8];
        private final byte[] codes = new byte[256];
        private final int[] packedScale = new int[8];
        private final int[] packedMin = new int[8];

        void row(float[] x, int o, byte[] y, int p, int blocks) {
            for (int b = 0; b < blocks; b++) block(x, o + 256 * b, y, p + 176 * b);
        }

        private void block(float[] x, int o, byte[] y, int p) {
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < 8; j++) {
                int s = o + 32 * j;
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += x[s + l] * x[s + l];
                float rms = (float) Math.sqrt(sumX2 / 32); // float sqrt, correctly rounded either way
                for (int l = 0; l < 32; l++) weights[l] = rms + Math.abs(x[s + l]);
                fit.fit(x, s, weights, LEVELS, FIRST_STEP, STEP, STEPS, false, codes, 32 * j);
                scales[j] = fit.scale;
                mins[j] = fit.min;
                // Strict comparisons from 0, as llama.cpp: a NaN or a negative never becomes the maximum.
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            writeScalesAndMins(scales, mins, maxScale, maxMin, packedScale, packedMin, y, p);

            // Round every element against the scale and min it will be decoded with. A sub-block whose
            // scale rounds to 0 keeps the fit's codes: they decode to the same -min, but llama.cpp
            // writes them, and the bytes must agree.
            float d = Float.float16ToFloat(getShort(y, p));
            float dmin = Float.float16ToFloat(getShort(y, p + 2));
            for (int j = 0; j < 8; j++) {
                float sd = d * packedScale[j];
                if (sd == 0) continue;
                float sm = dmin * packedMin[j];
                for (int l = 0; l < 32; l++) {
                    codes[32 * j + l] = (byte) Math.clamp(nearestInt((x[o + 32 * j + l] + sm) / sd), 0, LEVELS);
                }
            }
            // Each 64-element chunk c: its first 32 codes in the low nibbles of qs[32c..32c+32) with
            // fifth bits in bit 2c of qh[0..32), the next 32 in the high nibbles with bit 2c+1.
            int qh = p + 16;
            int qs = p + 48;
            java.util.Arrays.fill(y, qh, qh + 32, (byte) 0);
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    int lo = codes[64 * c + l];
                    int hi = codes[64 * c + 32 + l];
                    y[qs + 32 * c + l] = (byte) ((lo & 0xF) | ((hi & 0xF) << 4));
                    y[qh + l] |= (byte) (((lo >>> 4) << (2 * c)) | ((hi >>> 4) << (2 * c + 1)));
                }
            }
        }
    }

    /**
     * llama.cpp's weighted fit of x ≈ scale * q - min (q in 0..nmax, min ≥ 0) to one sub-block, as its
     * K-quants use it without an importance matrix. It starts from the min/max mapping (the offset is
     * the smaller of the minimum and 0, the step (max - offset) / nmax), then for each of
     * {@code steps + 1} inverse steps (nmax + first + i * step) / (max - offset) rounds the codes
     * (x - offset) * inverse, refits scale and offset to them by weighted least squares (through zero
     * when the offset would come out positive), and keeps the candidate of least weighted squared
     * error (or, for Q2_K, of least weighted absolute error); ties keep the earlier one. As in llama.cpp, "offset" in the later candidates is the best
     * fit so far, not the minimum: once a refit wins, the search goes on around its offset.
     *
     * <p>Every operation is a float operation in llama.cpp's order (no fused multiply-adds; its
     * quantizers are built without them), since a one-ulp difference in a sum can change a rounded
     * code or the winner and so the bytes.
     */
    private static final class WeightedAffineFit {
        /** The fitted step. */
        float scale;
        /** The fitted min, subtracted: x ≈ scale * q - min. */
        float min;
        private final byte[] trial;

        WeightedAffineFit(int n) {
            trial = new byte[n];
        }

        /**
         * Fits {@code x[o .. o + n)} with weights {@code w[0 .. n)}; the codes go to {@code codes[at ..]}.
         * {@code absolute} measures the error as |diff| instead of diff² (the refit stays least squares).
         */
        void fit(float[] x, int o, float[] w, int nmax, float first, float step, int steps, boolean absolute,
                 byte[] codes, int at) {
            int n = trial.length;
            float lo = x[o];
            float hi = x[o];
            float sumW = w[0];
            float sumX = sumW * x[o];
            for (int i = 1; i < n; i++) {
                float v = x[o + i];
                if (v < lo) lo = v;
                if (v > hi) hi = v;
                sumW += w[i];
                sumX += w[i] * v;
            }
            if (lo > 0) lo = 0;
            if (hi == lo) {
                java.util.Arrays.fill(codes, at, at + n, (byte) 0);
                scale = 0;
                min = -lo;
                return;
            }
            float inv = nmax / (hi - lo);
            float bestScale = 1 / inv;
            float bestOffset = lo;
            float bestErr = 0;
            for (int i = 0; i < n; i++) {
                int q = Math.clamp(nearestInt(inv * (x[o + i] - bestOffset)), 0, nmax);
                codes[at + i] = (byte) q;
                float diff = bestScale * q + bestOffset - x[o + i];
                bestErr += w[i] * (absolute ? Math.abs(diff) : diff * diff);
            }
            for (int c = 0; c <= steps; c++) {
                inv = (first + step * c + nmax) / (hi - bestOffset);
                float sumL = 0;
                float sumL2 = 0;
                float sumXL = 0;
                for (int i = 0; i < n; i++) {
                    int q = Math.clamp(nearestInt(inv * (x[o + i] - bestOffset)), 0, nmax);
                    trial[i] = (byte) q;
                    sumL += w[i] * q;
                    sumL2 += w[i] * q * q;
                    sumXL += w[i] * q * x[o + i];
                }
                float det = sumW * sumL2 - sumL * sumL;
                if (!(det > 0)) continue;
                float s = (sumW * sumXL - sumX * sumL) / det;
                float offset = (sumL2 * sumX - sumL * sumXL) / det;
                if (offset > 0) { // would need an added min: refit through zero instead
                    offset = 0;
                    s = sumXL / sumL2;
                }
                float err = 0;
                for (int i = 0; i < n; i++) {
                    float diff = s * trial[i] + offset - x[o + i];
                    err += w[i] * (absolute ? Math.abs(diff) : diff * diff);
                }
                if (err < bestErr) {
                    System.arraycopy(trial, 0, codes, at, n);
                    bestErr = err;
                    bestScale = s;
                    bestOffset = offset;
                }
            }
            scale = bestScale;
            min = -bestOffset;
        }
    }

    /**
     * Q6_K: sixteen 16-element sub-blocks, each x ≈ scale * q with q in -32..31; the scales are
     * int8 multiples of the super-block's fp16 d.
     */
    private static final class Q6K {
        /** Candidates: 2 * STEPS + 1 step sizes, STEP codes apart, around the max / -32 mapping. */
        private static final int STEPS = 4;
        private static final float STEP = 0.225f;
        private final float[] scales = new float[16];
        private final byte[] codes = new byte[256];
        private final byte[] scaleCodes = new byte[16];

        void row(float[] x, int o, byte[] y, int p, int blocks) {
            for (int b = 0; b < blocks; b++) block(x, o + 256 * b, y, p + 210 * b);
        }

        private void block(float[] x, int o, byte[] y, int p) {
            float maxAbs = 0;
            float max = 0;
            for (int j = 0; j < 16; j++) {
                scales[j] = fitSymmetric(x, o + 16 * j);
                if (Math.abs(scales[j]) > maxAbs) {
                    maxAbs = Math.abs(scales[j]);
                    max = scales[j];
                }
            }
            if (maxAbs < 1e-15f) {
                java.util.Arrays.fill(y, p, p + 210, (byte) 0);
                return;
            }
            // The scale of largest magnitude becomes -128 (int8's extra negative step).
            float toCode = -128f / max;
            short dBits = floatToFp16(1 / toCode);
            for (int j = 0; j < 16; j++) scaleCodes[j] = (byte) Math.min(127, nearestInt(toCode * scales[j]));
            float d = Float.float16ToFloat(dBits);
            java.util.Arrays.fill(codes, (byte) 32);
            for (int j = 0; j < 16; j++) {
                float sd = d * scaleCodes[j];
                if (sd == 0) continue;
                for (int l = 0; l < 16; l++) {
                    codes[16 * j + l] = (byte) (Math.clamp(nearestInt(x[o + 16 * j + l] / sd), -32, 31) + 32);
                }
            }
            // Per 128-element half: ql gets low nibbles (elements l and l+64 share ql[l], l+32 and
            // l+96 share ql[l+32]); qh[l] gets the high bit pairs of elements l, l+32, l+64, l+96.
            for (int h = 0; h < 2; h++) {
                int c = 128 * h;
                int ql = p + 64 * h;
                int qh = p + 128 + 32 * h;
                for (int l = 0; l < 32; l++) {
                    int q1 = codes[c + l];
                    int q2 = codes[c + l + 32];
                    int q3 = codes[c + l + 64];
                    int q4 = codes[c + l + 96];
                    y[ql + l] = (byte) ((q1 & 0xF) | ((q3 & 0xF) << 4));
                    y[ql + l + 32] = (byte) ((q2 & 0xF) | ((q4 & 0xF) << 4));
                    y[qh + l] = (byte) ((q1 >>> 4) | ((q2 >>> 4) << 2) | ((q3 >>> 4) << 4) | ((q4 >>> 4) << 6));
                }
            }
            System.arraycopy(scaleCodes, 0, y, p + 192, 16);
            putShort(y, p + 208, dBits);
        }

        /**
         * Fits x ≈ scale * q (q in -32..31) to the 16 values at {@code o}, least squared error
         * first: candidate step sizes around max / -32 (the value of largest magnitude takes the
         * extra negative code), each refitted by least squares to its rounded codes.
         */
        private static float fitSymmetric(float[] x, int o) {
            float max = signedAbsMax(x, o, 16);
            if (Math.abs(max) < 1e-15f) return 0;
            float bestScale = 0;
            float bestGain = -1; // sumXL² / sumL2: how much the least-squares scale removes from Σx²
            for (int step = -STEPS; step <= STEPS; step++) {
                float inv = -(32 + STEP * step) / max;
                float sumXL = 0;
                int sumL2 = 0;
                for (int i = 0; i < 16; i++) {
                    float v = x[o + i];
                    int q = Math.clamp(nearestInt(inv * v), -32, 31);
                    sumXL += v * q;
                    sumL2 += q * q;
                }
                if (sumL2 > 0) {
                    float gain = sumXL * sumXL / sumL2;
                    if (gain > bestGain) {
                        bestGain = gain;
                        bestScale = sumXL / sumL2;
                    }
                }
            }
            return bestScale;
        }
    }

    private static void putShort(byte[] b, int at, short v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
    }

    private static short getShort(byte[] b, int at) {
        return (short) ((b[at] & 0xFF) | (b[at + 1] << 8));
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
        b[at + 2] = (byte) (v >> 16);
        b[at + 3] = (byte) (v >> 24);
    }
}
