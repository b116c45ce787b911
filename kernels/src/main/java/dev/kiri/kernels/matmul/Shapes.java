package dev.kiri.kernels.matmul;

import dev.kiri.kernels.Weights;

/** Argument checks shared by the implementations, with messages that name the tensor. */
final class Shapes {
    private Shapes() {
    }

    static void checkMatvec(Weights w, float[] x, int xOff, float[] y, int yOff) {
        if (xOff < 0 || (long) xOff + w.cols() > x.length) {
            throw new IndexOutOfBoundsException(w.name() + ": input needs " + w.cols() + " values at offset " + xOff
                    + ", array has " + x.length);
        }
        if (yOff < 0 || (long) yOff + w.rows() > y.length) {
            throw new IndexOutOfBoundsException(w.name() + ": output needs " + w.rows() + " values at offset " + yOff
                    + ", array has " + y.length);
        }
    }

    static void checkMatmul(Weights w, float[] x, float[] y, int n) {
        if (n < 0) throw new IllegalArgumentException(w.name() + ": negative batch " + n);
        if ((long) n * w.cols() > x.length) {
            throw new IndexOutOfBoundsException(w.name() + ": input needs " + n + "x" + w.cols() + " values, array has "
                    + x.length);
        }
        if ((long) n * w.rows() > y.length) {
            throw new IndexOutOfBoundsException(w.name() + ": output needs " + n + "x" + w.rows() + " values, array has "
                    + y.length);
        }
    }
}
