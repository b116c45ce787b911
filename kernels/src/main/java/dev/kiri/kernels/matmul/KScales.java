package dev.kiri.kernels.matmul;

/**
 * The 6-bit scales and mins of a Q4_K or Q5_K block (12 bytes at block offset 4, read as the
 * little-endian ints {@code u0, u1, u2}), four sub-blocks per int, one per byte: llama.cpp's
 * {@code get_scale_min_k4}. Scales 0..3 and mins 0..3 are the low six bits of bytes 0..3 and 4..7;
 * scales 4..7 take their low four bits from bytes 8..11 and their top two from the top of bytes
 * 0..3, mins 4..7 the high nibbles of bytes 8..11 and the top of bytes 4..7. Used by the in-place
 * kernels ({@link VectorDots#q4_K}, {@link VectorDots#q5_K}) and by the Q4_K copy, which stores
 * the four ints unpacked ({@link Interleave}). Scalar only: callers keep their vectors to themselves.
 */
final class KScales {
    private KScales() {
    }

    /** Scales of sub-blocks 0..3, one per byte. */
    static int scalesLow(int u0) {
        return u0 & 0x3f3f3f3f;
    }

    /** Scales of sub-blocks 4..7, one per byte. */
    static int scalesHigh(int u0, int u2) {
        return (u2 & 0x0f0f0f0f) | ((u0 >>> 2) & 0x30303030);
    }

    /** Mins of sub-blocks 0..3, one per byte. */
    static int minsLow(int u1) {
        return u1 & 0x3f3f3f3f;
    }

    /** Mins of sub-blocks 4..7, one per byte. */
    static int minsHigh(int u1, int u2) {
        return ((u2 >>> 4) & 0x0f0f0f0f) | ((u1 >>> 2) & 0x30303030);
    }
}
