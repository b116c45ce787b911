package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GeluTest {

    @Test
    void exactMatchesTheTanhFormula() {
        for (float x = -6f; x <= 6f; x += 0.37f) {
            double e = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            assertEquals(e, Gelu.exact(x), 1e-6, "x=" + x);
        }
        assertEquals(0f, Gelu.exact(0f));
    }

    @Test
    void llamaCppFormRoundsInputAndOutputToF16() {
        TestData data = new TestData();
        for (int i = 0; i < 10_000; i++) {
            float x = (float) (data.random.nextGaussian() * 4);
            float y = Gelu.llamaCpp(x);
            if (x <= -10f || x >= 10f) continue;
            float xh = Float.float16ToFloat(Float.floatToFloat16(x));
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(Gelu.exact(xh))), y, "x=" + x + " " + data);
            assertEquals(y, Float.float16ToFloat(Float.floatToFloat16(y)), "output is an F16 value");
            // F16 rounding of input and output stays within a few F16 ulps of the exact function
            assertTrue(Math.abs(y - Gelu.exact(x)) <= 2e-3 * Math.max(1, Math.abs(x)), "x=" + x);
        }
    }

    @Test
    void llamaCppFormSaturatesOutsideMinusTenToTen() {
        assertEquals(0f, Gelu.llamaCpp(-10f));
        assertEquals(0f, Gelu.llamaCpp(-1e30f));
        assertEquals(10f, Gelu.llamaCpp(10f));
        assertEquals(12.345678f, Gelu.llamaCpp(12.345678f)); // not F16-rounded
        assertTrue(Gelu.llamaCpp(9.99f) != 9.99f);
    }
}
