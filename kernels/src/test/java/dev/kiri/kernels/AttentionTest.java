package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Attention of every implementation against a naive reference that materialises all scores and
 * normalises them with a two-pass softmax in double.
 */
class AttentionTest {
    /**
     * Float dot products of 64..80 terms of unit-variance values carry a relative error of about
     * sqrt(headDim)·2^-24 of the sum of |q_d·k_d|; through the softmax that moves an output, a
     * weighted mean of unit-variance values, by well under 1e-5. 1e-4 leaves room for summation
     * order differences and still catches any indexing or masking mistake (errors of order 0.1).
     */
    private static final double TOLERANCE = 1e-4;

    static List<Supplier<Kernels>> implementations() {
        return List.of(ScalarKernels::new, () -> new VectorKernels(1), () -> new VectorKernels(3));
    }

    private final TestData data = new TestData();

    @Test
    void matchesNaiveAttentionForGroupedHeadsWindowsSoftcapAndBothCacheTypes() {
        int[][] heads = {{4, 4}, {8, 2}, {6, 1}, {12, 4}};
        int[] windows = {0, 1, 5, 64};
        int[][] tokens = {{1, 0}, {1, 150}, {7, 0}, {9, 37}, {33, 190}}; // {n, pos0}
        for (Supplier<Kernels> impl : implementations()) {
            try (Kernels k = impl.get()) {
                int run = 0;
                for (KvCache.Type type : KvCache.Type.values()) {
                    for (int[] hk : heads) {
                        int headDim = (run++ % 2 == 0) ? 64 : 40;
                        for (int[] t : tokens) {
                            int window = windows[data.nextInt(windows.length)];
                            float softcap = data.nextInt(2) == 0 ? 0f : 1.5f;
                            check(k, type, hk[0], hk[1], headDim, t[0], t[1], window, softcap);
                        }
                    }
                }
            }
        }
    }

    @Test
    void longContextSingleTokenMatches() {
        for (Supplier<Kernels> impl : implementations()) {
            try (Kernels k = impl.get()) {
                check(k, KvCache.Type.F16, 32, 8, 64, 1, 3000, 0, 0f);
                check(k, KvCache.Type.F32, 16, 2, 128, 1, 4095, 1000, 0f);
                check(k, KvCache.Type.F32, 8, 2, 64, 40, 2000, 0, 0f);
            }
        }
    }

    @Test
    void rejectsHeadCountsThatAreNotAMultipleOfKvHeadsAndPositionsOutsideTheCache() {
        KvCache cache = new KvCache(1, 3, 8, 16, KvCache.Type.F32);
        float[] q = new float[4 * 8 * 4];
        for (Supplier<Kernels> impl : implementations()) {
            try (Kernels k = impl.get()) {
                assertThrows(IllegalArgumentException.class, () -> k.attention(q, q.clone(), 1, 4, cache, 0, 0, 0, 1f, 0f));
                assertThrows(IndexOutOfBoundsException.class, () -> k.attention(q, q.clone(), 2, 3, cache, 0, 15, 0, 1f, 0f));
            }
        }
    }

    private void check(Kernels k, KvCache.Type type, int nHeads, int kvHeads, int headDim, int n, int pos0,
                       int window, float softcap) {
        int layers = 2;
        int layer = 1;
        int capacity = pos0 + n + 3;
        KvCache cache = new KvCache(layers, kvHeads, headDim, capacity, type);
        for (int p = 0; p < pos0 + n; p++) {
            cache.store(layer, p, data.floats(kvHeads * headDim, 1f), 0, data.floats(kvHeads * headDim, 1f), 0);
        }
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] q = data.floats(n * nHeads * headDim, 1.5f);
        float[] out = new float[q.length];
        k.attention(q, out, n, nHeads, cache, layer, pos0, window, scale, softcap);
        float[] expected = naive(q, n, nHeads, cache, layer, pos0, window, scale, softcap);
        double err = TestData.maxRelError(out, 0, expected, 0, out.length);
        assertTrue(err <= TOLERANCE, k.name() + " " + type + " heads " + nHeads + "/" + kvHeads + " dim " + headDim
                + " n " + n + " pos0 " + pos0 + " window " + window + " softcap " + softcap + ": error " + err + ", " + data);
    }

    static float[] naive(float[] q, int n, int nHeads, KvCache cache, int layer, int pos0, int window, float scale,
                         float softcap) {
        int headDim = cache.headDim();
        int group = nHeads / cache.kvHeads();
        float[] out = new float[n * nHeads * headDim];
        for (int i = 0; i < n; i++) {
            int p = pos0 + i;
            for (int h = 0; h < nHeads; h++) {
                int kvh = h / group;
                int qo = (i * nHeads + h) * headDim;
                double[] scores = new double[p + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t <= p; t++) {
                    boolean visible = window <= 0 || t > p - window;
                    if (!visible) {
                        scores[t] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double s = 0;
                    for (int d = 0; d < headDim; d++) s += (double) q[qo + d] * cache.key(layer, kvh, t, d);
                    s *= scale;
                    if (softcap > 0) s = softcap * Math.tanh(s / softcap);
                    scores[t] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int t = 0; t <= p; t++) {
                    scores[t] = Math.exp(scores[t] - max);
                    sum += scores[t];
                }
                for (int d = 0; d < headDim; d++) {
                    double o = 0;
                    for (int t = 0; t <= p; t++) o += scores[t] / sum * cache.value(layer, kvh, t, d);
                    out[qo + d] = (float) o;
                }
            }
        }
        return out;
    }
}
