package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * Dot products of one weight row with one converted activation row, written as plainly as
 * possible: the reference the fast kernels are tested against. Quantized types decode each block
 * to its integers, form exact integer sums with the 8-bit activations, then scale in float in the
 * order llama.cpp's generic code does. Float types accumulate in double.
 *
 * <p>Block layouts (little-endian, {@code d}/{@code m}/{@code dmin} are F16):
 * <pre>
 * Q8_0   d, qs[32] int8                                  value = d·q
 * Q4_0   d, qs[16]: element j low nibble, j+16 high      value = d·(q-8)
 * Q4_1   d, m, qs[16]                                    value = d·q + m
 * Q5_0   d, qh u32 (bit j = 5th bit of element j), qs[16] value = d·(q-16)
 * Q5_1   d, m, qh u32, qs[16]                            value = d·q + m
 * IQ4_NL d, qs[16]                                       value = d·KVALUES[q]
 * Q2_K   scales[16] (low nibble scale, high min), qs[64], d, dmin; 16 sub-blocks of 16
 * Q3_K   hmask[32], qs[64], scales[12] (16 six-bit, -32), d; 16 sub-blocks of 16
 * Q4_K   d, dmin, scales[12] (8 six-bit scales + 8 mins), qs[128]; 8 sub-blocks of 32
 * Q5_K   d, dmin, scales[12], qh[32], qs[128]; 8 sub-blocks of 32
 * Q6_K   ql[128], qh[64], scales[16] int8, d; 16 sub-blocks of 16, value = d·sc·(q-32)
 * IQ4_XS d, scales_h u16, scales_l[4], qs[128]; 8 sub-blocks of 32, value = d·(ls-32)·KVALUES[q]
 * </pre>
 */
final class ScalarDots {
    /** The IQ4_NL / IQ4_XS non-linear 4-bit code book. */
    static final int[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private ScalarDots() {
    }

    /** Row of {@code cols} weights at byte {@code off} of {@code w} · activation row {@code row} of {@code a}. */
    static float dot(GgmlType t, MemorySegment w, long off, int cols, Activations a, int row) {
        return switch (t) {
            case F32 -> f32(w, off, cols, a, row);
            case F16 -> f16(w, off, cols, a, row);
            case BF16 -> bf16(w, off, cols, a, row);
            case Q8_0 -> q8_0(w, off, cols, a, row);
            case Q4_0 -> q4_0(w, off, cols, a, row);
            case Q4_1 -> q4_1(w, off, cols, a, row);
            case Q5_0 -> q5_0(w, off, cols, a, row);
            case Q5_1 -> q5_1(w, off, cols, a, row);
            case IQ4_NL -> iq4_nl(w, off, cols, a, row);
            case Q2_K -> q2_K(w, off, cols, a, row);
            case Q3_K -> q3_K(w, off, cols, a, row);
            case Q4_K -> q4_K(w, off, cols, a, row);
            case Q5_K -> q5_K(w, off, cols, a, row);
            case Q6_K -> q6_K(w, off, cols, a, row);
            case IQ4_XS -> iq4_xs(w, off, cols, a, row);
            default -> throw new IllegalArgumentException("matrix products do not support " + t.ggmlName());
        };
    }

    private static float f32(MemorySegment w, long off, int cols, Activations a, int row) {
        double sum = 0;
        int x = a.fOff + row * cols;
        for (int c = 0; c < cols; c++) sum += (double) Le.f32(w, off + 4L * c) * a.f[x + c];
        return (float) sum;
    }

    private static float f16(MemorySegment w, long off, int cols, Activations a, int row) {
        double sum = 0;
        int x = a.fOff + row * cols;
        for (int c = 0; c < cols; c++) sum += (double) Le.f16(w, off + 2L * c) * a.f[x + c];
        return (float) sum;
    }

    private static float bf16(MemorySegment w, long off, int cols, Activations a, int row) {
        double sum = 0;
        int x = a.fOff + row * cols;
        for (int c = 0; c < cols; c++) sum += (double) Le.bf16(w, off + 2L * c) * a.f[x + c];
        return (float) sum;
    }

    private static float q8_0(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = off + 34L * b;
            int xb = row * nb + b;
            int sumi = 0;
            for (int j = 0; j < 32; j++) sumi += Le.i8(w, o + 2 + j) * a.q[xb * 32 + j];
            sum += sumi * (Le.f16(w, o) * a.d[xb]);
        }
        return sum;
    }

    private static float q4_0(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = off + 18L * b;
            int xb = row * nb + b;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int qv = Le.u8(w, o + 2 + j);
                sumi += ((qv & 0xF) - 8) * a.q[xb * 32 + j] + ((qv >> 4) - 8) * a.q[xb * 32 + j + 16];
            }
            sum += sumi * (Le.f16(w, o) * a.d[xb]);
        }
        return sum;
    }

    private static float q4_1(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = off + 20L * b;
            int xb = row * nb + b;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int qv = Le.u8(w, o + 4 + j);
                sumi += (qv & 0xF) * a.q[xb * 32 + j] + (qv >> 4) * a.q[xb * 32 + j + 16];
            }
            sum += (Le.f16(w, o) * a.d[xb]) * sumi + Le.f16(w, o + 2) * a.s[xb];
        }
        return sum;
    }

    private static float q5_0(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = off + 22L * b;
            int xb = row * nb + b;
            int qh = Le.i32(w, o + 2);
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int qv = Le.u8(w, o + 6 + j);
                int lo = ((qv & 0xF) | (((qh >>> j) & 1) << 4)) - 16;
                int hi = ((qv >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
                sumi += lo * a.q[xb * 32 + j] + hi * a.q[xb * 32 + j + 16];
            }
            sum += sumi * (Le.f16(w, o) * a.d[xb]);
        }
        return sum;
    }

    private static float q5_1(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = off + 24L * b;
            int xb = row * nb + b;
            int qh = Le.i32(w, o + 4);
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int qv = Le.u8(w, o + 8 + j);
                int lo = (qv & 0xF) | (((qh >>> j) & 1) << 4);
                int hi = (qv >> 4) | (((qh >>> (j + 16)) & 1) << 4);
                sumi += lo * a.q[xb * 32 + j] + hi * a.q[xb * 32 + j + 16];
            }
            sum += (Le.f16(w, o) * a.d[xb]) * sumi + Le.f16(w, o + 2) * a.s[xb];
        }
        return sum;
    }

    private static float iq4_nl(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = off + 18L * b;
            int xb = row * nb + b;
            int sumi = 0;
            for (int j = 0; j < 16; j++) {
                int qv = Le.u8(w, o + 2 + j);
                sumi += KVALUES[qv & 0xF] * a.q[xb * 32 + j] + KVALUES[qv >> 4] * a.q[xb * 32 + j + 16];
            }
            sum += (Le.f16(w, o) * a.d[xb]) * sumi;
        }
        return sum;
    }

    private static float q2_K(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 256;
        for (int b = 0; b < nb; b++) {
            long o = off + 84L * b;
            int xb = row * nb + b;
            int xq = xb * 256;
            int isum = 0;
            int summs = 0;
            // Element e = 128·h + 32·s + l (l < 32) is bits 2s..2s+1 of qs[32·h + l]; sub-block e/16.
            for (int e = 0; e < 256; e++) {
                int h = e / 128, s = (e % 128) / 32, l = e % 32;
                int qv = (Le.u8(w, o + 16 + 32 * h + l) >> (2 * s)) & 3;
                int sc = Le.u8(w, o + e / 16) & 0xF;
                isum += sc * qv * a.q[xq + e];
            }
            for (int k = 0; k < 16; k++) summs += (Le.u8(w, o + k) >> 4) * a.bsum[xb * 16 + k];
            float dall = a.d[xb] * Le.f16(w, o + 80);
            float dmin = a.d[xb] * Le.f16(w, o + 82);
            sum += dall * isum - dmin * summs;
        }
        return sum;
    }

    /**
     * Six-bit Q3_K scale {@code k} (0..15, already minus 32) of the block at {@code o}: low four bits
     * in the nibbles of scales[0..7] (k < 8 low nibble of byte k, else high nibble of byte k-8), high
     * two bits at bits 2·(k/4) of scales[8 + k%4].
     */
    static int q3KScale(MemorySegment w, long o, int k) {
        long sc = o + 96;
        int low = k < 8 ? Le.u8(w, sc + k) & 0xF : Le.u8(w, sc + k - 8) >> 4;
        int high = (Le.u8(w, sc + 8 + (k % 4)) >> (2 * (k / 4))) & 3;
        return (low | (high << 4)) - 32;
    }

    private static float q3_K(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 256;
        for (int b = 0; b < nb; b++) {
            long o = off + 110L * b;
            int xb = row * nb + b;
            int xq = xb * 256;
            int isum = 0;
            // Element e = 128·h + 32·s + l: low bits 2s..2s+1 of qs[32·h + l], high bit (4h + s) of
            // hmask[l]; a clear high bit means 4 is subtracted.
            for (int e = 0; e < 256; e++) {
                int h = e / 128, s = (e % 128) / 32, l = e % 32;
                int low = (Le.u8(w, o + 32 + 32 * h + l) >> (2 * s)) & 3;
                int hbit = (Le.u8(w, o + l) >> (4 * h + s)) & 1;
                int qv = low - (hbit == 0 ? 4 : 0);
                isum += q3KScale(w, o, e / 16) * qv * a.q[xq + e];
            }
            sum += a.d[xb] * Le.f16(w, o + 108) * isum;
        }
        return sum;
    }

    /** Q4_K/Q5_K packed 6-bit scale ({@code min == false}) or min of sub-block {@code j} (0..7). */
    static int kScale(MemorySegment w, long scales, int j, boolean min) {
        if (j < 4) return Le.u8(w, scales + j + (min ? 4 : 0)) & 63;
        int b = Le.u8(w, scales + j + 4);
        return min ? (b >> 4) | ((Le.u8(w, scales + j) >> 6) << 4)
                   : (b & 0xF) | ((Le.u8(w, scales + j - 4) >> 6) << 4);
    }

    private static float q4_K(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 256;
        for (int b = 0; b < nb; b++) {
            long o = off + 144L * b;
            int xb = row * nb + b;
            int xq = xb * 256;
            int isum = 0;
            int summs = 0;
            // Sub-block j covers elements 32j..32j+31: low nibbles (j even) or high nibbles (j odd)
            // of qs[32·(j/2) ..].
            for (int j = 0; j < 8; j++) {
                int sumj = 0;
                for (int l = 0; l < 32; l++) {
                    int qv = (Le.u8(w, o + 16 + 32 * (j / 2) + l) >> (4 * (j % 2))) & 0xF;
                    sumj += qv * a.q[xq + 32 * j + l];
                }
                isum += kScale(w, o + 4, j, false) * sumj;
                summs += kScale(w, o + 4, j, true) * (a.bsum[xb * 16 + 2 * j] + a.bsum[xb * 16 + 2 * j + 1]);
            }
            sum += a.d[xb] * Le.f16(w, o) * isum - a.d[xb] * Le.f16(w, o + 2) * summs;
        }
        return sum;
    }

    private static float q5_K(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 256;
        for (int b = 0; b < nb; b++) {
            long o = off + 176L * b;
            int xb = row * nb + b;
            int xq = xb * 256;
            int isum = 0;
            int summs = 0;
            // As Q4_K, plus the fifth bit of element 32j + l in bit j of qh[l].
            for (int j = 0; j < 8; j++) {
                int sumj = 0;
                for (int l = 0; l < 32; l++) {
                    int qv = (Le.u8(w, o + 48 + 32 * (j / 2) + l) >> (4 * (j % 2))) & 0xF;
                    qv |= ((Le.u8(w, o + 16 + l) >> j) & 1) << 4;
                    sumj += qv * a.q[xq + 32 * j + l];
                }
                isum += kScale(w, o + 4, j, false) * sumj;
                summs += kScale(w, o + 4, j, true) * (a.bsum[xb * 16 + 2 * j] + a.bsum[xb * 16 + 2 * j + 1]);
            }
            sum += a.d[xb] * Le.f16(w, o) * isum - a.d[xb] * Le.f16(w, o + 2) * summs;
        }
        return sum;
    }

    private static float q6_K(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 256;
        for (int b = 0; b < nb; b++) {
            long o = off + 210L * b;
            int xb = row * nb + b;
            int xq = xb * 256;
            int isum = 0;
            // Element e = 128·h + 32·s + l: low nibble of ql[64h + 32·(s%2) + l] (s < 2: low, else
            // high nibble), two high bits at bits 2s of qh[32h + l]; sub-block e/16.
            for (int e = 0; e < 256; e++) {
                int h = e / 128, s = (e % 128) / 32, l = e % 32;
                int low = (Le.u8(w, o + 64 * h + 32 * (s % 2) + l) >> (4 * (s / 2))) & 0xF;
                int high = (Le.u8(w, o + 128 + 32 * h + l) >> (2 * s)) & 3;
                int qv = (low | (high << 4)) - 32;
                isum += Le.i8(w, o + 192 + e / 16) * qv * a.q[xq + e];
            }
            sum += a.d[xb] * Le.f16(w, o + 208) * isum;
        }
        return sum;
    }

    private static float iq4_xs(MemorySegment w, long off, int cols, Activations a, int row) {
        float sum = 0;
        int nb = cols / 256;
        for (int b = 0; b < nb; b++) {
            long o = off + 136L * b;
            int xb = row * nb + b;
            int xq = xb * 256;
            int scalesH = Le.u16(w, o + 2);
            int isum = 0;
            for (int ib = 0; ib < 8; ib++) {
                int ls = ((Le.u8(w, o + 4 + ib / 2) >> (4 * (ib % 2))) & 0xF) | (((scalesH >> (2 * ib)) & 3) << 4);
                int sumi = 0;
                for (int j = 0; j < 16; j++) {
                    int qv = Le.u8(w, o + 8 + 16 * ib + j);
                    sumi += KVALUES[qv & 0xF] * a.q[xq + 32 * ib + j] + KVALUES[qv >> 4] * a.q[xq + 32 * ib + j + 16];
                }
                isum += (ls - 32) * sumi;
            }
            sum += a.d[xb] * Le.f16(w, o) * isum;
        }
        return sum;
    }
}
