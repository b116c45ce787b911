package dev.kiri.kernels.matmul;

import dev.kiri.kernels.Weights;

/**
 * Matrix-vector (decode) and matrix-matrix (prefill) products with weights read in place.
 *
 * <p>Activations are converted first to the weight type's "vec-dot type", as llama.cpp does
 * ({@link VecDotType}): rounded to F16 or BF16 for those weights, quantized to 8-bit blocks
 * (Q8_0, Q8_1 or Q8_K) for the quantized ones, whose block dot products are then exact integer
 * sums. An instance keeps the converted activations in buffers it reuses, so it must not be
 * called from two threads at once.
 */
public interface Matmul extends AutoCloseable {

    /** {@code y[yOff + r] = Σ_c W[r][c] · x[xOff + c]} for every row r of w. */
    void matvec(Weights w, float[] x, int xOff, float[] y, int yOff);

    /** {@code y[i*w.rows() + r] = Σ_c W[r][c] · x[i*w.cols() + c]} for {@code i} in {@code [0, n)}. */
    void matmul(Weights w, float[] x, float[] y, int n);

    @Override
    void close();
}
