package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;

/**
 * The form the activations take before they meet a weight type (llama.cpp's {@code vec_dot_type}):
 * F32 as is, F16/BF16 rounded, or quantized to 8-bit blocks with one scale per 32 (Q8_0, Q8_1 with
 * the block sum) or per 256 values (Q8_K with sums per 16).
 */
enum VecDotType {
    F32, F16, BF16, Q8_0, Q8_1, Q8_K;

    /** The activation form llama.cpp pairs with weight type {@code t}. */
    static VecDotType of(String tensor, GgmlType t) {
        return switch (t) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case Q8_0, Q4_0, Q5_0, IQ4_NL -> Q8_0;
            case Q4_1, Q5_1 -> Q8_1;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_XS -> Q8_K;
            default -> throw new IllegalArgumentException(tensor + ": matrix products do not support weight type "
                    + t.ggmlName());
        };
    }

    /** Values per activation block (1 for the float forms). */
    int blockSize() {
        return switch (this) {
            case F32, F16, BF16 -> 1;
            case Q8_0, Q8_1 -> 32;
            case Q8_K -> 256;
        };
    }
}
