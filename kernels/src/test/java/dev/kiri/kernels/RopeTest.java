package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** RoPE of the scalar reference against the rotation written out with angles from {@code Math.pow}. */
class RopeTest {
    private final TestData data = new TestData();

    /**
     * The table holds float angles built by repeated float multiplication (as llama.cpp does).
     * At the last position tested the angle is ~4095 rad, whose float rounding alone is up to
     * 2.4e-4 rad (measured worst cos/sin difference from double: 2.5e-4). A rotated value then
     * errs by at most |Δθ|·(|x0| + |x1|), so the bound is 5e-4 of that; a wrong pairing or sign
     * gives errors of the order of the values themselves.
     */
    private static final double ANGLE_TOLERANCE = 5e-4;

    @Test
    void normalLayoutRotatesAdjacentPairs() {
        check(false, 64, 64, null, 1f);
    }

    @Test
    void neoxLayoutRotatesHalvesAndLeavesTheUnrotatedTailAlone() {
        check(true, 80, 48, null, 1f);
    }

    @Test
    void llama3FrequencyFactorsAndLinearScaleDivideTheAngles() {
        float[] factors = RopeTable.llama3FreqFactors(64, 500000f, 8f, 1f, 4f, 8192);
        assertEquals(1f, factors[0]);          // short wavelengths are kept
        assertEquals(8f, factors[31], 1e-6f);  // long ones are slowed by the factor
        check(false, 64, 64, factors, 1f);
        check(true, 64, 64, factors, 0.25f);
    }

    @Test
    void positionsOutsideTheTableAreRejected() {
        RopeTable t = RopeTable.create(8, 4, 10000f, null, 1f);
        float[] x = new float[8];
        assertThrows(IndexOutOfBoundsException.class, () -> new ScalarKernels().rope(x, 0, 1, 8, 4, t, false));
        assertThrows(IllegalArgumentException.class, () -> new ScalarKernels().rope(x, 0, 1, 4, 0, t, false));
    }

    private void check(boolean neox, int headDim, int ropeDim, float[] factors, float linear) {
        float base = 10000f;
        int nHeads = 3;
        int maxPos = 4096;
        RopeTable table = RopeTable.create(ropeDim, maxPos, base, factors, linear);
        ScalarKernels k = new ScalarKernels();
        for (int pos : new int[] {0, 1, 17, 4095}) {
            float[] x = data.floats(2 + nHeads * headDim, 1f);
            float[] y = x.clone();
            k.rope(y, 2, nHeads, headDim, pos, table, neox);
            int half = ropeDim / 2;
            for (int h = 0; h < nHeads; h++) {
                int base0 = 2 + h * headDim;
                for (int i = 0; i < half; i++) {
                    double theta = pos * linear * Math.pow(base, -2.0 * i / ropeDim) / (factors == null ? 1 : factors[i]);
                    int a = neox ? base0 + i : base0 + 2 * i;
                    int b = neox ? base0 + i + half : base0 + 2 * i + 1;
                    double ea = x[a] * Math.cos(theta) - x[b] * Math.sin(theta);
                    double eb = x[a] * Math.sin(theta) + x[b] * Math.cos(theta);
                    double tol = ANGLE_TOLERANCE * (Math.abs(x[a]) + Math.abs(x[b])) + 1e-6;
                    assertTrue(Math.abs(ea - y[a]) <= tol && Math.abs(eb - y[b]) <= tol,
                            "pos " + pos + " head " + h + " pair " + i + ": " + y[a] + "," + y[b] + " vs " + ea + "," + eb + " " + data);
                }
                for (int d = ropeDim; d < headDim; d++) {
                    int idx = base0 + d;
                    assertEquals(x[idx], y[idx], "unrotated dim " + d);
                }
            }
            assertEquals(x[0], y[0]);
            assertEquals(x[1], y[1]);
        }
    }
}
