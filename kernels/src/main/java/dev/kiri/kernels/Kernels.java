package dev.kiri.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The operations a transformer decoder is written against. Implementations: a scalar reference
 * ({@code ScalarKernels}, obviously correct, the oracle of the tests) and a Vector API one,
 * chosen at run time by {@link KernelsProvider}. Activations are heap {@code float[]} with an
 * offset; weights are read in place through {@link Weights}.
 *
 * <p>Matrix products use every thread of the instance's pool; the other operations run on the
 * calling thread. An instance may be shared by models, but the parallel products of one
 * instance must not be called from two threads at once (each generation uses its own instance or
 * serialises its calls). No method allocates on the per-token path.
 */
public interface Kernels extends AutoCloseable {

    /** "scalar" or e.g. "vector-256 (AVX2)", for logs and benchmark reports. */
    String name();

    /** Threads used by the matrix products. */
    int threads();

    // ---- matrix products ------------------------------------------------------------------

    /** {@code y[yOff + r] = Σ_c W[r][c] · x[xOff + c]} for every row r of w. */
    void matvec(Weights w, float[] x, int xOff, float[] y, int yOff);

    /**
     * Two or three products of one input (a layer's Q, K and V; gate and up), outputs from offset 0:
     * {@code ya = A·x}, {@code yb = B·x} and, unless {@code c} is null, {@code yc = C·x}. The
     * results are those of separate {@link #matvec} calls (the same kernels on the same converted
     * input; with the Vector API, bit for bit only up to the order in which a vector's lanes are
     * summed, which the API leaves open and which differs between compiled and interpreted code);
     * an implementation may convert x once and run the products as one parallel job.
     */
    default void matvecs(Weights a, Weights b, Weights c, float[] x, int xOff, float[] ya, float[] yb, float[] yc) {
        matvec(a, x, xOff, ya, 0);
        matvec(b, x, xOff, yb, 0);
        if (c != null) matvec(c, x, xOff, yc, 0);
    }

    /**
     * Batched product for prefill: {@code y[i*w.rows() + r] = Σ_c W[r][c] · x[i*w.cols() + c]}
     * for {@code i} in {@code [0, n)}.
     */
    void matmul(Weights w, float[] x, float[] y, int n);

    // ---- normalisation ----------------------------------------------------------------------

    /** {@code out[i] = x[i] / sqrt(mean(x²) + eps) * weight[i]}; weight may be null (no scale). */
    void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int size, float eps);

    /** {@code out = (x - mean) / sqrt(var + eps) * weight + bias}; weight and bias may be null. */
    void layernorm(float[] out, int outOff, float[] x, int xOff, float[] weight, float[] bias, int size, float eps);

    // ---- positions --------------------------------------------------------------------------

    /**
     * Rotates {@code nHeads} heads of {@code headDim} at {@code x[off..]} for position {@code pos}
     * using the precomputed table. Only the first {@code table.ropeDim()} dimensions of each head
     * rotate. {@code neox} false pairs (2i, 2i+1); true pairs (i, i + ropeDim/2).
     */
    void rope(float[] x, int off, int nHeads, int headDim, int pos, RopeTable table, boolean neox);

    // ---- elementwise ------------------------------------------------------------------------

    void softmax(float[] x, int off, int n);

    /** {@code x[i] = x[i] / (1 + exp(-x[i]))}. */
    void silu(float[] x, int off, int n);

    /** {@code x[i] = gelu_tanh(x[i])}, evaluated as llama.cpp does (see {@link Gelu#llamaCpp}). */
    void gelu(float[] x, int off, int n);

    /** {@code out[i] = silu(gate[i]) * up[i]} (SwiGLU). */
    void swiglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n);

    /** {@code out[i] = gelu_tanh(gate[i]) * up[i]} (GeGLU), GELU as in {@link #gelu}. */
    void geglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n);

    /** {@code out[i] = a[i] + b[i]}. */
    void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code out[i] = a[i] * b[i]}. */
    void mul(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code x[i] *= s}. */
    void scale(float[] x, int off, int n, float s);

    /** {@code x[i] = cap * tanh(x[i] / cap)}. */
    void softcap(float[] x, int off, int n, float cap);

    /** Index, relative to {@code off}, of the largest of the {@code n} values (the first on ties). */
    int argmax(float[] x, int off, int n);

    /**
     * The sum (wrapping) of the little-endian 64-bit words in {@code [from, from + bytes)} of
     * {@code s}; {@code bytes} a multiple of 8. For measuring the read bandwidth the kernels meet
     * ({@code kiri bench}): a vector implementation reads whole vectors, so that the measurement is
     * bounded by memory rather than by load instructions, as a scalar loop is on some machines.
     */
    default long sumWords(MemorySegment s, long from, long bytes) {
        if (bytes % 8 != 0) throw new IllegalArgumentException("not a whole number of 64-bit words: " + bytes);
        ValueLayout.OfLong word = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        long a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        long o = from, end = from + bytes;
        for (; o + 32 <= end; o += 32) {
            a0 += s.get(word, o);
            a1 += s.get(word, o + 8);
            a2 += s.get(word, o + 16);
            a3 += s.get(word, o + 24);
        }
        for (; o < end; o += 8) a0 += s.get(word, o);
        return a0 + a1 + a2 + a3;
    }

    // ---- attention --------------------------------------------------------------------------

    /**
     * Causal grouped-query attention of the queries of {@code n} consecutive new tokens at
     * positions {@code pos0 .. pos0+n-1} over the cache, whose entries for those positions are
     * already stored. Query head h uses KV head {@code h / (nHeads / cache.kvHeads())}. Token
     * {@code i} attends to positions {@code max(0, p - window + 1) .. p} where {@code p = pos0 + i}
     * ({@code window <= 0}: no window). Scores are {@code q·k * scale}, soft-capped when
     * {@code softcap > 0}, then a streaming softmax. Layout: {@code q[i*nHeads*headDim + h*headDim + d]},
     * output the same.
     */
    void attention(float[] q, float[] out, int n, int nHeads, KvCache cache, int layer, int pos0,
                   int window, float scale, float softcap);

    @Override
    void close();
}
