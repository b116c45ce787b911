package dev.kiri.kernels;

/**
 * The tanh approximation of GELU, {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}, exactly
 * and the way llama.cpp's CPU backend evaluates it.
 *
 * <p>llama.cpp looks GELU up in a table indexed by the F16 bits of the input: the input is
 * rounded to F16, the result is the F16 rounding of GELU of that F16 value, and inputs at or
 * below -10 give 0 and at or above 10 give x unchanged. Against the Gemma reference logits the
 * exact function differs by up to 7e-4 and the table emulation by 1.6e-4, so the kernels'
 * {@code gelu} and {@code geglu} use {@link #llamaCpp}; {@link #exact} stays available.
 */
public final class Gelu {
    private static final double SQRT_2_OVER_PI = 0.79788456080286535587989211986876;
    private static final double COEF_A = 0.044715;

    /** F32 GELU of every F16 value, indexed by the F16 bits (256 KiB, built once). */
    private static final float[] TABLE = new float[1 << 16];

    static {
        for (int bits = 0; bits < TABLE.length; bits++) {
            float x = Float.float16ToFloat((short) bits);
            TABLE[bits] = Float.float16ToFloat(Float.floatToFloat16(exact(x)));
        }
    }

    private Gelu() {
    }

    /** tanh-GELU in F32 (evaluated in double, rounded once). */
    public static float exact(float x) {
        double d = x;
        return (float) (0.5 * d * (1 + Math.tanh(SQRT_2_OVER_PI * d * (1 + COEF_A * d * d))));
    }

    /** tanh-GELU as llama.cpp's F16 table gives it (see the class comment). */
    public static float llamaCpp(float x) {
        if (x <= -10f) return 0f;
        if (x >= 10f) return x;
        return TABLE[Float.floatToFloat16(x) & 0xffff];
    }
}
