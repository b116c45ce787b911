package dev.kiri.runtime.model;

import dev.kiri.kernels.KvCache;

/**
 * One sequence's memory: its KV cache and every activation buffer the forward pass needs for a
 * batch of up to {@link #batch} tokens, all reserved when created, so that a forward pass
 * allocates nothing. Not thread-safe: one sequence is advanced by one thread at a time.
 */
public final class State {
    final int batch;
    final KvCache cache;
    final float[] x;      // [batch][dim]   the residual stream
    final float[] xb;     // [batch][dim]   normalised input of a sub-block
    final float[] xb2;    // [batch][dim]   output of a sub-block
    final float[] q;      // [batch][qDim]
    final float[] k;      // [batch][kvDim]
    final float[] v;      // [batch][kvDim]
    final float[] att;    // [batch][qDim]  attention output, heads concatenated
    final float[] gate;   // [batch][ffnDim]
    final float[] up;     // [batch][ffnDim]
    final float[] logits; // [vocab]        logits of the last token
    private int position; // tokens in the cache

    /**
     * @param context positions the KV cache holds
     * @param batch   most tokens one forward pass takes (prefill is split into batches of this size)
     */
    public State(ModelConfig c, int context, int batch, KvCache.Type kvType) {
        this(c, context, batch, kvType, 0);
    }

    /**
     * @param firstCachedLayer the first layer whose keys and values this state holds: the layers
     *                         below it run on a GPU with a cache of their own
     */
    public State(ModelConfig c, int context, int batch, KvCache.Type kvType, int firstCachedLayer) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1: " + batch);
        this.batch = batch;
        this.cache = new KvCache(c.layers(), firstCachedLayer, c.kvHeads(), c.headDim(), context, kvType);
        this.x = new float[batch * c.dim()];
        this.xb = new float[batch * c.dim()];
        this.xb2 = new float[batch * c.dim()];
        this.q = new float[batch * c.qDim()];
        this.k = new float[batch * c.kvDim()];
        this.v = new float[batch * c.kvDim()];
        this.att = new float[batch * c.qDim()];
        this.gate = new float[batch * c.ffnDim()];
        this.up = new float[batch * c.ffnDim()];
        this.logits = new float[c.vocab()];
    }

    /** Positions the KV cache holds. */
    public int capacity() {
        return cache.capacity();
    }

    /** Tokens already in the cache: the position of the next token. */
    public int position() {
        return position;
    }

    /** Forgets the cached tokens after the first {@code n} (0: start a new sequence). */
    public void truncate(int n) {
        if (n < 0 || n > position) throw new IllegalArgumentException("cannot keep " + n + " of " + position + " cached tokens");
        position = n;
    }

    /** Advances the position by n tokens whose keys and values are now cached. */
    public void advance(int n) {
        position += n;
    }

    /** The logits of the last token of the last forward pass, {@code [vocab]}. Owned by the state. */
    public float[] logits() {
        return logits;
    }

    /** The residual stream, {@code [batch][dim]}: where a split forward pass hands activations over. */
    public float[] residual() {
        return x;
    }

    /** Most tokens one forward pass takes. */
    public int batch() {
        return batch;
    }

    /** Bytes reserved: KV cache plus activation buffers. */
    public long byteSize() {
        long floats = (long) x.length * 3 + q.length + k.length + v.length + att.length + gate.length + up.length + logits.length;
        return cache.byteSize() + 4 * floats;
    }

    /** Bytes of the KV cache alone. */
    public long kvCacheBytes() {
        return cache.byteSize();
    }
}
