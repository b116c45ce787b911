package dev.kiri.kernels.matmul;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

/** Random weights and activations, and the error bounds the products are held to. */
final class MatmulTestData {
    /** Every weight type the products support. */
    static final List<GgmlType> TYPES = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K,
            GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS);

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Unit roundoff of float. */
    static final double U = 0x1p-24;

    private MatmulTestData() {
    }

    /**
     * A {@code rows x cols} matrix of random blocks: random bytes for the quantized values and
     * packed scales, small finite halves for the F16 scale fields. The segment starts at an odd
     * address offset, as nothing guarantees alignment of a block.
     */
    static Weights randomWeights(GgmlType t, int rows, int cols, Random rnd, Arena arena) {
        long rowBytes = t.byteSize(cols);
        MemorySegment seg = arena.allocate(rows * rowBytes + 1, 64).asSlice(1);
        byte[] bytes = new byte[(int) (rows * rowBytes)];
        rnd.nextBytes(bytes);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
        long blocks = rows * (long) cols / t.blockSize();
        for (long b = 0; b < blocks; b++) {
            long o = b * t.bytesPerBlock();
            switch (t) {
                case F32 -> seg.set(F32, o, (float) rnd.nextGaussian());
                case F16 -> seg.set(I16, o, Float.floatToFloat16((float) rnd.nextGaussian()));
                case BF16 -> seg.set(I16, o, (short) (Float.floatToRawIntBits(Activations.roundBf16((float) rnd.nextGaussian())) >>> 16));
                case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> half(seg, o, rnd, 0.05f);
                case Q4_1, Q5_1, Q4_K, Q5_K -> {
                    half(seg, o, rnd, 0.05f);
                    half(seg, o + 2, rnd, 0.05f);
                }
                case Q2_K -> {
                    half(seg, o + 80, rnd, 0.05f);
                    half(seg, o + 82, rnd, 0.05f);
                }
                case Q3_K -> half(seg, o + 108, rnd, 0.05f);
                case Q6_K -> half(seg, o + 208, rnd, 0.05f);
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return new Weights("random." + t.ggmlName(), t, seg, rows, cols);
    }

    private static void half(MemorySegment seg, long off, Random rnd, float scale) {
        seg.set(I16, off, Float.floatToFloat16((float) (rnd.nextGaussian() * scale)));
    }

    /**
     * Activations with the spread of real hidden states: Gaussian values whose scale changes from
     * one 32-block to the next, a few outliers, and an all-zero block.
     */
    static float[] randomActivations(int n, Random rnd) {
        float[] x = new float[n];
        for (int b = 0; b < n; b += 32) {
            double scale = Math.exp(rnd.nextGaussian());
            boolean zero = b == 64;
            for (int i = b; i < Math.min(n, b + 32); i++) {
                x[i] = zero ? 0f : (float) (rnd.nextGaussian() * scale);
                if (!zero && rnd.nextInt(97) == 0) x[i] *= 20;
            }
        }
        return x;
    }

    /** The dequantized rows, {@code [rows][cols]}. */
    static float[][] dequantize(Weights w) {
        float[][] out = new float[w.rows()][w.cols()];
        for (int r = 0; r < w.rows(); r++) Dequant.row(w.type(), w.data(), r * w.rowBytes(), out[r], 0, w.cols());
        return out;
    }

    /** {@code Σ_c w[c]·x[xOff+c]} in double. */
    static double exactDot(float[] w, float[] x, int xOff) {
        double s = 0;
        for (int c = 0; c < w.length; c++) s += (double) w[c] * x[xOff + c];
        return s;
    }

    /** {@code Σ_c |w[c]·x[xOff+c]|}. */
    static double absDot(float[] w, float[] x, int xOff) {
        double s = 0;
        for (int c = 0; c < w.length; c++) s += Math.abs((double) w[c] * x[xOff + c]);
        return s;
    }

    /** Float additions a product of one row performs at most (a bound, for rounding error). */
    static int floatSteps(GgmlType t, int cols) {
        return t.isQuantized() ? 4 * (cols / t.blockSize()) + 16 : cols + 16;
    }

    /**
     * The largest magnitude a min/offset term of row {@code row}'s block {@code b} can have: the
     * block dot product is formed as a scaled sum minus (or plus) such a term, and float rounding
     * is relative to both parts, which may be much larger than their difference.
     */
    static double offsetMagnitude(Weights w, int row, int b) {
        GgmlType t = w.type();
        long o = row * w.rowBytes() + (long) b * t.bytesPerBlock();
        return switch (t) {
            case Q4_1, Q5_1 -> Math.abs(Float.float16ToFloat(w.data().get(I16, o + 2)));
            case Q4_K, Q5_K -> 63 * Math.abs(Float.float16ToFloat(w.data().get(I16, o + 2)));
            case Q2_K -> 15 * Math.abs(Float.float16ToFloat(w.data().get(I16, o + 82)));
            default -> 0;
        };
    }

    /**
     * How far a product with converted activations may lie from the exact product of the
     * dequantized row {@code wr} with the F32 activations: for each element, |w| times the bound on
     * the activation's conversion error, plus the rounding of the float steps.
     *
     * <ul>
     * <li>Q8_0/Q8_1: {@code q = rint(x/d)} misses by at most d/2 with d = amax/127, and the F16
     *     rounding of d moves each of up to 127 steps by d·2^-11 (or 2^-25 when d is subnormal in
     *     F16). Q4_1/Q5_1 pair the block offset m with Q8_1's s = d·Σq (rounded to F16) instead of
     *     Σx: |m|·(16d + |s|·2^-11 + 2^-25) more, and the scaled part's weights are |w - m|.
     * <li>Q8_K: d = amax/127 kept in F32: d/2 per element; the mins meet the exact sums of the
     *     quantized values, so they add no conversion error.
     * <li>F16: relative 2^-11 (absolute 2^-25 below the normal range); BF16: relative 2^-8.
     * </ul>
     */
    static double bound(Weights w, int row, float[] wr, float[] x, int xOff) {
        GgmlType t = w.type();
        VecDotType vt = VecDotType.of(w.name(), t);
        int cols = w.cols();
        double err = 0;
        double magnitude = 0; // Σ over elements of (|w| + 2·offset magnitude)·|x|
        for (int c = 0; c < cols; c++) {
            double off = t.isQuantized() ? offsetMagnitude(w, row, c / t.blockSize()) : 0;
            magnitude += (Math.abs(wr[c]) + 2 * off) * Math.abs(x[xOff + c]);
        }
        switch (vt) {
            case F32 -> {
            }
            case F16 -> {
                for (int c = 0; c < cols; c++) err += Math.abs(wr[c]) * (Math.abs(x[xOff + c]) * 0x1p-11 + 0x1p-25);
            }
            case BF16 -> {
                for (int c = 0; c < cols; c++) err += Math.abs(wr[c]) * (Math.abs(x[xOff + c]) * 0x1p-8 + 0x1p-126);
            }
            case Q8_0, Q8_1 -> {
                for (int b = 0; b < cols / 32; b++) {
                    double amax = 0, asum = 0;
                    for (int j = 0; j < 32; j++) {
                        amax = Math.max(amax, Math.abs(x[xOff + 32 * b + j]));
                        asum += Math.abs(x[xOff + 32 * b + j]);
                    }
                    double d = amax / 127;
                    double per = 0.5 * d * (1 + 1e-6) + 127 * Math.max(d * 0x1p-11, 0x1p-25);
                    double m = vt == VecDotType.Q8_1 ? offsetMagnitude(w, row, b) : 0;
                    for (int j = 0; j < 32; j++) err += (Math.abs(wr[32 * b + j]) + m) * per;
                    err += m * (16 * d * (1 + 1e-6) + (asum + 16 * d) * 0x1p-11 + 0x1p-25);
                }
            }
            case Q8_K -> {
                for (int b = 0; b < cols / 256; b++) {
                    double amax = 0;
                    for (int j = 0; j < 256; j++) amax = Math.max(amax, Math.abs(x[xOff + 256 * b + j]));
                    double per = 0.5 * amax / 127 * (1 + 1e-6);
                    for (int j = 0; j < 256; j++) err += Math.abs(wr[256 * b + j]) * per;
                }
            }
        }
        // Float rounding: each step may add u times the running magnitude (1.1: a little more
        // after conversion of the activations).
        return err + (floatSteps(t, cols) + 8) * U * 1.1 * magnitude + 1e-30;
    }

    /**
     * How far two products that form the same exact integer block sums may differ: only the
     * float steps, in different orders.
     */
    static double roundingBound(Weights w, int row, float[] wr, float[] x, int xOff) {
        GgmlType t = w.type();
        double magnitude = 0;
        for (int c = 0; c < w.cols(); c++) {
            double off = t.isQuantized() ? offsetMagnitude(w, row, c / t.blockSize()) : 0;
            magnitude += (Math.abs(wr[c]) + 2 * off) * Math.abs(x[xOff + c]);
        }
        return 2 * (floatSteps(t, w.cols()) + 8) * U * 1.1 * magnitude + 1e-30;
    }
}
