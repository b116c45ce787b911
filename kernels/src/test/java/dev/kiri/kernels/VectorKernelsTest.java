package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every Vector API operation against the scalar reference on fresh random inputs, at sizes
 * around and between multiples of the vector length, at unaligned offsets.
 */
class VectorKernelsTest {
    private static final int[] SIZES = {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 200, 1000, 2051};

    private final ScalarKernels scalar = new ScalarKernels();
    private final VectorKernels vector = new VectorKernels(2);
    private final TestData data = new TestData();

    @AfterEach
    void close() {
        vector.close();
    }

    private void assertNear(float[] expected, float[] actual, double tol, String what) {
        double err = TestData.maxRelError(actual, 0, expected, 0, expected.length);
        assertTrue(err <= tol, what + ": relative error " + err + " > " + tol + ", " + data);
    }

    @Test
    void preferredVectorsAreAtLeast128Bits() {
        assertTrue(VectorKernels.preferredBitSize() >= 128);
        assertEquals(Math.min(VectorKernels.machineBitSize(), KernelsProvider.maxVectorBits()), VectorKernels.preferredBitSize(),
                "the kernels use the machine's widest vectors up to -D" + KernelsProvider.MAX_BITS_PROPERTY);
        if (System.getProperty(KernelsProvider.MAX_BITS_PROPERTY) == null) {
            assertTrue(VectorKernels.preferredBitSize() <= 256, "256 bits at most by default");
        }
        assertTrue(vector.name().startsWith("vector-"));
        assertEquals(2, vector.threads());
    }

    /** Sums of squares: lanes reorder a float sum of up to 2051 terms; 1e-6 relative is ~16 ulps. */
    @Test
    void rmsnormAndLayernormMatchScalar() {
        for (int n : SIZES) {
            float[] x = data.floats(n + 5, 3f);
            float[] w = data.floats(n, 1f);
            float[] b = data.floats(n, 1f);
            for (float[] weight : new float[][] {w, null}) {
                float[] e = new float[n + 1];
                float[] a = new float[n + 1];
                scalar.rmsnorm(e, 1, x, 5, weight, n, 1e-6f);
                vector.rmsnorm(a, 1, x, 5, weight, n, 1e-6f);
                assertNear(e, a, 1e-6, "rmsnorm n=" + n);
                scalar.layernorm(e, 1, x, 5, weight, b, n, 1e-6f);
                vector.layernorm(a, 1, x, 5, weight, b, n, 1e-6f);
                assertNear(e, a, 1e-5, "layernorm n=" + n); // cancellation in x - mean
                scalar.layernorm(e, 1, x, 5, weight, null, n, 1e-6f);
                vector.layernorm(a, 1, x, 5, weight, null, n, 1e-6f);
                assertNear(e, a, 1e-5, "layernorm without bias n=" + n);
            }
        }
    }

    /** The Vector API's exp and tanh are within a couple of ulps of Math's; results are O(1). */
    @Test
    void softmaxSiluSwigluAndSoftcapMatchScalar() {
        for (int n : SIZES) {
            float[] x = data.floats(n + 2, 4f);
            float[] up = data.floats(n, 1f);
            float[] e = x.clone();
            float[] a = x.clone();
            scalar.softmax(e, 2, n);
            vector.softmax(a, 2, n);
            assertNear(e, a, 2e-6, "softmax n=" + n);
            e = x.clone();
            a = x.clone();
            scalar.silu(e, 2, n);
            vector.silu(a, 2, n);
            assertNear(e, a, 2e-6, "silu n=" + n);
            e = new float[n];
            a = new float[n];
            scalar.swiglu(e, 0, x, 2, up, 0, n);
            vector.swiglu(a, 0, x, 2, up, 0, n);
            assertNear(e, a, 2e-6, "swiglu n=" + n);
            e = x.clone();
            a = x.clone();
            scalar.softcap(e, 2, n, 2.5f);
            vector.softcap(a, 2, n, 2.5f);
            assertNear(e, a, 2e-6, "softcap n=" + n);
        }
    }

    @Test
    void geluAndGegluEqualScalarExactly() {
        for (int n : SIZES) {
            float[] x = data.floats(n, 5f);
            float[] up = data.floats(n + 3, 1f);
            float[] e = x.clone();
            float[] a = x.clone();
            scalar.gelu(e, 0, n);
            vector.gelu(a, 0, n);
            assertNear(e, a, 0, "gelu n=" + n);
            scalar.geglu(e, 0, x, 0, up, 3, n);
            vector.geglu(a, 0, x, 0, up, 3, n);
            assertNear(e, a, 0, "geglu n=" + n);
        }
    }

    /** Elementwise single operations round the same way in both: exactly equal. */
    @Test
    void addMulScaleEqualScalarExactly() {
        for (int n : SIZES) {
            float[] x = data.floats(n + 1, 2f);
            float[] y = data.floats(n + 4, 2f);
            float[] e = new float[n + 2];
            float[] a = new float[n + 2];
            scalar.add(e, 2, x, 1, y, 4, n);
            vector.add(a, 2, x, 1, y, 4, n);
            assertNear(e, a, 0, "add n=" + n);
            scalar.mul(e, 2, x, 1, y, 4, n);
            vector.mul(a, 2, x, 1, y, 4, n);
            assertNear(e, a, 0, "mul n=" + n);
            e = x.clone();
            a = x.clone();
            scalar.scale(e, 1, n, -0.3f);
            vector.scale(a, 1, n, -0.3f);
            assertNear(e, a, 0, "scale n=" + n);
        }
    }

    /**
     * The read-bandwidth sum: the vector kernels' (whole 256-bit vectors, then words) against the
     * scalar default and a plain loop, at unaligned offsets, sizes around four 256-bit vectors (128
     * bytes) and four 512-bit ones (256 bytes, the build's 512-bit run), and with words whose sums
     * wrap. Integer sums: exact.
     */
    @Test
    void sumWordsMatchesScalar() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(9000);
            for (long o = 0; o + 8 <= s.byteSize(); o += 8) {
                s.set(ValueLayout.JAVA_LONG_UNALIGNED, o, ((long) data.nextInt(Integer.MAX_VALUE) << 33) ^ data.nextInt(1 << 30));
            }
            ValueLayout.OfLong le = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (long from : new long[] {0, 3, 8, 61}) {
                for (long bytes : new long[] {0, 8, 24, 120, 128, 136, 248, 256, 264, 1000, 8 * 1111}) {
                    long expected = 0;
                    for (long o = from; o < from + bytes; o += 8) expected += s.get(le, o);
                    assertEquals(expected, scalar.sumWords(s, from, bytes), "scalar from=" + from + " bytes=" + bytes);
                    assertEquals(expected, vector.sumWords(s, from, bytes), "vector from=" + from + " bytes=" + bytes);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> vector.sumWords(s, 0, 12));
            assertThrows(IllegalArgumentException.class, () -> scalar.sumWords(s, 0, 12));
        }
    }

    @Test
    void argmaxFindsTheSameFirstMaximum() {
        for (int n : SIZES) {
            float[] x = data.floats(n + 3, 1f);
            assertEquals(scalar.argmax(x, 3, n), vector.argmax(x, 3, n), "n=" + n + " " + data);
            int dup = data.nextInt(n);
            float[] ties = new float[n];
            ties[dup] = 5f;
            ties[n - 1] = 5f;
            assertEquals(dup, vector.argmax(ties, 0, n), "first of tied maxima, n=" + n);
        }
    }

    /** Same products and sums in both layouts (no reassociation): equal to the ulp. */
    @Test
    void ropeMatchesScalarInBothLayouts() {
        float[] factors = RopeTable.llama3FreqFactors(64, 500000f, 8f, 1f, 4f, 8192);
        RopeTable full = RopeTable.create(64, 300, 500000f, factors, 1f);
        RopeTable partial = RopeTable.create(40, 300, 10000f, null, 1f);
        for (RopeTable table : new RopeTable[] {full, partial}) {
            for (boolean neox : new boolean[] {false, true}) {
                for (int pos : new int[] {0, 1, 77, 299}) {
                    float[] x = data.floats(3 + 5 * 72, 1f);
                    float[] e = x.clone();
                    float[] a = x.clone();
                    scalar.rope(e, 3, 5, 72, pos, table, neox);
                    vector.rope(a, 3, 5, 72, pos, table, neox);
                    assertNear(e, a, 1e-6, "rope dim " + table.ropeDim() + " neox " + neox + " pos " + pos);
                }
            }
        }
    }

    /**
     * Weight rows in F32, F16 and Q8_0 (scale + 32 signed bytes per block) through both products.
     * The dot products of up to 320 terms differ only in summation order. A float sum of n terms
     * typically errs by about sqrt(n)·2^-24·Σ|w·x|, ~2e-4 for 320 unit-variance products whose sum
     * is ~18 in size, so 1e-4 relative to max(1, |y|); a wrong row or scale errs by O(1).
     */
    @Test
    void productsMatchScalarForF32F16AndQ8_0() {
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfShort f16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        try (Arena arena = Arena.ofShared()) { // read by the pool's threads
            for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0}) {
                for (int[] shape : new int[][] {{1, 32}, {37, 96}, {203, 320}}) {
                    int rows = shape[0];
                    int cols = shape[1];
                    MemorySegment seg = arena.allocate(type.byteSize((long) rows * cols));
                    for (long b = 0; b < (long) rows * cols / type.blockSize(); b++) {
                        long at = b * type.bytesPerBlock();
                        switch (type) {
                            case F32 -> seg.set(f32, at, (float) data.random.nextGaussian());
                            case F16 -> seg.set(f16, at, Float.floatToFloat16((float) data.random.nextGaussian()));
                            default -> {
                                seg.set(f16, at, Float.floatToFloat16(0.01f + data.random.nextFloat() * 0.02f));
                                for (int j = 0; j < 32; j++) seg.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) (data.nextInt(255) - 127));
                            }
                        }
                    }
                    Weights w = new Weights("w", type, seg, rows, cols);
                    int n = 3;
                    float[] x = data.floats(n * cols, 1f);
                    float[] e = new float[n * rows];
                    float[] a = new float[n * rows];
                    scalar.matmul(w, x, e, n);
                    vector.matmul(w, x, a, n);
                    assertNear(e, a, 1e-4, type + " matmul " + rows + "x" + cols);
                    float[] ev = new float[rows + 2];
                    float[] av = new float[rows + 2];
                    scalar.matvec(w, x, cols, ev, 2);
                    vector.matvec(w, x, cols, av, 2);
                    assertNear(ev, av, 1e-4, type + " matvec " + rows + "x" + cols);
                }
            }
        }
    }
}
