package dev.kiri.kernels.matmul;

import dev.kiri.gguf.Quantize;

/**
 * Activation rows converted to a {@link VecDotType}, in buffers that grow to the largest shape seen
 * and are then reused (no allocation per call once warm).
 *
 * <p>Quantization follows llama.cpp's x86 code: Q8_0/Q8_1 take {@code d = amax/127} (stored rounded
 * to F16, which is the value the dot product uses), {@code q = rint(x·127/amax)}, and Q8_1 adds
 * {@code s = d·Σq} rounded to F16. Q8_K takes the value of largest magnitude {@code max},
 * {@code q = min(127, rint(x·(-127/max)))}, {@code d = 1/(-127/max)} kept as F32, and the sums of
 * each 16 values. {@code rint} rounds half to even, like ggml's {@code nearest_int} and
 * {@code _mm256_round_ps}.
 */
final class Activations {
    VecDotType type;
    int cols;
    int rows;

    /** F32/F16/BF16 forms: the values (for F32 possibly the caller's array), row i at {@code fOff + i*cols}. */
    float[] f;
    int fOff;
    /** Q8 forms: the int8 values, row i at {@code i*cols} (filled when asked: the scalar path, Q8_0 weights). */
    byte[] q = new byte[0];
    /** Q8 forms: the same values widened to 16 bits (filled when the vector path asks). */
    short[] q16 = new short[0];
    /** Q8 forms: per block scale; row i's blocks start at {@code i*cols/blockSize}. */
    float[] d = new float[0];
    /** Q8_1: per block {@code d·Σq} (F16-rounded). */
    float[] s = new float[0];
    /**
     * Q8 forms, vector path: the values of each group of 32 as 16 ints, two values per int, in the
     * order of weights read as bytes packed four to an int lane: for group g and i &lt; 8,
     * {@code xg[16g + i] = (q[32g+4i] << 16) + q[32g+4i+2]} and
     * {@code xg[16g + 8 + i] = (q[32g+4i+1] << 16) + q[32g+4i+3]}. An int lane of weights
     * {@code w0 + (w1 << 16)} (two 16-bit values, {@code w0 >= 0}) times the matching lane is, modulo
     * 2^32, {@code w0·x1 + ((w0·x0 + w1·x1) << 16)}: the pair's dot product in the upper half, which
     * {@code (p + 0x8000) >> 16} extracts exactly while the low part stays within ±2^15 and the
     * upper one within 16 signed bits. Weight lanes of that form come from 32 packed bytes with one
     * mask (even bytes) or a shift and a mask (odd bytes), with no widening shuffle.
     */
    int[] xg = new int[0];
    /**
     * Q8_0, vector path, rows of at most {@link #Q4_PAIRS_MAX_COLS} values: the values in the order
     * of Q4_0 weights read two blocks at a time as eight 32-bit lanes ({@link VectorDots#q4_0}).
     * Each row's blocks are taken in pairs (an odd last block is left out), {@link #Q4_PAIR} ints per
     * pair, row r's pair p at {@code (r·(nb/2) + p)·Q4_PAIR}: four groups of eight lanes, one per way
     * of taking two nibbles from an int lane of weights, lanes 0..3 from the first block and 4..7
     * from the second; for lane i &lt; 4 and a block's values q, group 0 holds
     * {@code (q[4i] << 16) + q[4i+2]} (the low nibbles of bytes 4i and 4i+2), group 1
     * {@code (q[4i+1] << 16) + q[4i+3]} (the odd bytes), groups 2 and 3 the same for
     * {@code q[16+…]} (the high nibbles); the swapped halves make a lane's product the pair's dot
     * product in its upper 16 bits, as for {@link #xg}. A fifth group holds, per lane,
     * {@code 0x8000 - ((8·Σq) << 16)} over the lane's eight values: added to the lane's summed
     * products it removes the weights' offset of 8 and rounds the upper half, so that an arithmetic
     * shift by 16 leaves the exact sum.
     */
    int[] xq4 = new int[0];
    /** Ints per block pair in {@link #xq4}. */
    static final int Q4_PAIR = 40;
    /**
     * The longest rows {@link #xq4} is filled for. Its 2.5 bytes per value stay in the 32 KiB L1
     * data cache beside the streaming weights up to here; at 8192 values (20 KiB) the pair kernel
     * measured 15 % slower than the 16-bit one, which longer rows keep (docs/KERNELS.md).
     */
    static final int Q4_PAIRS_MAX_COLS = 4096;
    /**
     * Q8_0, for weights interleaved in groups of eight rows ({@link Interleave}, {@link VectorDots#q4_0x8}):
     * {@link #Q4X8_BLOCK} ints per block, block b at {@code b·Q4X8_BLOCK}: for k &lt; 4, the pairs of
     * the nibbles that part k of an interleaved block holds, as two 16-bit values in the order of
     * the weights' 16-bit lanes (the first in the low half): {@code q[4k] | q[4k+2] << 16},
     * {@code q[4k+1] | q[4k+3] << 16}, {@code q[16+4k] | q[18+4k] << 16},
     * {@code q[17+4k] | q[19+4k] << 16}, then {@code 8·Σq} over the block (the weights' offset of 8).
     */
    int[] xq4x8 = new int[0];
    /** Ints per block in {@link #xq4x8}. */
    static final int Q4X8_BLOCK = 17;
    /**
     * The pairs of {@link #xq4x8} for the 512-bit kernels ({@link WideDots}), only with layout
     * {@link #Q4_X8_WIDE}: {@link #Q4L_BLOCK} longs per block, long {@code 4h + u} (h: parts 2h and
     * 2h + 1, u: the way the nibbles are taken) holding pair {@code 8h + u} of {@link #xq4x8} in its
     * low half and pair {@code 8h + 4 + u} in its high half.
     */
    long[] xq4l = new long[0];
    /** Longs per block in {@link #xq4l}. */
    static final int Q4L_BLOCK = 8;
    /**
     * Q8_0, for {@link Interleave}d Q8_0 weights ({@link VectorDots#q8_0x8}, {@link WideDots#q8_0x8}):
     * the values four to a long, {@link #Q8L_BLOCK} longs per block, long {@code 8b + m} holding values
     * {@code 32b + 4m .. 32b + 4m + 3} as 16-bit values, the first in the low bits: broadcast, it
     * meets the four values of each row that a part of the copy holds.
     */
    long[] xq8l = new long[0];
    /** Longs per block in {@link #xq8l}. */
    static final int Q8L_BLOCK = 8;
    /**
     * Q8_K, for Q5_K weights reordered by {@link Interleave} ({@link VectorDots#q5_Kx}): 128 ints per
     * block, block b at {@code 128b}: for part k &lt; 4, way u &lt; 4 and lane (sub-block) j &lt; 8, at
     * {@code 128b + 32k + 8u + j}, the swapped pair (as for {@link #xg}) of values {@code 8k + a} and
     * {@code 8k + a + 2} of sub-block j, with a = 0, 1, 4, 5 for u = 0..3 (the even and odd bytes'
     * low nibbles, then their high nibbles). With layout {@link #Q5_KX_WIDE}, for the 512-bit kernel
     * ({@link WideDots#q5_Kx}, which reads parts 2q and 2q + 1 in one vector), the same pairs at
     * {@code 128b + 64q + 16u + 8e + j} where this layout holds them at {@code 128b + 32(2q + e) + 8u + j}.
     */
    int[] xk = new int[0];
    /**
     * Q8_K, for Q4_K weights reordered by {@link Interleave} ({@link VectorDots#q4_Kx}): 256 shorts
     * per block, block b at {@code 256b}: for part k &lt; 4, way u &lt; 4 and sub-block j &lt; 8, at
     * {@code 256b + 64k + 16u + 2j} value {@code 8k + a} of sub-block j and at the next index value
     * {@code 8k + a + 2}, with a = 0, 1, 4, 5 for u = 0..3 (the values {@link #xk} pairs, unswapped).
     * With layout {@link #Q4_KX_WIDE}, for the 512-bit kernel ({@link WideDots#q4_Kx}, which reads
     * parts 2q and 2q + 1 in one vector), the same values in the order of such a vector: at
     * {@code 256b + 128q + 32u + 16e + i} what this layout holds at {@code 256b + 64(2q + e) + 16u + i}.
     */
    short[] xks = new short[0];
    /**
     * Q8_K, for Q6_K weights reordered by {@link Interleave} ({@link VectorDots#q6_Kx}): 128 ints per
     * block, at {@code 128b + 64h + 8w + j} the swapped pair of values {@code 16j + 2w} and
     * {@code 16j + 2w + 1} of half h (sub-block 8h + j). With layout {@link #Q6_KX_WIDE}, for the
     * 512-bit kernel ({@link WideDots#q6_Kx}, whose int lane 8h + j is sub-block 8h + j), the same
     * pairs at {@code 128b + 16w + 8h + j}.
     */
    int[] x6 = new int[0];
    /** Q8_0/Q8_1, vector path: per block {@code 8·d·Σq} (the offset correction of Q4_0-like weights). */
    float[] xsum = new float[0];
    /** Q8_K: per 16 values, the sum of the quantized values. */
    int[] bsum = new int[0];
    /** Q8_K, vector path: the same sums as 16-bit values (each at most 16·127). */
    short[] bsum16 = new short[0];
    /** Q8_K, vector path: per 32 values (sums of adjacent pairs of {@link #bsum}). */
    int[] bsum32 = new int[0];
    private float[] rounded = new float[0];

    /**
     * Converts {@code rows} rows of {@code cols} values at {@code x[xOff..]} to {@code t}.
     *
     * @param bytes  fill {@link #q}
     * @param shorts fill {@link #q16}
     */
    void prepare(VecDotType t, float[] x, int xOff, int cols, int rows, boolean bytes, boolean shorts) {
        prepare(t, x, xOff, cols, rows, bytes, shorts, NO_LAYOUT);
    }

    /** {@link #prepare}'s {@code layout}: no kernel-specific order beyond {@link #xg} (Q8_K with shorts). */
    static final int NO_LAYOUT = 0;
    /** {@link #xq4}, for the in-place Q4_0 pair kernel (rows of at most {@link #Q4_PAIRS_MAX_COLS}). */
    static final int Q4_PAIRS = 1;
    /** {@link #xq4x8}, for {@link Interleave}d Q4_0 weights. */
    static final int Q4_X8 = 2;
    /** {@link #xq4x8} and {@link #xq4l}, for {@link Interleave}d Q4_0 weights and the 512-bit kernels. */
    static final int Q4_X8_WIDE = 6;
    /** {@link #xq8l}, for {@link Interleave}d Q8_0 weights (both widths). */
    static final int Q8_X8 = 10;
    /** {@link #xks} instead of {@link #xg}, for {@link Interleave}d Q4_K weights (Q8_K activations). */
    static final int Q4_KX = 3;
    /** {@link #x6} instead of {@link #xg}, for {@link Interleave}d Q6_K weights (Q8_K activations). */
    static final int Q6_KX = 4;
    /** {@link #xk} instead of {@link #xg}, for {@link Interleave}d Q5_K weights (Q8_K activations). */
    static final int Q5_KX = 5;
    /** {@link #xks} in the order of the 512-bit Q4_K kernel ({@link WideDots#q4_Kx}). */
    static final int Q4_KX_WIDE = 7;
    /** {@link #x6} in the order of the 512-bit Q6_K kernel ({@link WideDots#q6_Kx}). */
    static final int Q6_KX_WIDE = 8;
    /** {@link #xk} in the order of the 512-bit Q5_K kernel ({@link WideDots#q5_Kx}). */
    static final int Q5_KX_WIDE = 9;

    /**
     * As above; {@code layout} (with {@code shorts}) also fills the order of the kernel that will
     * read them: one of the constants above.
     */
    void prepare(VecDotType t, float[] x, int xOff, int cols, int rows, boolean bytes, boolean shorts, int layout) {
        this.type = t;
        this.cols = cols;
        this.rows = rows;
        int n = Math.multiplyExact(cols, rows);
        switch (t) {
            case F32 -> {
                f = x;
                fOff = xOff;
            }
            case F16 -> {
                float[] r = roundedBuffer(n);
                for (int i = 0; i < n; i++) r[i] = Float.float16ToFloat(Float.floatToFloat16(x[xOff + i]));
                f = r;
                fOff = 0;
            }
            case BF16 -> {
                float[] r = roundedBuffer(n);
                for (int i = 0; i < n; i++) r[i] = roundBf16(x[xOff + i]);
                f = r;
                fOff = 0;
            }
            case Q8_0, Q8_1 -> {
                ensureQuantized(n, n / 32, bytes, shorts, t == VecDotType.Q8_1 ? n / 32 : 0, 0);
                for (int b = 0; b < n / 32; b++) quantizeQ8Block(x, xOff + b * 32, b, t == VecDotType.Q8_1, bytes, shorts);
                if (shorts && (layout == Q4_X8 || layout == Q4_X8_WIDE)) {
                    fillQ4x8(n / 32);
                    if (layout == Q4_X8_WIDE) fillQ4l(n / 32);
                } else if (shorts && layout == Q8_X8) {
                    fillQ8l(n / 32);
                } else if (shorts && layout == Q4_PAIRS && cols <= Q4_PAIRS_MAX_COLS) {
                    fillQ4Pairs();
                }
            }
            case Q8_K -> {
                ensureQuantized(n, n / 256, bytes, shorts, 0, n / 16);
                for (int b = 0; b < n / 256; b++) quantizeQ8KBlock(x, xOff + b * 256, b, bytes, shorts);
                if (shorts) {
                    if (bsum16.length < n / 16) bsum16 = new short[n / 16];
                    if (bsum32.length < n / 32) bsum32 = new int[n / 32];
                    for (int k = 0; k < n / 16; k++) bsum16[k] = (short) bsum[k];
                    for (int k = 0; k < n / 32; k++) bsum32[k] = bsum[2 * k] + bsum[2 * k + 1];
                    if (layout == Q4_KX || layout == Q4_KX_WIDE) {
                        fillQ4Kx(n, layout == Q4_KX_WIDE);
                    } else if (layout == Q5_KX || layout == Q5_KX_WIDE) {
                        fillQ5Kx(n, layout == Q5_KX_WIDE);
                    } else if (layout == Q6_KX || layout == Q6_KX_WIDE) {
                        fillQ6Kx(n, layout == Q6_KX_WIDE);
                    } else {
                        fillPairs(n);
                    }
                }
            }
        }
    }

    private void fillQ4x8(int blocks) {
        if (xq4x8.length < blocks * Q4X8_BLOCK) xq4x8 = new int[blocks * Q4X8_BLOCK];
        for (int b = 0; b < blocks; b++) {
            int q = 32 * b, at = Q4X8_BLOCK * b, sum = 0;
            for (int k = 0; k < 4; k++) {
                int v = q + 4 * k;
                xq4x8[at + 4 * k] = (q16[v + 2] << 16) | (q16[v] & 0xFFFF);
                xq4x8[at + 4 * k + 1] = (q16[v + 3] << 16) | (q16[v + 1] & 0xFFFF);
                xq4x8[at + 4 * k + 2] = (q16[v + 18] << 16) | (q16[v + 16] & 0xFFFF);
                xq4x8[at + 4 * k + 3] = (q16[v + 19] << 16) | (q16[v + 17] & 0xFFFF);
            }
            for (int j = 0; j < 32; j++) sum += q16[q + j];
            xq4x8[at + 16] = 8 * sum;
        }
    }

    private void fillQ8l(int blocks) {
        if (xq8l.length < blocks * Q8L_BLOCK) xq8l = new long[blocks * Q8L_BLOCK];
        for (int i = 0, v = 0; i < blocks * Q8L_BLOCK; i++, v += 4) {
            xq8l[i] = (q16[v] & 0xFFFFL) | (q16[v + 1] & 0xFFFFL) << 16 | (q16[v + 2] & 0xFFFFL) << 32 | (long) q16[v + 3] << 48;
        }
    }

    private void fillQ4l(int blocks) {
        if (xq4l.length < blocks * Q4L_BLOCK) xq4l = new long[blocks * Q4L_BLOCK];
        for (int b = 0; b < blocks; b++) {
            int at = Q4X8_BLOCK * b;
            for (int v = 0; v < Q4L_BLOCK; v++) {
                int low = xq4x8[at + 8 * (v / 4) + v % 4], high = xq4x8[at + 8 * (v / 4) + 4 + v % 4];
                xq4l[Q4L_BLOCK * b + v] = ((long) high << 32) | (low & 0xFFFFFFFFL);
            }
        }
    }

    private void fillQ4Pairs() {
        int nb = cols / 32, pairs = nb / 2;
        if (xq4.length < rows * pairs * Q4_PAIR) xq4 = new int[rows * pairs * Q4_PAIR];
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < pairs; p++) {
                int at = (r * pairs + p) * Q4_PAIR;
                for (int half = 0; half < 2; half++) {
                    int q = (r * nb + 2 * p + half) * 32;
                    for (int i = 0; i < 4; i++) {
                        int l = at + 4 * half + i, v = q + 4 * i;
                        xq4[l] = (q16[v] << 16) + q16[v + 2];
                        xq4[l + 8] = (q16[v + 1] << 16) + q16[v + 3];
                        xq4[l + 16] = (q16[v + 16] << 16) + q16[v + 18];
                        xq4[l + 24] = (q16[v + 17] << 16) + q16[v + 19];
                        int sum = q16[v] + q16[v + 1] + q16[v + 2] + q16[v + 3]
                                + q16[v + 16] + q16[v + 17] + q16[v + 18] + q16[v + 19];
                        xq4[l + 32] = 0x8000 - ((8 * sum) << 16);
                    }
                }
            }
        }
    }

    private void fillQ5Kx(int n, boolean wide) {
        if (xk.length < n / 2) xk = new int[n / 2];
        for (int b = 0; b < n / 256; b++) {
            for (int k = 0; k < 4; k++) {
                // Part k's 32 ints: ways 8 apart (narrow), or 16 apart beside part k ^ 1's (wide).
                int part = wide ? 128 * b + 64 * (k / 2) + 8 * (k % 2) : 128 * b + 32 * k;
                int way = wide ? 16 : 8;
                for (int j = 0; j < 8; j++) {
                    int v = 256 * b + 32 * j + 8 * k, o = part + j;
                    xk[o] = (q16[v] << 16) + q16[v + 2];
                    xk[o + way] = (q16[v + 1] << 16) + q16[v + 3];
                    xk[o + 2 * way] = (q16[v + 4] << 16) + q16[v + 6];
                    xk[o + 3 * way] = (q16[v + 5] << 16) + q16[v + 7];
                }
            }
        }
    }

    private void fillQ4Kx(int n, boolean wide) {
        if (xks.length < n) xks = new short[n];
        for (int b = 0; b < n / 256; b++) {
            for (int k = 0; k < 4; k++) {
                // Part k's 64 shorts: ways 16 apart (narrow), or 32 apart beside part k ^ 1's (wide).
                int part = wide ? 256 * b + 128 * (k / 2) + 16 * (k % 2) : 256 * b + 64 * k;
                int way = wide ? 32 : 16;
                for (int j = 0; j < 8; j++) {
                    int v = 256 * b + 32 * j + 8 * k, o = part + 2 * j;
                    xks[o] = q16[v];
                    xks[o + 1] = q16[v + 2];
                    xks[o + way] = q16[v + 1];
                    xks[o + way + 1] = q16[v + 3];
                    xks[o + 2 * way] = q16[v + 4];
                    xks[o + 2 * way + 1] = q16[v + 6];
                    xks[o + 3 * way] = q16[v + 5];
                    xks[o + 3 * way + 1] = q16[v + 7];
                }
            }
        }
    }

    private void fillQ6Kx(int n, boolean wide) {
        if (x6.length < n / 2) x6 = new int[n / 2];
        for (int b = 0; b < n / 256; b++) {
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 8; j++) {
                    for (int w = 0; w < 8; w++) {
                        int v = 256 * b + 128 * h + 16 * j + 2 * w;
                        int at = wide ? 128 * b + 16 * w + 8 * h + j : 128 * b + 64 * h + 8 * w + j;
                        x6[at] = (q16[v] << 16) + q16[v + 1];
                    }
                }
            }
        }
    }

    private void fillPairs(int n) {
        if (xg.length < n / 2) xg = new int[n / 2];
        for (int g = 0; g < n / 32; g++) {
            int q = 32 * g, o = 16 * g;
            for (int i = 0; i < 8; i++) {
                xg[o + i] = (q16[q + 4 * i] << 16) + q16[q + 4 * i + 2];
                xg[o + 8 + i] = (q16[q + 4 * i + 1] << 16) + q16[q + 4 * i + 3];
            }
        }
    }

    /** BF16 rounding as ggml does it: to nearest even, NaN kept quiet. */
    static float roundBf16(float v) {
        int u = Float.floatToRawIntBits(v);
        int h;
        if ((u & 0x7fffffff) > 0x7f800000) {
            h = (u >>> 16) | 64;
        } else {
            h = (u + (0x7fff + ((u >>> 16) & 1))) >>> 16;
        }
        return Float.intBitsToFloat(h << 16);
    }

    private float[] roundedBuffer(int n) {
        if (rounded.length < n) rounded = new float[n];
        return rounded;
    }

    private void ensureQuantized(int n, int blocks, boolean bytes, boolean shorts, int sums, int bsums) {
        if (bytes && q.length < n) q = new byte[n];
        if (shorts && q16.length < n) q16 = new short[n];
        if (d.length < blocks) d = new float[blocks];
        if (s.length < sums) s = new float[sums];
        if (shorts && xsum.length < blocks) xsum = new float[blocks];
        if (bsum.length < bsums) bsum = new int[bsums];
    }

    private void quantizeQ8Block(float[] x, int off, int block, boolean withSum, boolean bytes, boolean shorts) {
        float amax = q8_0Amax(x, off);
        float dv = amax / 127f;
        float id = q8_0Inverse(amax);
        int base = block * 32;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int v = q8_0Code(id, x[off + j]);
            sum += v;
            if (bytes) q[base + j] = (byte) v;
            if (shorts) q16[base + j] = (short) v;
        }
        float dh = Float.float16ToFloat(Float.floatToFloat16(dv));
        d[block] = dh;
        if (shorts) xsum[block] = 8 * dh * sum;
        if (withSum) s[block] = Float.float16ToFloat(Float.floatToFloat16(sum * dv));
    }

    /**
     * One row of {@code cols} values at {@code x[off..]} quantized to {@code t}'s 8-bit blocks as
     * {@link #prepare} quantizes them, and written back as floats {@code d·q} (the block scale the
     * dot products use times the quantized value) to {@code out[outOff + k·stride]}.
     */
    static void dequantizedQ8Row(VecDotType t, float[] x, int off, int cols, float[] out, int outOff, int stride) {
        if (t == VecDotType.Q8_K) {
            for (int b = off; b < off + cols; b += 256, outOff += 256 * stride) {
                float max = q8kMax(x, b);
                if (max == 0) {
                    for (int j = 0; j < 256; j++) out[outOff + j * stride] = 0;
                    continue;
                }
                float iscale = -127f / max;
                float d = 1 / iscale;
                for (int j = 0; j < 256; j++) out[outOff + j * stride] = d * q8kCode(iscale, x[b + j]);
            }
        } else {
            for (int b = off; b < off + cols; b += 32, outOff += 32 * stride) {
                float amax = q8_0Amax(x, b);
                float id = q8_0Inverse(amax);
                float d = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
                for (int j = 0; j < 32; j++) out[outOff + j * stride] = d * q8_0Code(id, x[b + j]);
            }
        }
    }

    private void quantizeQ8KBlock(float[] x, int off, int block, boolean bytes, boolean shorts) {
        float max = q8kMax(x, off);
        int base = block * 256;
        if (max == 0) {
            d[block] = 0;
            for (int j = 0; j < 256; j++) {
                if (bytes) q[base + j] = 0;
                if (shorts) q16[base + j] = 0;
            }
            for (int j = 0; j < 16; j++) bsum[block * 16 + j] = 0;
            return;
        }
        float iscale = -127f / max;
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) {
                int v = q8kCode(iscale, x[off + 16 * j + l]);
                sum += v;
                if (bytes) q[base + 16 * j + l] = (byte) v;
                if (shorts) q16[base + 16 * j + l] = (short) v;
            }
            bsum[block * 16 + j] = sum;
        }
        d[block] = 1 / iscale;
    }

    // The quantization rules, shared by {@link #prepare} and {@link #dequantizedQ8Row}, whose
    // results must agree bit for bit (the prefill products against the decode dot products).

    /** Q8_0/Q8_1: the largest magnitude of the 32 values at {@code x[off..]}. */
    private static float q8_0Amax(float[] x, int off) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[off + j]));
        return amax;
    }

    /** Q8_0/Q8_1: the factor a value is multiplied by before rounding (0 for an all-zero block). */
    private static float q8_0Inverse(float amax) {
        return amax != 0 ? 127f / amax : 0f;
    }

    /** Q8_0/Q8_1: a value's code, rounded half to even. */
    private static int q8_0Code(float id, float v) {
        return (int) Math.rint(v * id);
    }

    /** Q8_K: the value of largest magnitude of the 256 at {@code x[off..]}, its sign kept (the first of equals; 0 if all are). */
    private static float q8kMax(float[] x, int off) {
        return Quantize.signedAbsMax(x, off, 256);
    }

    /** Q8_K: a value's code for {@code iscale = -127 / max}, rounded half to even, at most 127. */
    private static int q8kCode(float iscale, float v) {
        return Math.min(127, (int) Math.rint(iscale * v));
    }
}
