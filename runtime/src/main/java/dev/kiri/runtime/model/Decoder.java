package dev.kiri.runtime.model;

import dev.kiri.kernels.Kernels;
import dev.kiri.kernels.RopeTable;
import dev.kiri.kernels.Weights;
import dev.kiri.kernels.matmul.Interleave;
import dev.kiri.runtime.ContextFullException;

/**
 * The transformer decoder, written once for every supported architecture; the differences come
 * from {@link Architecture} flags and {@link ModelConfig} values. One call runs a batch of
 * consecutive tokens through every layer (matrix-matrix products for a prompt, matrix-vector for a
 * single decode step), appends their keys and values to the state's cache and leaves the logits
 * of the last token (or of every token) behind.
 *
 * <p>A decoder holds no per-sequence data and allocates nothing per call; it is used by one
 * thread at a time because its {@link Kernels} are.
 */
public final class Decoder implements Forward {
    private final ModelConfig c;
    private final ModelWeights w;
    private final Kernels k;
    private final RopeTable rope;     // global layers
    private final RopeTable ropeSwa;  // sliding layers (same table unless the architecture has its own base)
    private final float embeddingScale;

    /** @param maxPositions positions the RoPE tables cover (the context length in use) */
    public Decoder(ModelWeights weights, Kernels kernels, int maxPositions) {
        this.c = weights.config();
        this.w = weights;
        this.k = kernels;
        RopeTable[] tables = ropeTables(weights, maxPositions);
        this.rope = tables[0];
        this.ropeSwa = tables[1];
        this.embeddingScale = c.arch().scaleEmbeddings() ? (float) Math.sqrt(c.dim()) : 1f;
    }

    /**
     * The RoPE tables of a model for {@code maxPositions} positions: {@code [0]} for global layers,
     * {@code [1]} for sliding-window layers (the same object unless the architecture has its own base).
     */
    public static RopeTable[] ropeTables(ModelWeights weights, int maxPositions) {
        ModelConfig c = weights.config();
        float[] factors = weights.ropeFactors();
        if (factors == null && c.llama3Scaling() != null) {
            float[] s = c.llama3Scaling();
            factors = RopeTable.llama3FreqFactors(c.ropeDim(), c.ropeBase(), s[0], s[1], s[2], (int) s[3]);
        }
        RopeTable rope = RopeTable.create(c.ropeDim(), maxPositions, c.ropeBase(), factors, c.ropeScale());
        RopeTable swa = c.arch().swaRopeBase() ? RopeTable.create(c.ropeDim(), maxPositions, c.ropeBaseSwa(), null, 1f) : rope;
        return new RopeTable[] {rope, swa};
    }

    public ModelConfig config() {
        return c;
    }

    public ModelWeights weights() {
        return w;
    }

    public Kernels kernels() {
        return k;
    }

    /**
     * Runs {@code tokens[off .. off+n)} at the state's next positions and advances it by n.
     *
     * @param allLogits null: only the last token's logits, into {@link State#logits()}; otherwise
     *                  every token's logits, {@code [n][vocab]} from index 0
     * @throws IllegalArgumentException  if a token id is out of range or n exceeds the state's batch
     * @throws ContextFullException      if the tokens do not fit in the state's KV cache
     */
    @Override
    public void forward(State s, int[] tokens, int off, int n, float[] allLogits) {
        check(s, tokens, off, n, allLogits);
        int pos0 = s.position();
        embed(s, tokens, off, n);
        layers(s, 0, c.layers(), n, pos0);
        head(s, n, allLogits);
        s.advance(n);
    }

    /**
     * Checks a forward pass of {@code tokens[off .. off+n)} before anything runs.
     *
     * @throws IllegalArgumentException if a token id is out of range or n exceeds the state's batch
     * @throws ContextFullException     if the tokens do not fit in the state's KV cache
     */
    public void check(State s, int[] tokens, int off, int n, float[] allLogits) {
        int pos0 = s.position();
        if (n < 1 || n > s.batch) throw new IllegalArgumentException(n + " tokens in one forward pass; the batch holds 1.." + s.batch);
        if (pos0 + n > s.capacity()) throw new ContextFullException(pos0, n, s.capacity());
        if (allLogits != null && allLogits.length < (long) n * c.vocab()) {
            throw new IllegalArgumentException("logits array holds " + allLogits.length + " floats, need " + n + " x " + c.vocab());
        }
        for (int i = 0; i < n; i++) {
            int id = tokens[off + i];
            if (id < 0 || id >= c.vocab()) throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + c.vocab());
        }
    }

    /** Looks up (and scales, where the architecture does) the embeddings of n tokens into {@code s.x}. */
    public void embed(State s, int[] tokens, int off, int n) {
        int dim = c.dim();
        Weights embd = w.tokenEmbd();
        for (int i = 0; i < n; i++) {
            // From the kernels' copy where the (tied) matrix has one: the file's pages stay released.
            Interleave.dequantizeRow(embd, tokens[off + i], s.x, i * dim);
            if (embeddingScale != 1f) k.scale(s.x, i * dim, dim, embeddingScale);
        }
    }

    /** Runs layers {@code [from, to)} over the n tokens in {@code s.x}, the first at position {@code pos0}. */
    public void layers(State s, int from, int to, int n, int pos0) {
        for (int l = from; l < to; l++) layer(s, l, n, pos0);
    }

    /** The final norm and the output product: the last token's logits, or every token's into {@code allLogits}. */
    public void head(State s, int n, float[] allLogits) {
        int dim = c.dim();
        if (allLogits == null) {
            k.rmsnorm(s.xb, 0, s.x, (n - 1) * dim, w.outputNorm(), dim, c.eps());
            k.matvec(w.output(), s.xb, 0, s.logits, 0);
            if (c.finalSoftcap() > 0) k.softcap(s.logits, 0, c.vocab(), c.finalSoftcap());
        } else {
            for (int i = 0; i < n; i++) k.rmsnorm(s.xb, i * dim, s.x, i * dim, w.outputNorm(), dim, c.eps());
            product(w.output(), s.xb, allLogits, n);
            if (c.finalSoftcap() > 0) k.softcap(allLogits, 0, n * c.vocab(), c.finalSoftcap());
            System.arraycopy(allLogits, (n - 1) * c.vocab(), s.logits, 0, c.vocab());
        }
    }

    /** The RoPE table of global layers. */
    public RopeTable rope() {
        return rope;
    }

    /** The RoPE table of sliding-window layers (the global one unless the architecture has its own base). */
    public RopeTable ropeSliding() {
        return ropeSwa;
    }

    /** The factor embeddings are multiplied by (1 for most architectures). */
    public float embeddingScale() {
        return embeddingScale;
    }

    private void layer(State s, int l, int n, int pos0) {
        LayerWeights lw = w.layers().get(l);
        int dim = c.dim();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int hd = c.headDim();

        // ---- attention ----
        float[] in = s.x;
        if (lw.attnNorm() != null) {
            for (int i = 0; i < n; i++) k.rmsnorm(s.xb, i * dim, s.x, i * dim, lw.attnNorm(), dim, c.eps());
            in = s.xb;
        }
        if (n == 1) {
            k.matvecs(lw.wq(), lw.wk(), lw.wv(), in, 0, s.q, s.k, s.v);
        } else {
            k.matmul(lw.wq(), in, s.q, n);
            k.matmul(lw.wk(), in, s.k, n);
            k.matmul(lw.wv(), in, s.v, n);
        }
        boolean sliding = c.slidingLayers()[l];
        RopeTable table = sliding ? ropeSwa : rope;
        for (int i = 0; i < n; i++) {
            int qo = i * qDim;
            int ko = i * kvDim;
            if (lw.bq() != null) k.add(s.q, qo, s.q, qo, lw.bq(), 0, qDim);
            if (lw.bk() != null) k.add(s.k, ko, s.k, ko, lw.bk(), 0, kvDim);
            if (lw.bv() != null) k.add(s.v, ko, s.v, ko, lw.bv(), 0, kvDim);
            if (lw.qNorm() != null) {
                for (int h = 0; h < c.heads(); h++) k.rmsnorm(s.q, qo + h * hd, s.q, qo + h * hd, lw.qNorm(), hd, c.eps());
                for (int h = 0; h < c.kvHeads(); h++) k.rmsnorm(s.k, ko + h * hd, s.k, ko + h * hd, lw.kNorm(), hd, c.eps());
            }
            if (c.ropeLayers()[l]) {
                k.rope(s.q, qo, c.heads(), hd, pos0 + i, table, c.arch().neoxRope());
                k.rope(s.k, ko, c.kvHeads(), hd, pos0 + i, table, c.arch().neoxRope());
            }
            s.cache.store(l, pos0 + i, s.k, ko, s.v, ko);
        }
        k.attention(s.q, s.att, n, c.heads(), s.cache, l, pos0, sliding ? c.slidingWindow() : 0,
                c.attnScale(), c.attnSoftcap());
        product(lw.wo(), s.att, s.xb2, n);
        if (lw.postAttnNorm() != null) {
            for (int i = 0; i < n; i++) k.rmsnorm(s.xb2, i * dim, s.xb2, i * dim, lw.postAttnNorm(), dim, c.eps());
        }
        k.add(s.x, 0, s.x, 0, s.xb2, 0, n * dim);

        // ---- feed-forward ----
        in = s.x;
        if (lw.ffnNorm() != null) {
            for (int i = 0; i < n; i++) k.rmsnorm(s.xb, i * dim, s.x, i * dim, lw.ffnNorm(), dim, c.eps());
            in = s.xb;
        }
        if (n == 1) {
            k.matvecs(lw.wGate(), lw.wUp(), null, in, 0, s.gate, s.up, null);
        } else {
            k.matmul(lw.wGate(), in, s.gate, n);
            k.matmul(lw.wUp(), in, s.up, n);
        }
        int ff = n * c.ffnDim();
        if (c.arch().gelu()) k.geglu(s.gate, 0, s.gate, 0, s.up, 0, ff);
        else k.swiglu(s.gate, 0, s.gate, 0, s.up, 0, ff);
        product(lw.wDown(), s.gate, s.xb2, n);
        if (lw.postFfnNorm() != null) {
            for (int i = 0; i < n; i++) k.rmsnorm(s.xb2, i * dim, s.xb2, i * dim, lw.postFfnNorm(), dim, c.eps());
        }
        k.add(s.x, 0, s.x, 0, s.xb2, 0, n * dim);
    }

    /** {@code y = W·x} for n consecutive rows of x: a matrix-vector product for one token. */
    private void product(Weights m, float[] x, float[] y, int n) {
        if (n == 1) k.matvec(m, x, 0, y, 0);
        else k.matmul(m, x, y, n);
    }
}
