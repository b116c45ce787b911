package dev.kiri.kernels;

import dev.kiri.kernels.matmul.VectorMatmul;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API implementation, in the JVM's preferred vector size capped by
 * {@link VectorWidth} (256 bits unless {@code -Dkiri.vector.maxBits} allows more). Loaded only by
 * {@link KernelsProvider} after it has checked that {@code jdk.incubator.vector} is present, so
 * this class may touch vector types freely.
 *
 * <p>Products are {@link VectorMatmul}'s, on the instance's {@link ThreadPool}. Attention runs
 * on the same pool: the work is split by (token, KV head) so that the keys and values of a KV
 * head are read once for all the query heads that share it, and each thread keeps its own
 * scratch (allocated on first use, reused afterwards).
 */
public final class VectorKernels implements Kernels {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();

    /** Attention species: at most one key tile wide (a 512-bit species on wider machines). */
    private static final VectorSpecies<Float> A = L <= KvCache.KEY_TILE ? F : FloatVector.SPECIES_512;
    private static final int AL = A.length();
    private static final int T = KvCache.KEY_TILE;
    /** Positions per block of the streaming softmax: whole key tiles; a block of F32 values is 16 KiB at head dimension 64. */
    static final int BLOCK = 4 * KvCache.KEY_TILE;
    /** Below this many (position x query head) scores, attention stays on the calling thread. */
    private static final int PARALLEL_MIN_SCORES = 4096;

    private final ThreadPool pool;
    private final VectorMatmul matmul;
    private final String name;

    // Arguments of the attention call in flight, read by the pre-built task (no capture, no allocation).
    private final ThreadPool.Task attentionTask = this::attentionSlice;
    private AttentionScratch[] scratch = new AttentionScratch[0];
    private float[] aq;
    private float[] aout;
    private int an;
    private int aHeads;
    private KvCache aCache;
    private int aLayer;
    private int aPos0;
    private int aWindow;
    private float aScale;
    private float aSoftcap;
    private int aTasks;

    /** The vector size the kernels use, in bits; the provider refuses narrow vectors. */
    public static int preferredBitSize() {
        return F.vectorBitSize();
    }

    /** The JVM's preferred vector size in bits, before {@link VectorWidth}'s cap. */
    public static int machineBitSize() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }

    public VectorKernels(int threads) {
        this.pool = new ThreadPool(threads);
        this.matmul = new VectorMatmul(pool);
        this.name = "vector-" + F.vectorBitSize();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    // ---- matrix products --------------------------------------------------------------------

    @Override
    public void matvec(Weights w, float[] x, int xOff, float[] y, int yOff) {
        matmul.matvec(w, x, xOff, y, yOff);
    }

    @Override
    public void matvecs(Weights a, Weights b, Weights c, float[] x, int xOff, float[] ya, float[] yb, float[] yc) {
        matmul.matvecs(a, b, c, x, xOff, ya, yb, yc);
    }

    @Override
    public void matmul(Weights w, float[] x, float[] y, int n) {
        matmul.matmul(w, x, y, n);
    }

    // ---- normalisation ----------------------------------------------------------------------

    @Override
    public void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int size, float eps) {
        float inv = (float) (1.0 / Math.sqrt(sumOfSquares(x, xOff, size) / size + eps));
        int bound = F.loopBound(size);
        int i = 0;
        if (weight != null) {
            for (; i < bound; i += L) {
                FloatVector.fromArray(F, x, xOff + i).mul(inv).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, outOff + i);
            }
            for (; i < size; i++) out[outOff + i] = x[xOff + i] * inv * weight[i];
        } else {
            for (; i < bound; i += L) FloatVector.fromArray(F, x, xOff + i).mul(inv).intoArray(out, outOff + i);
            for (; i < size; i++) out[outOff + i] = x[xOff + i] * inv;
        }
    }

    private static double sumOfSquares(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, off + i);
            acc = v.fma(v, acc);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += (double) x[off + i] * x[off + i];
        return s;
    }

    @Override
    public void layernorm(float[] out, int outOff, float[] x, int xOff, float[] weight, float[] bias, int size, float eps) {
        int bound = F.loopBound(size);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < bound; i += L) acc = acc.add(FloatVector.fromArray(F, x, xOff + i));
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < size; i++) sum += x[xOff + i];
        float mean = (float) (sum / size);
        acc = FloatVector.zero(F);
        for (i = 0; i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(F, x, xOff + i).sub(mean);
            acc = d.fma(d, acc);
        }
        double var = acc.reduceLanes(VectorOperators.ADD);
        for (; i < size; i++) {
            double d = x[xOff + i] - mean;
            var += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(var / size + eps));
        for (i = 0; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i).sub(mean).mul(inv);
            if (weight != null) v = v.mul(FloatVector.fromArray(F, weight, i));
            if (bias != null) v = v.add(FloatVector.fromArray(F, bias, i));
            v.intoArray(out, outOff + i);
        }
        for (; i < size; i++) {
            float v = (x[xOff + i] - mean) * inv;
            if (weight != null) v *= weight[i];
            if (bias != null) v += bias[i];
            out[outOff + i] = v;
        }
    }

    // ---- positions --------------------------------------------------------------------------

    /**
     * NeoX pairs are {@code half} apart, so both halves load as plain vectors. The normal layout
     * interleaves the pairs; it stays a scalar loop (a few thousand pairs per token, far below
     * the cost of the products around it).
     */
    @Override
    public void rope(float[] x, int off, int nHeads, int headDim, int pos, RopeTable table, boolean neox) {
        ScalarKernels.checkRope(headDim, pos, table);
        int half = table.ropeDim() / 2;
        float[] cos = table.cosTable();
        float[] sin = table.sinTable();
        int t = pos * half;
        int bound = F.loopBound(half);
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            if (neox) {
                int i = 0;
                for (; i < bound; i += L) {
                    FloatVector x0 = FloatVector.fromArray(F, x, base + i);
                    FloatVector x1 = FloatVector.fromArray(F, x, base + i + half);
                    FloatVector c = FloatVector.fromArray(F, cos, t + i);
                    FloatVector s = FloatVector.fromArray(F, sin, t + i);
                    x0.mul(c).sub(x1.mul(s)).intoArray(x, base + i);
                    x0.mul(s).add(x1.mul(c)).intoArray(x, base + i + half);
                }
                for (; i < half; i++) rotate(x, base + i, base + i + half, cos[t + i], sin[t + i]);
            } else {
                for (int i = 0; i < half; i++) rotate(x, base + 2 * i, base + 2 * i + 1, cos[t + i], sin[t + i]);
            }
        }
    }

    private static void rotate(float[] x, int a, int b, float c, float s) {
        float x0 = x[a];
        float x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }

    // ---- elementwise ------------------------------------------------------------------------

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = max(x, off, n);
        float sum = expShiftedInPlace(x, off, n, max);
        scale(x, off, n, 1f / sum);
    }

    private static float max(float[] x, int off, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += L) m = m.max(FloatVector.fromArray(F, x, off + i));
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    /** {@code x[i] = exp(x[i] - shift)}; returns the sum. */
    private static float expShiftedInPlace(float[] x, int off, int n, float shift) {
        int bound = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector e = FloatVector.fromArray(F, x, off + i).sub(shift).lanewise(VectorOperators.EXP);
            e.intoArray(x, off + i);
            acc = acc.add(e);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - shift);
            x[off + i] = e;
            sum += e;
        }
        return sum;
    }

    @Override
    public void silu(float[] x, int off, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, x, off + i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = ScalarKernels.silu(x[off + i]);
    }

    /** Table lookups (see {@link Gelu#llamaCpp}); the F16 conversion is a single instruction on x86. */
    @Override
    public void gelu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) x[off + i] = Gelu.llamaCpp(x[off + i]);
    }

    @Override
    public void swiglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            // SiLU written out here and in silu(): a helper taking and returning a vector, once C2 had
            // compiled it on its own (too large to inline after that), boxed both on every call:
            // 12 KB per decode token in some JVMs (docs/KERNELS.md, "C2's trap budget").
            FloatVector g = FloatVector.fromArray(F, gate, gateOff + i);
            g.div(g.neg().lanewise(VectorOperators.EXP).add(1f)).mul(FloatVector.fromArray(F, up, upOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = ScalarKernels.silu(gate[gateOff + i]) * up[upOff + i];
    }

    @Override
    public void geglu(float[] out, int outOff, float[] gate, int gateOff, float[] up, int upOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = Gelu.llamaCpp(gate[gateOff + i]) * up[upOff + i];
    }

    @Override
    public void add(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, a, aOff + i).add(FloatVector.fromArray(F, b, bOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = a[aOff + i] + b[bOff + i];
    }

    @Override
    public void mul(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, a, aOff + i).mul(FloatVector.fromArray(F, b, bOff + i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = a[aOff + i] * b[bOff + i];
    }

    @Override
    public void scale(float[] x, int off, int n, float s) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) FloatVector.fromArray(F, x, off + i).mul(s).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= s;
    }

    @Override
    public void softcap(float[] x, int off, int n, float cap) {
        int bound = F.loopBound(n);
        float inv = 1f / cap;
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, off + i).mul(inv).lanewise(VectorOperators.TANH).mul(cap).intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = (float) (cap * Math.tanh(x[off + i] / cap));
    }

    /** A vector pass for the maximum, then a scan for its first occurrence. */
    @Override
    public int argmax(float[] x, int off, int n) {
        if (n <= 0) throw new IllegalArgumentException("argmax of an empty range");
        float max = max(x, off, n);
        for (int i = 0; i < n; i++) {
            if (x[off + i] == max) return i;
        }
        // Only NaNs compare unequal to the maximum they produced; fall back to the scalar rule.
        int best = 0;
        for (int i = 1; i < n; i++) if (x[off + i] > x[off + best]) best = i;
        return best;
    }

    /** Little-endian 64-bit words at any byte offset. */
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The long species of this instance's width ({@link VectorWidth#FLOAT}'s shape). */
    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, F.vectorShape());

    /**
     * Four accumulators of this instance's width (256 bits unless {@code -Dkiri.vector.maxBits}
     * allows more: the loads the kernels issue) over whole vectors, the scalar rule for the last words.
     */
    @Override
    public long sumWords(MemorySegment s, long from, long bytes) {
        if (bytes % 8 != 0) throw new IllegalArgumentException("not a whole number of 64-bit words: " + bytes);
        VectorSpecies<Long> species = LONGS;
        long step = species.vectorByteSize(), end = from + bytes, o = from;
        LongVector a0 = LongVector.zero(species), a1 = a0, a2 = a0, a3 = a0;
        for (; o + 4 * step <= end; o += 4 * step) {
            a0 = a0.add(LongVector.fromMemorySegment(species, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(species, s, o + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(LongVector.fromMemorySegment(species, s, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(LongVector.fromMemorySegment(species, s, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        long sum = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; o < end; o += 8) sum += s.get(WORD, o);
        return sum;
    }

    // ---- attention --------------------------------------------------------------------------

    /** Per-thread attention state: one KV head's group of query heads over one block of positions. */
    private static final class AttentionScratch {
        final float[] scores; // [groupHead][BLOCK]
        final float[] acc;    // [groupHead][headDim]
        final float[] max;    // running maximum per group head
        final float[] sum;    // running denominator per group head
        final float[] conv;   // F16 caches: a block of keys or values converted to F32
        final int group;
        final int headDim;

        AttentionScratch(int group, int headDim) {
            this.group = group;
            this.headDim = headDim;
            scores = new float[group * BLOCK];
            acc = new float[group * headDim];
            max = new float[group];
            sum = new float[group];
            conv = new float[BLOCK * headDim];
        }
    }

    /**
     * Work unit: one token and one KV head, i.e. the {@code nHeads / kvHeads} query heads that share
     * it. Positions are visited in blocks of {@link #BLOCK} (whole key tiles): score the block for
     * every head of the group, fold it into the running maximum (rescaling the accumulators when
     * the maximum grows), exponentiate, then add the weighted value rows. Memory is fixed by the
     * block size, whatever the context length.
     */
    @Override
    public void attention(float[] q, float[] out, int n, int nHeads, KvCache cache, int layer, int pos0,
                          int window, float scale, float softcap) {
        ScalarKernels.checkAttention(q, out, n, nHeads, cache, layer, pos0);
        int units = n * cache.kvHeads();
        int group = nHeads / cache.kvHeads();
        long scores = (long) n * nHeads * Math.max(1, window > 0 ? Math.min(window, pos0 + n) : pos0 + n);
        int tasks = scores < PARALLEL_MIN_SCORES ? 1 : Math.min(pool.threads(), units);
        ensureScratch(tasks, group, cache.headDim());
        aq = q;
        aout = out;
        an = n;
        aHeads = nHeads;
        aCache = cache;
        aLayer = layer;
        aPos0 = pos0;
        aWindow = window;
        aScale = scale;
        aSoftcap = softcap;
        aTasks = tasks;
        try {
            if (tasks == 1) {
                attentionSlice(0);
            } else {
                pool.run(tasks, attentionTask);
            }
        } finally {
            aq = aout = null;
            aCache = null;
        }
    }

    private void ensureScratch(int tasks, int group, int headDim) {
        if (scratch.length < tasks) {
            AttentionScratch[] grown = new AttentionScratch[pool.threads()];
            System.arraycopy(scratch, 0, grown, 0, scratch.length);
            scratch = grown;
        }
        for (int t = 0; t < tasks; t++) {
            AttentionScratch s = scratch[t];
            if (s == null || s.group < group || s.headDim != headDim) scratch[t] = new AttentionScratch(group, headDim);
        }
    }

    /** Units {@code task, task + tasks, ...}: strided, so that long and short causal rows mix. */
    private void attentionSlice(int task) {
        KvCache cache = aCache;
        int kvHeads = cache.kvHeads();
        int units = an * kvHeads;
        AttentionScratch s = scratch[task];
        for (int u = task; u < units; u += aTasks) {
            attendUnit(s, u / kvHeads, u % kvHeads);
        }
    }

    private void attendUnit(AttentionScratch s, int token, int kvh) {
        KvCache cache = aCache;
        int headDim = cache.headDim();
        int group = aHeads / cache.kvHeads();
        int p = aPos0 + token;
        int start = aWindow > 0 ? Math.max(0, p - aWindow + 1) : 0;
        int qBase = (token * aHeads + kvh * group) * headDim;
        float[] acc = s.acc;
        float[] scores = s.scores;
        java.util.Arrays.fill(acc, 0, group * headDim, 0f);
        java.util.Arrays.fill(s.max, 0, group, Float.NEGATIVE_INFINITY);
        java.util.Arrays.fill(s.sum, 0, group, 0f);
        boolean f16 = cache.type() == KvCache.Type.F16;
        float[] k32 = f16 ? null : cache.keysF32(aLayer);
        float[] v32 = f16 ? null : cache.valuesF32(aLayer);
        short[] k16 = f16 ? cache.keysF16(aLayer) : null;
        short[] v16 = f16 ? cache.valuesF16(aLayer) : null;

        for (int t0 = start / T * T; t0 <= p; t0 += BLOCK) {
            int lo = Math.max(0, start - t0);        // first visible slot of the block
            int hi = Math.min(BLOCK, p + 1 - t0);    // one past the last
            int tiles = (hi + T - 1) / T;
            int slots = tiles * T;
            float[] keys;
            int keyBase = cache.keyTileIndex(kvh, t0);
            if (f16) {
                toF32(k16, keyBase, s.conv, slots * headDim);
                keys = s.conv;
                keyBase = 0;
            } else {
                keys = k32;
            }
            scoreTiles(aq, qBase, group, headDim, keys, keyBase, tiles, scores);
            for (int j = 0; j < group; j++) {
                int so = j * BLOCK;
                scale(scores, so, slots, aScale);
                if (aSoftcap > 0) softcap(scores, so, slots, aSoftcap);
                // Slots outside [lo, hi) belong to the tiles but not to the visible range.
                java.util.Arrays.fill(scores, so, so + lo, Float.NEGATIVE_INFINITY);
                java.util.Arrays.fill(scores, so + hi, so + slots, Float.NEGATIVE_INFINITY);
                float blockMax = max(scores, so, slots);
                float oldMax = s.max[j];
                if (blockMax > oldMax) {
                    float c = (float) Math.exp(oldMax - blockMax); // 0 for the first block
                    s.sum[j] *= c;
                    scale(acc, j * headDim, headDim, c);
                    s.max[j] = blockMax;
                }
                s.sum[j] += expShiftedInPlace(scores, so, slots, s.max[j]);
            }
            float[] values;
            int valueBase = cache.valueIndex(kvh, t0 + lo);
            if (f16) {
                toF32(v16, valueBase, s.conv, (hi - lo) * headDim);
                values = s.conv;
                valueBase = 0;
            } else {
                values = v32;
            }
            for (int j = 0; j < group; j++) {
                addWeightedRows(scores, j * BLOCK + lo, hi - lo, values, valueBase, acc, j * headDim, headDim);
            }
        }
        float[] out = aout;
        for (int j = 0; j < group; j++) {
            float inv = 1f / s.sum[j];
            int o = qBase + j * headDim;
            int a = j * headDim;
            int bound = F.loopBound(headDim);
            int d = 0;
            for (; d < bound; d += L) FloatVector.fromArray(F, acc, a + d).mul(inv).intoArray(out, o + d);
            for (; d < headDim; d++) out[o + d] = acc[a + d] * inv;
        }
    }

    /**
     * Raw scores {@code q_j · k_t} of the {@code group} query heads at {@code q[qBase + j*headDim]}
     * against {@code tiles} consecutive key tiles, into {@code scores[j*BLOCK + t]}. Each vector
     * holds one dimension of {@code AL} consecutive positions, so a score vector is a chain of
     * multiply-adds with a broadcast query element; four heads at a time with two partial sums
     * each keep eight independent chains in flight.
     */
    static void scoreTiles(float[] q, int qBase, int group, int headDim, float[] k, int kBase, int tiles,
                                   float[] scores) {
        for (int tile = 0; tile < tiles; tile++) {
            int tb = kBase + tile * T * headDim;
            for (int col = 0; col < T; col += AL) {
                int kb = tb + col;
                int so = tile * T + col;
                int j = 0;
                for (; j + 4 <= group; j += 4) {
                    int q0 = qBase + j * headDim;
                    int q1 = q0 + headDim;
                    int q2 = q1 + headDim;
                    int q3 = q2 + headDim;
                    FloatVector a0 = FloatVector.zero(A), a1 = a0, a2 = a0, a3 = a0;
                    FloatVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                    int d = 0;
                    for (; d + 2 <= headDim; d += 2) {
                        FloatVector k0 = FloatVector.fromArray(A, k, kb + d * T);
                        FloatVector k1 = FloatVector.fromArray(A, k, kb + (d + 1) * T);
                        a0 = k0.fma(FloatVector.broadcast(A, q[q0 + d]), a0);
                        a1 = k0.fma(FloatVector.broadcast(A, q[q1 + d]), a1);
                        a2 = k0.fma(FloatVector.broadcast(A, q[q2 + d]), a2);
                        a3 = k0.fma(FloatVector.broadcast(A, q[q3 + d]), a3);
                        b0 = k1.fma(FloatVector.broadcast(A, q[q0 + d + 1]), b0);
                        b1 = k1.fma(FloatVector.broadcast(A, q[q1 + d + 1]), b1);
                        b2 = k1.fma(FloatVector.broadcast(A, q[q2 + d + 1]), b2);
                        b3 = k1.fma(FloatVector.broadcast(A, q[q3 + d + 1]), b3);
                    }
                    if (d < headDim) {
                        FloatVector k0 = FloatVector.fromArray(A, k, kb + d * T);
                        a0 = k0.fma(FloatVector.broadcast(A, q[q0 + d]), a0);
                        a1 = k0.fma(FloatVector.broadcast(A, q[q1 + d]), a1);
                        a2 = k0.fma(FloatVector.broadcast(A, q[q2 + d]), a2);
                        a3 = k0.fma(FloatVector.broadcast(A, q[q3 + d]), a3);
                    }
                    a0.add(b0).intoArray(scores, j * BLOCK + so);
                    a1.add(b1).intoArray(scores, (j + 1) * BLOCK + so);
                    a2.add(b2).intoArray(scores, (j + 2) * BLOCK + so);
                    a3.add(b3).intoArray(scores, (j + 3) * BLOCK + so);
                }
                for (; j < group; j++) {
                    int q0 = qBase + j * headDim;
                    FloatVector a0 = FloatVector.zero(A), a1 = a0, a2 = a0, a3 = a0;
                    int d = 0;
                    for (; d + 4 <= headDim; d += 4) {
                        a0 = FloatVector.fromArray(A, k, kb + d * T).fma(FloatVector.broadcast(A, q[q0 + d]), a0);
                        a1 = FloatVector.fromArray(A, k, kb + (d + 1) * T).fma(FloatVector.broadcast(A, q[q0 + d + 1]), a1);
                        a2 = FloatVector.fromArray(A, k, kb + (d + 2) * T).fma(FloatVector.broadcast(A, q[q0 + d + 2]), a2);
                        a3 = FloatVector.fromArray(A, k, kb + (d + 3) * T).fma(FloatVector.broadcast(A, q[q0 + d + 3]), a3);
                    }
                    for (; d < headDim; d++) {
                        a0 = FloatVector.fromArray(A, k, kb + d * T).fma(FloatVector.broadcast(A, q[q0 + d]), a0);
                    }
                    a0.add(a1).add(a2.add(a3)).intoArray(scores, j * BLOCK + so);
                }
            }
        }
    }

    /**
     * {@code acc[a + d] += Σ_t w[wOff + t] · v[vBase + t*headDim + d]} for {@code t < count}: four
     * vectors of the accumulator stay in registers across the positions, with separate partial
     * sums for even and odd positions (eight independent multiply-add chains).
     */
    static void addWeightedRows(float[] w, int wOff, int count, float[] v, int vBase, float[] acc, int a,
                                        int headDim) {
        int d = 0;
        for (; d + 4 * AL <= headDim; d += 4 * AL) {
            FloatVector a0 = FloatVector.fromArray(A, acc, a + d);
            FloatVector a1 = FloatVector.fromArray(A, acc, a + d + AL);
            FloatVector a2 = FloatVector.fromArray(A, acc, a + d + 2 * AL);
            FloatVector a3 = FloatVector.fromArray(A, acc, a + d + 3 * AL);
            FloatVector b0 = FloatVector.zero(A), b1 = b0, b2 = b0, b3 = b0;
            int t = 0;
            for (; t + 2 <= count; t += 2) {
                FloatVector wt = FloatVector.broadcast(A, w[wOff + t]);
                FloatVector wu = FloatVector.broadcast(A, w[wOff + t + 1]);
                int row = vBase + t * headDim + d;
                int next = row + headDim;
                a0 = FloatVector.fromArray(A, v, row).fma(wt, a0);
                a1 = FloatVector.fromArray(A, v, row + AL).fma(wt, a1);
                a2 = FloatVector.fromArray(A, v, row + 2 * AL).fma(wt, a2);
                a3 = FloatVector.fromArray(A, v, row + 3 * AL).fma(wt, a3);
                b0 = FloatVector.fromArray(A, v, next).fma(wu, b0);
                b1 = FloatVector.fromArray(A, v, next + AL).fma(wu, b1);
                b2 = FloatVector.fromArray(A, v, next + 2 * AL).fma(wu, b2);
                b3 = FloatVector.fromArray(A, v, next + 3 * AL).fma(wu, b3);
            }
            if (t < count) {
                FloatVector wt = FloatVector.broadcast(A, w[wOff + t]);
                int row = vBase + t * headDim + d;
                a0 = FloatVector.fromArray(A, v, row).fma(wt, a0);
                a1 = FloatVector.fromArray(A, v, row + AL).fma(wt, a1);
                a2 = FloatVector.fromArray(A, v, row + 2 * AL).fma(wt, a2);
                a3 = FloatVector.fromArray(A, v, row + 3 * AL).fma(wt, a3);
            }
            a0.add(b0).intoArray(acc, a + d);
            a1.add(b1).intoArray(acc, a + d + AL);
            a2.add(b2).intoArray(acc, a + d + 2 * AL);
            a3.add(b3).intoArray(acc, a + d + 3 * AL);
        }
        for (; d + AL <= headDim; d += AL) {
            FloatVector a0 = FloatVector.fromArray(A, acc, a + d);
            for (int t = 0; t < count; t++) {
                a0 = FloatVector.fromArray(A, v, vBase + t * headDim + d).fma(FloatVector.broadcast(A, w[wOff + t]), a0);
            }
            a0.intoArray(acc, a + d);
        }
        for (; d < headDim; d++) {
            float x = acc[a + d];
            for (int t = 0; t < count; t++) x += w[wOff + t] * v[vBase + t * headDim + d];
            acc[a + d] = x;
        }
    }

    /** F16 bits to F32; a plain loop that C2 compiles to vector conversions where the CPU has them. */
    private static void toF32(short[] src, int srcOff, float[] dst, int n) {
        for (int i = 0; i < n; i++) dst[i] = Float.float16ToFloat(src[srcOff + i]);
    }

    @Override
    public void close() {
        matmul.close();
        pool.close();
    }
}
