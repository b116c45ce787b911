package dev.kiri.kernels;

import java.util.Random;

/** Fresh random inputs for kernel tests; the seed goes into every failure message. */
final class TestData {
    final long seed;
    final Random random;

    TestData() {
        this(System.nanoTime());
    }

    TestData(long seed) {
        this.seed = seed;
        this.random = new Random(seed);
    }

    float[] floats(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextGaussian() * scale);
        return a;
    }

    int nextInt(int bound) {
        return random.nextInt(bound);
    }

    @Override
    public String toString() {
        return "seed " + seed;
    }

    /** Largest |a[i] - b[i]| / max(1, |b[i]|) over the range. */
    static double maxRelError(float[] a, int aOff, float[] b, int bOff, int n) {
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.abs(a[aOff + i] - b[bOff + i]) / Math.max(1.0, Math.abs(b[bOff + i]));
            if (!(e <= worst)) worst = e; // NaN propagates as worst
        }
        return worst;
    }
}
