package dev.kiri.kernels;

import dev.kiri.kernels.matmul.Matmul;
import dev.kiri.kernels.matmul.ScalarMatmul;

/**
 * The reference implementation: plain loops, one thread, obviously correct. It is the oracle
 * of the Vector API kernels' tests and the fallback when the Vector API is absent or disabled.
 * Sums of squares and softmax denominators accumulate in double. Products are
 * {@link ScalarMatmul}'s.
 */
public final class ScalarKernels implements Kernels {
    // Attention scratch: the running weighted sum of values of one head.
    private float[] acc = new float[0];
    private final Matmul matmul = new ScalarMatmul();

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int threads() {
        return 1;
    }

    // ---- matrix products --------------------------------------------------------------------

    @Override
    public void matvec(Weights w, float[] x, int xOff, float[] y, int yOff) {
        matmul.matvec(w, x, xOff, y, yOff);
    }

    @Override
    public void matmul(Weights w, float[] x, float[] y, int n) {
        matmul.matmul(w, x, y, n);
    }

    // ---- normalisation ----------------------------------------------------------------------

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int size, float eps) {
        double ss = 0;
        for (int i = 0; i < size; i++) ss += (double) x[xOff + i] * x[xOff + i];
        float inv = (float) (1.0 / Math.sqrt(ss / size + eps));
        for (int i = 0; i < size; i++) {
            float v = x[xOff + i] * inv;
            out[outOff + i] = weight != null ? v * weight[i] : v;
        }
    }

    @Override
    public void layernorm(float[] out, int outOff, float[] x, int xOff, float[] weight, float[] bias, int size, float eps) {
        double sum = 0;
        for (int i = 0; i < size; i++) sum += x[xOff + i];
        float mean = (float) (sum / size);
        double var = 0;
        for (int i = 0; i < size; i++) {
            double d = x[xOff + i] - mean;
            var += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(var / size + eps));
        for (int i = 0; i < size; i++) {
            float v = (x[xOff + i] - mean) * inv;
            if (weight != null) v *= weight[i];
            if (bias != null) v += bias[i];
            out[outOff + i] = v;
        }
    }

    // ---- positions --------------------------------------------------------------------------

    @Override
    public void rope(float[] x, int off, int nHeads, int headDim, int pos, RopeTable table, boolean neox) {
        int half = table.ropeDim() / 2;
        checkRope(headDim, pos, table);
        float[] cos = table.cosTable();
        float[] sin = table.sinTable();
        int t = pos * half;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int a = neox ? base + i : base + 2 * i;
                int b = neox ? base + i + half : base + 2 * i + 1;
                float x0 = x[a];
                float x1 = x[b];
                float c = cos[t + i];
                float s = sin[t + i];
                x[a] = x0 * c - x1 * s;
                x[b] = x0 * s + x1 * c;
            }
        }
    }

    static void checkRope(int headDim, int pos, RopeTable table) {
        if (table.ropeDim() > headDim) {
            throw new IllegalArgumentException("rope dimension " + table.ropeDim() + " exceeds head dimension " + headDim);
        }
        if (pos < 0 || pos >= table.maxPositions()) {
            throw new IndexOutOfBoundsException("position " + pos + " outside the rope table of " + table.maxPositions());
        }
    }

    // ---- elementwise ------------------------------------------------------------------------

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    @Override
    public void silu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) x[off + i] = silu(x[off + i]);
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) x[off + i] = Gelu.llamaCpp(x[off + i]);
    }

    @Override
    public void swiglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = silu(gate[gateOff + i]) * up[upOff + i];
    }

    @Override
    public void geglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = Gelu.llamaCpp(gate[gateOff + i]) * up[upOff + i];
    }

    static float silu(float g) {
        return (float) (g / (1.0 + Math.exp(-g)));
    }

    @Override
    public void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
    }

    @Override
    public void mul(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        for (int i = 0; i < n; i++) x[off + i] *= s;
    }

    @Override
    public void softcap(float[] x, int off, int n, float cap) {
        for (int i = 0; i < n; i++) x[off + i] = (float) (cap * Math.tanh(x[off + i] / cap));
    }

    @Override
    public int argmax(float[] x, int off, int n) {
        if (n <= 0) throw new IllegalArgumentException("argmax of an empty range");
        int best = 0;
        float max = x[off];
        for (int i = 1; i < n; i++) {
            if (x[off + i] > max) {
                max = x[off + i];
                best = i;
            }
        }
        return best;
    }

    // ---- attention --------------------------------------------------------------------------

    /**
     * One pass over the cache per (token, head) with a running maximum: when a score exceeds the
     * maximum so far, the denominator and the accumulated values are rescaled by
     * {@code exp(oldMax - newMax)}. Memory: one head-sized accumulator, whatever the context.
     */
    @Override
    public void attention(float[] q, float[] out, int n, int nHeads, KvCache cache, int layer, int pos0,
                          int window, float scale, float softcap) {
        checkAttention(q, out, n, nHeads, cache, layer, pos0);
        int headDim = cache.headDim();
        int group = nHeads / cache.kvHeads();
        if (acc.length < headDim) acc = new float[headDim];
        float[] a = acc;
        for (int i = 0; i < n; i++) {
            int p = pos0 + i;
            int start = window > 0 ? Math.max(0, p - window + 1) : 0;
            for (int h = 0; h < nHeads; h++) {
                int kvh = h / group;
                int qo = (i * nHeads + h) * headDim;
                float max = Float.NEGATIVE_INFINITY;
                double sum = 0;
                java.util.Arrays.fill(a, 0, headDim, 0f);
                for (int t = start; t <= p; t++) {
                    float s = 0;
                    for (int d = 0; d < headDim; d++) s += q[qo + d] * cache.key(layer, kvh, t, d);
                    s *= scale;
                    if (softcap > 0) s = (float) (softcap * Math.tanh(s / softcap));
                    if (s > max) {
                        float c = (float) Math.exp(max - s); // 0 on the first score
                        sum *= c;
                        for (int d = 0; d < headDim; d++) a[d] *= c;
                        max = s;
                    }
                    float wgt = (float) Math.exp(s - max);
                    sum += wgt;
                    for (int d = 0; d < headDim; d++) a[d] += wgt * cache.value(layer, kvh, t, d);
                }
                float inv = (float) (1.0 / sum);
                for (int d = 0; d < headDim; d++) out[qo + d] = a[d] * inv;
            }
        }
    }

    static void checkAttention(float[] q, float[] out, int n, int nHeads, KvCache cache, int layer, int pos0) {
        if (n <= 0 || nHeads <= 0) throw new IllegalArgumentException("attention over " + n + " tokens of " + nHeads + " heads");
        if (nHeads % cache.kvHeads() != 0) {
            throw new IllegalArgumentException(nHeads + " query heads are not a multiple of " + cache.kvHeads() + " KV heads");
        }
        if (layer < 0 || layer >= cache.layers()) throw new IndexOutOfBoundsException("layer " + layer + " of " + cache.layers());
        if (pos0 < 0 || pos0 + n > cache.capacity()) {
            throw new IndexOutOfBoundsException("positions " + pos0 + ".." + (pos0 + n - 1) + " outside the KV cache of " + cache.capacity());
        }
        long need = (long) n * nHeads * cache.headDim();
        if (q.length < need || out.length < need) {
            throw new IllegalArgumentException("attention arrays too short: need " + need + " floats, q " + q.length + ", out " + out.length);
        }
    }

    @Override
    public void close() {
        matmul.close();
    }
}
