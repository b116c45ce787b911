package dev.kiri.kernels.matmul;

import dev.kiri.kernels.Weights;

/**
 * The reference matrix products: one thread, every row through {@link ScalarDots}, the same
 * activation conversion as the fast path. Obviously correct rather than fast; it is the oracle of
 * the tests and the fallback when the Vector API is not available.
 */
public final class ScalarMatmul implements Matmul {
    private final Activations act = new Activations();

    public ScalarMatmul() {
    }

    @Override
    public void matvec(Weights w, float[] x, int xOff, float[] y, int yOff) {
        Shapes.checkMatvec(w, x, xOff, y, yOff);
        act.prepare(VecDotType.of(w.name(), w.type()), x, xOff, w.cols(), 1, true, false);
        long rowBytes = w.rowBytes();
        for (int r = 0; r < w.rows(); r++) {
            y[yOff + r] = ScalarDots.dot(w.type(), w.data(), r * rowBytes, w.cols(), act, 0);
        }
    }

    @Override
    public void matmul(Weights w, float[] x, float[] y, int n) {
        Shapes.checkMatmul(w, x, y, n);
        act.prepare(VecDotType.of(w.name(), w.type()), x, 0, w.cols(), n, true, false);
        long rowBytes = w.rowBytes();
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < w.rows(); r++) {
                y[i * w.rows() + r] = ScalarDots.dot(w.type(), w.data(), r * rowBytes, w.cols(), act, i);
            }
        }
    }

    @Override
    public void close() {
    }
}
