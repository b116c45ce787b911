package dev.kiri.kernels.matmul;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.VectorWidth;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The 512-bit decode kernels of the Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies ({@link WideDots}) give
 * the 256-bit kernels' floats bit for bit ({@link VectorDots#q4_0x8}, {@link VectorDots#q8_0x8},
 * {@link VectorDots#q4_Kx}, {@link VectorDots#q5_Kx}, {@link VectorDots#q6_Kx}): the same exact
 * integer block (or sub-block) sums, scaled and added in the same order. Fresh random weights and
 * activations, one to many groups, odd block counts, group ranges and activation rows that do not
 * start at zero, results added to what {@code y} holds, and every kind of finite F16 scale.
 * ({@code VectorMatmulTest} checks the products through {@link VectorMatmul} against the scalar
 * reference, with whichever kernel the machine uses.)
 *
 * <p>Runs where the runtime uses these kernels (machines whose JVM prefers 512-bit vectors), and in
 * the build's execution {@code wide-decode-emulated} everywhere: a JVM of its own with AVX-512 off,
 * where the Vector API runs the 512-bit code unintrinsified. In the default execution on narrower
 * machines it is skipped, since that code would pass through the same shared methods as the
 * 256-bit kernels that the rest of the JVM's tests exercise.
 */
class WideDotsTest {
    /**
     * Where the runtime uses these kernels, or where the build asks for them anyway
     * ({@code -Dkiri.test.wideDotsEmulated=true}: the surefire execution {@code wide-decode-emulated},
     * a JVM of its own with AVX-512 off, in which the 512-bit vectors run through the Vector API's Java
     * fallback: slow, but exactly the same integer and float operations).
     */
    private static final boolean RUNS = VectorWidth.WIDE_DECODE || Boolean.getBoolean("kiri.test.wideDotsEmulated");
    private static final String NOT_HERE = "the JVM does not prefer 512-bit vectors here, so the runtime does not use WideDots"
            + " (the build's wide-decode-emulated execution runs this class with them emulated)";
    /** Every kind of finite F16 scale: subnormal, zero, negative zero, largest, smallest normal, negative. */
    private static final short[] SCALES = {0x0001, 0x03FF, 0x0000, (short) 0x8000, 0x7BFF, (short) 0xFBFF, 0x0400, (short) 0xC000,
            (short) 0x8001, 0x3C00, 0x1234, (short) 0x83FF};

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0"})
    void givesTheNarrowKernelsFloatsBitForBit(GgmlType t) {
        assumeTrue(RUNS, NOT_HERE);
        Random rnd = new Random(51_2);
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {32, 96, 160, 2080}) {
                for (int rows : new int[] {8, 24, 136}) {
                    for (boolean everyScale : new boolean[] {false, true}) {
                        Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                        if (everyScale) {
                            long block = t == GgmlType.Q4_0 ? 18 : 34;
                            for (int r = 0; r < rows; r++) {
                                for (int b = 0; b < cols / 32; b++) {
                                    plain.data().set(ValueLayout.JAVA_SHORT_UNALIGNED, r * plain.rowBytes() + block * b,
                                            SCALES[(3 * r + 5 * b) % SCALES.length]);
                                }
                            }
                        }
                        Weights w = Interleave.interleave(plain, arena);
                        int n = 2;
                        float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                        Activations act = new Activations();
                        act.prepare(VecDotType.Q8_0, x, 0, cols, n, false, true, t == GgmlType.Q4_0 ? Activations.Q4_X8_WIDE : Activations.Q8_X8);
                        int nb = cols / 32, groups = rows / 8;
                        long stride = nb * (long) Interleave.blockBytes(t);
                        String what = t + " " + rows + "x" + cols + (everyScale ? " every scale" : "");
                        for (int row = 0; row < n; row++) {
                            for (int[] range : new int[][] {{0, groups}, {groups / 2, groups}, {groups - 1, groups}}) {
                                compare(t, w.interleaved(), stride, nb, range[0], range[1], act, row * nb, rows, rnd,
                                        what + " row " + row + " groups " + range[0] + ".." + range[1]);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void theKQuantKernelsGiveTheNarrowKernelsFloatsBitForBit(GgmlType t) {
        assumeTrue(RUNS, NOT_HERE);
        Random rnd = new Random(51_3);
        long[] scaleAt = t == GgmlType.Q6_K ? new long[] {208} : new long[] {0, 2};
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {256, 768, 2304, 6144}) {
                for (int rows : new int[] {1, 7, 33}) {
                    for (boolean everyScale : new boolean[] {false, true}) {
                        Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                        int nb = cols / 256;
                        if (everyScale) {
                            for (int r = 0; r < rows; r++) {
                                for (int b = 0; b < nb; b++) {
                                    for (int k = 0; k < scaleAt.length; k++) {
                                        plain.data().set(ValueLayout.JAVA_SHORT_UNALIGNED, r * plain.rowBytes() + t.bytesPerBlock() * (long) b + scaleAt[k],
                                                SCALES[(3 * r + 5 * b + 7 * k) % SCALES.length]);
                                    }
                                }
                            }
                        }
                        Weights w = Interleave.interleave(plain, arena);
                        int n = 2;
                        float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                        Activations narrowAct = new Activations(), wideAct = new Activations();
                        narrowAct.prepare(VecDotType.Q8_K, x, 0, cols, n, false, true,
                                t == GgmlType.Q4_K ? Activations.Q4_KX : t == GgmlType.Q5_K ? Activations.Q5_KX : Activations.Q6_KX);
                        wideAct.prepare(VecDotType.Q8_K, x, 0, cols, n, false, true,
                                t == GgmlType.Q4_K ? Activations.Q4_KX_WIDE : t == GgmlType.Q5_K ? Activations.Q5_KX_WIDE : Activations.Q6_KX_WIDE);
                        long stride = nb * (long) Interleave.blockBytes(t);
                        String what = t + " " + rows + "x" + cols + (everyScale ? " every scale" : "");
                        for (int row = 0; row < n; row++) {
                            for (int[] range : new int[][] {{0, rows}, {rows / 2, rows}, {rows - 1, rows}}) {
                                float[] narrow = new float[rows + 3], wide = new float[rows + 3];
                                for (int i = 0; i < narrow.length; i++) {
                                    narrow[i] = wide[i] = rnd.nextInt(4) == 0 ? -0.0f : (float) rnd.nextGaussian();
                                }
                                int xb = row * nb;
                                if (t == GgmlType.Q4_K) {
                                    VectorDots.q4_Kx(w.interleaved(), stride, 0, nb, range[0], range[1], narrowAct.xks, narrowAct.d, narrowAct.bsum32, xb, narrow, 3);
                                    WideDots.q4_Kx(w.interleaved(), stride, 0, nb, range[0], range[1], wideAct.xks, wideAct.d, wideAct.bsum32, xb, wide, 3);
                                } else if (t == GgmlType.Q5_K) {
                                    VectorDots.q5_Kx(w.interleaved(), stride, 0, nb, range[0], range[1], narrowAct.xk, narrowAct.d, narrowAct.bsum32, xb, narrow, 3);
                                    WideDots.q5_Kx(w.interleaved(), stride, 0, nb, range[0], range[1], wideAct.xk, wideAct.d, wideAct.bsum32, xb, wide, 3);
                                } else {
                                    VectorDots.q6_Kx(w.interleaved(), stride, 0, nb, range[0], range[1], narrowAct.x6, narrowAct.d, narrowAct.bsum, xb, narrow, 3);
                                    WideDots.q6_Kx(w.interleaved(), stride, 0, nb, range[0], range[1], wideAct.x6, wideAct.d, wideAct.bsum, xb, wide, 3);
                                }
                                for (int i = 0; i < narrow.length; i++) {
                                    assertEquals(Float.floatToRawIntBits(narrow[i]), Float.floatToRawIntBits(wide[i]),
                                            what + " row " + row + " rows " + range[0] + ".." + range[1] + ": y[" + i + "] "
                                                    + narrow[i] + " (256-bit) against " + wide[i] + " (512-bit)");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void compare(GgmlType t, MemorySegment p, long stride, int nb, int g0, int g1, Activations act, int xb,
                                int rows, Random rnd, String what) {
        float[] narrow = new float[rows + 3], wide = new float[rows + 3];
        for (int i = 0; i < narrow.length; i++) narrow[i] = wide[i] = rnd.nextInt(4) == 0 ? -0.0f : (float) rnd.nextGaussian();
        if (t == GgmlType.Q4_0) {
            VectorDots.q4_0x8(p, stride, 0, nb, g0, g1, act.xq4x8, act.d, xb, narrow, 3);
            WideDots.q4_0x8(p, stride, 0, nb, g0, g1, act.xq4l, act.xq4x8, act.d, xb, wide, 3);
        } else {
            VectorDots.q8_0x8(p, stride, 0, nb, g0, g1, act.xq8l, act.d, xb, narrow, 3);
            WideDots.q8_0x8(p, stride, 0, nb, g0, g1, act.xq8l, act.d, xb, wide, 3);
        }
        for (int i = 0; i < narrow.length; i++) {
            assertEquals(Float.floatToRawIntBits(narrow[i]), Float.floatToRawIntBits(wide[i]),
                    what + ": y[" + i + "] " + narrow[i] + " (256-bit) against " + wide[i] + " (512-bit)");
        }
    }
}
