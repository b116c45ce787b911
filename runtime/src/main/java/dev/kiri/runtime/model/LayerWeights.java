package dev.kiri.runtime.model;

import dev.kiri.kernels.Weights;

/**
 * The tensors of one decoder block. Matrices are read in place from the mapped file; 1-D norm
 * weights and biases are small and copied to {@code float[]}. Absent parts are null: which ones
 * may be absent is decided by {@link Architecture} when binding.
 */
public record LayerWeights(
        float[] attnNorm,
        Weights wq, Weights wk, Weights wv,
        float[] bq, float[] bk, float[] bv,
        float[] qNorm, float[] kNorm,
        Weights wo,
        float[] postAttnNorm,
        float[] ffnNorm,
        Weights wGate, Weights wUp, Weights wDown,
        float[] postFfnNorm) {
}
