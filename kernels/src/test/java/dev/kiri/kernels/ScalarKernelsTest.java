package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The scalar reference against the textbook formulas, evaluated independently in double. */
class ScalarKernelsTest {
    private final ScalarKernels k = new ScalarKernels();
    private final TestData data = new TestData();

    private static void assertClose(double expected, float actual, double tol, String what) {
        double err = Math.abs(expected - actual) / Math.max(1.0, Math.abs(expected));
        assertTrue(err <= tol, what + ": expected " + expected + ", got " + actual + " (rel err " + err + ")");
    }

    @Test
    void rmsnormDividesByRootMeanSquareAndScales() {
        int n = 37;
        float[] x = data.floats(n + 3, 2f);
        float[] w = data.floats(n, 1f);
        float[] out = new float[n + 5];
        k.rmsnorm(out, 5, x, 3, w, n, 1e-5f);
        double ms = 0;
        for (int i = 0; i < n; i++) ms += (double) x[3 + i] * x[3 + i];
        double inv = 1 / Math.sqrt(ms / n + 1e-5);
        for (int i = 0; i < n; i++) assertClose(x[3 + i] * inv * w[i], out[5 + i], 1e-6, "rmsnorm[" + i + "] " + data);
        k.rmsnorm(out, 0, x, 3, null, n, 1e-5f);
        for (int i = 0; i < n; i++) assertClose(x[3 + i] * inv, out[i], 1e-6, "rmsnorm without weight[" + i + "]");
    }

    @Test
    void layernormCentresScalesAndShifts() {
        int n = 29;
        float[] x = data.floats(n, 3f);
        float[] w = data.floats(n, 1f);
        float[] b = data.floats(n, 1f);
        float[] out = new float[n];
        k.layernorm(out, 0, x, 0, w, b, n, 1e-6f);
        double mean = 0;
        for (float v : x) mean += v;
        mean /= n;
        double var = 0;
        for (float v : x) var += (v - mean) * (v - mean);
        var /= n;
        for (int i = 0; i < n; i++) {
            assertClose((x[i] - mean) / Math.sqrt(var + 1e-6) * w[i] + b[i], out[i], 1e-5, "layernorm[" + i + "] " + data);
        }
    }

    @Test
    void softmaxIsExpOverSumAndSurvivesLargeInputs() {
        int n = 19;
        float[] x = data.floats(n, 4f);
        x[7] = 1000f; // exp(1000) overflows without the max shift
        float[] y = x.clone();
        k.softmax(y, 0, n);
        double max = 1000, sum = 0;
        for (float v : x) sum += Math.exp(v - max);
        for (int i = 0; i < n; i++) assertClose(Math.exp(x[i] - max) / sum, y[i], 1e-6, "softmax[" + i + "]");
    }

    @Test
    void siluAndSwigluFollowTheFormula() {
        int n = 23;
        float[] g = data.floats(n, 3f);
        float[] u = data.floats(n, 1f);
        float[] out = new float[n];
        k.swiglu(out, 0, g, 0, u, 0, n);
        float[] s = g.clone();
        k.silu(s, 0, n);
        for (int i = 0; i < n; i++) {
            double silu = g[i] / (1 + Math.exp(-g[i]));
            assertClose(silu, s[i], 1e-6, "silu");
            assertClose(silu * u[i], out[i], 1e-6, "swiglu");
        }
    }

    @Test
    void geluAndGegluUseTheLlamaCppTable() {
        float[] g = {-12f, -10f, -3.3f, -0.5f, 0f, 0.1234567f, 1.5f, 9.99f, 10f, 11.5f};
        float[] u = {2f, 2f, 2f, 2f, 2f, 2f, 2f, 2f, 2f, 2f};
        float[] out = new float[g.length];
        k.geglu(out, 0, g, 0, u, 0, g.length);
        float[] y = g.clone();
        k.gelu(y, 0, g.length);
        for (int i = 0; i < g.length; i++) {
            assertEquals(Gelu.llamaCpp(g[i]), y[i], "gelu(" + g[i] + ")");
            assertEquals(Gelu.llamaCpp(g[i]) * 2f, out[i], "geglu(" + g[i] + ")");
        }
    }

    @Test
    void addMulScaleAndSoftcapAreElementwise() {
        int n = 17;
        float[] a = data.floats(n, 5f);
        float[] b = data.floats(n, 5f);
        float[] out = new float[n + 2];
        k.add(out, 2, a, 0, b, 0, n);
        for (int i = 0; i < n; i++) assertEquals(a[i] + b[i], out[2 + i]);
        k.mul(out, 1, a, 0, b, 0, n);
        for (int i = 0; i < n; i++) assertEquals(a[i] * b[i], out[1 + i]);
        float[] s = a.clone();
        k.scale(s, 0, n, 0.25f);
        for (int i = 0; i < n; i++) assertEquals(a[i] * 0.25f, s[i]);
        float[] c = a.clone();
        k.softcap(c, 0, n, 3f);
        for (int i = 0; i < n; i++) {
            assertClose(3 * Math.tanh(a[i] / 3), c[i], 1e-6, "softcap");
            assertTrue(Math.abs(c[i]) <= 3f);
        }
    }

    @Test
    void argmaxReturnsTheFirstLargest() {
        float[] x = {1f, 5f, -2f, 5f, 4f};
        assertEquals(1, k.argmax(x, 0, 5));
        assertEquals(0, k.argmax(x, 1, 4)); // relative to the offset
        assertEquals(1, k.argmax(x, 2, 3));
        assertEquals(0, k.argmax(x, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> k.argmax(x, 0, 0));
    }

    @Test
    void matvecF32MultipliesRowsByTheVector() {
        int rows = 7, cols = 13;
        float[] w = data.floats(rows * cols, 1f);
        float[] x = data.floats(cols, 1f);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * w.length);
            for (int i = 0; i < w.length; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, w[i]);
            Weights weights = new Weights("w", GgmlType.F32, seg, rows, cols);
            float[] y = new float[rows + 1];
            k.matvec(weights, x, 0, y, 1);
            float[] xs = new float[2 * cols];
            System.arraycopy(x, 0, xs, cols, cols);
            float[] ys = new float[2 * rows];
            k.matmul(weights, xs, ys, 2);
            for (int r = 0; r < rows; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) s += (double) w[r * cols + c] * x[c];
                assertClose(s, y[1 + r], 1e-5, "row " + r);
                assertClose(s, ys[rows + r], 1e-5, "batched row " + r);
                assertEquals(0f, ys[r], 1e-30f, "zero input row gives zero");
            }
        }
    }
}
