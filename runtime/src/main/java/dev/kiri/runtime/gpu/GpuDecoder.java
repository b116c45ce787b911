package dev.kiri.runtime.gpu;

import dev.kiri.kernels.cuda.CudaContext;
import dev.kiri.kernels.cuda.CudaGraph;
import dev.kiri.kernels.cuda.CudaKernels;
import dev.kiri.kernels.cuda.DeviceBuffer;
import dev.kiri.kernels.cuda.DeviceKvCache;
import dev.kiri.runtime.model.Decoder;
import dev.kiri.runtime.model.Forward;
import dev.kiri.runtime.model.ModelConfig;
import dev.kiri.runtime.model.State;
import java.util.ArrayList;
import java.util.List;

/**
 * One sequence's forward pass with the first {@link GpuModel#gpuLayers()} blocks on the GPU: the
 * same steps as the CPU {@link Decoder} (which it uses for the embedding look-up of a prompt and
 * for the blocks and output that stay on the CPU), over device buffers and a device KV cache of
 * its own.
 *
 * <p>Each decoder has a context object of its own on the model's device (the same primary context,
 * so the model's weights are visible, but its own stream, modules and argument block): sequences
 * of one model run concurrently on their own streams, and the graph one of them captures never
 * sees another's launches.
 *
 * <p>A single-token step is one replay of a CUDA graph captured at the first step: the position
 * and (with full offload) the token id are written to device memory before the launch, and the
 * kernels read them there; then one copy brings the logits back (full offload) or the residual
 * stream (partial offload: the CPU runs the remaining blocks). A prompt batch runs the same
 * kernels launched directly. Nothing is allocated per token.
 */
public final class GpuDecoder implements Forward {
    private final GpuModel g;
    private final Decoder cpu;
    private final CudaContext ctx;
    private final CudaKernels k;
    private final ModelConfig c;
    private final int batch;
    private final int splits;
    private final boolean lookup;       // token ids looked up on the device (full offload, supported type)
    private final float embeddingScale;
    private final DeviceKvCache cache;
    private final DeviceBuffer x, xb, xb2, q, kk, v, att, gate, up, logits, pos, ids, scratch;
    // a decode step's outputs of the stacked Q/K/V and gate/up products: slices of one buffer each
    private final DeviceBuffer qkv1, q1, k1, v1, gu1, gate1, up1;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final int logitRows;        // tokens whose logits the device buffer holds at once
    private CudaGraph step;
    private boolean closed;

    /**
     * Reserves the device KV cache ({@code capacity} positions of the offloaded blocks) and the
     * activations of a batch of {@code batch} tokens, after checking they fit.
     */
    public GpuDecoder(GpuModel g, Decoder cpu, int capacity, int batch) {
        this.g = g;
        this.cpu = cpu;
        this.ctx = CudaContext.open(g.context().device().ordinal());
        this.c = g.config();
        this.batch = batch;
        this.splits = CudaKernels.attentionSplits(capacity);
        this.embeddingScale = cpu.embeddingScale();
        this.lookup = g.offloadsAll() && g.tokenEmbd() != null;
        this.logitRows = Math.min(batch, LOGIT_ROWS);
        long activations = activationFloats(c, batch, capacity, g.offloadsAll()) * Float.BYTES;
        long kv = 2L * g.gpuLayers() * c.kvHeads() * capacity * c.headDim() * Float.BYTES;
        DeviceKvCache kvc = null;
        try {
            ctx.requireFits(kv + activations, c.name() + ": KV cache of " + capacity + " positions and activations");
            this.k = new CudaKernels(ctx);
            kvc = new DeviceKvCache(ctx, g.gpuLayers(), c.kvHeads(), c.headDim(), capacity);
            x = floats((long) batch * c.dim(), "x");
            xb = floats((long) batch * c.dim(), "xb");
            xb2 = floats((long) batch * c.dim(), "xb2");
            q = floats((long) batch * c.qDim(), "q");
            kk = floats((long) batch * c.kvDim(), "k");
            v = floats((long) batch * c.kvDim(), "v");
            att = floats((long) batch * c.qDim(), "attention output");
            gate = floats((long) batch * c.ffnDim(), "gate");
            up = floats((long) batch * c.ffnDim(), "up");
            logits = g.offloadsAll() ? floats((long) logitRows * c.vocab(), "logits") : null;
            pos = floats(1, "position");
            ids = floats(batch, "token ids");
            scratch = floats(CudaKernels.attentionScratchFloats(batch, c.heads(), c.headDim(), splits), "attention scratch");
            qkv1 = floats(c.qDim() + 2L * c.kvDim(), "decode q, k, v");
            q1 = qkv1.sliceFloats(0, c.qDim());
            k1 = qkv1.sliceFloats(c.qDim(), c.kvDim());
            v1 = qkv1.sliceFloats(c.qDim() + c.kvDim(), c.kvDim());
            gu1 = floats(2L * c.ffnDim(), "decode gate, up");
            gate1 = gu1.sliceFloats(0, c.ffnDim());
            up1 = gu1.sliceFloats(c.ffnDim(), c.ffnDim());
        } catch (RuntimeException | Error e) {
            ctx.close(); // frees what was allocated
            throw e;
        }
        this.cache = kvc;
    }

    /**
     * Most tokens whose logits are computed at once when every token's logits are asked for: the
     * rest follow in further rounds, so that a large prompt batch does not reserve batch x vocabulary
     * floats of device memory (512 x 128256 would be 263 MB).
     */
    static final int LOGIT_ROWS = 64;

    /** Floats of device activations a sequence reserves (besides the KV cache). */
    static long activationFloats(ModelConfig c, int batch, int capacity, boolean full) {
        int splits = CudaKernels.attentionSplits(capacity);
        long n = (long) batch * (3L * c.dim() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.ffnDim());
        if (full) n += (long) Math.min(batch, LOGIT_ROWS) * c.vocab();
        n += c.qDim() + 2L * c.kvDim() + 2L * c.ffnDim();   // a decode step's stacked products
        return n + 1 + batch + CudaKernels.attentionScratchFloats(batch, c.heads(), c.headDim(), splits); // + position, token ids
    }

    private DeviceBuffer floats(long n, String what) {
        DeviceBuffer b = ctx.allocateFloats(n, what);
        owned.add(b);
        return b;
    }

    @Override
    public void forward(State s, int[] tokens, int off, int n, float[] allLogits) {
        if (closed) throw new IllegalStateException("GPU decoder is closed");
        cpu.check(s, tokens, off, n, allLogits);
        if (n > batch) throw new IllegalArgumentException(n + " tokens in one forward pass; the GPU batch holds 1.." + batch);
        ctx.makeCurrent();
        int pos0 = s.position();
        int dim = c.dim();
        ctx.setInt(pos, 0, pos0);
        if (n == 1 && allLogits == null) {
            if (lookup) {
                ctx.setInt(ids, 0, tokens[off]);
            } else {
                cpu.embed(s, tokens, off, 1);
                ctx.upload(s.residual(), 0, dim, x, 0);
            }
            if (step == null) step = ctx.capture(() -> body(1, false, lookup));
            step.launch();
        } else if (lookup) {
            ctx.upload(tokens, off, n, ids, 0);   // the rows are gathered on the device
            body(n, allLogits != null, true);
        } else {
            cpu.embed(s, tokens, off, n);
            ctx.upload(s.residual(), 0, n * dim, x, 0);
            body(n, allLogits != null, false);
        }
        if (g.offloadsAll()) {
            int vocab = c.vocab();
            if (allLogits == null) {
                ctx.download(logits, 0, s.logits(), 0, vocab);
            } else {
                for (int t0 = 0; t0 < n; t0 += logitRows) {
                    int m = Math.min(logitRows, n - t0);
                    allHead(t0, m);
                    ctx.download(logits, 0, allLogits, t0 * vocab, m * vocab);
                }
                System.arraycopy(allLogits, (n - 1) * vocab, s.logits(), 0, vocab);
            }
        } else {
            ctx.download(x, 0, s.residual(), 0, n * dim);
            cpu.layers(s, g.gpuLayers(), c.layers(), n, pos0);
            cpu.head(s, n, allLogits);
        }
        s.advance(n);
    }

    /** Queues the device work of a pass of n tokens whose position is in {@code pos}. */
    private void body(int n, boolean allLogits, boolean lookupIds) {
        int dim = c.dim();
        if (lookupIds) {
            k.getRows(g.tokenEmbd(), ids, x, n);
            if (embeddingScale != 1f) k.scale(x, embeddingScale, n * dim);
        }
        for (int l = 0; l < g.gpuLayers(); l++) layer(l, n);
        if (!g.offloadsAll()) return;
        if (allLogits) {
            k.rmsnorm(xb, x, g.outputNorm(), dim, n, c.eps()); // allHead then takes m rows at a time
        } else {
            k.rmsnorm(xb, x.sliceFloats((long) (n - 1) * dim, dim), g.outputNorm(), dim, 1, c.eps());
            k.matvec(g.output(), xb, logits, 1);
            if (c.finalSoftcap() > 0) k.softcap(logits, c.finalSoftcap(), c.vocab());
        }
    }

    /** The logits of tokens {@code t0 .. t0+m)} of a pass whose normalised rows are in {@code xb}. */
    private void allHead(int t0, int m) {
        DeviceBuffer rows = t0 == 0 ? xb : xb.sliceFloats((long) t0 * c.dim(), (long) m * c.dim());
        k.matvec(g.output(), rows, logits, m);
        if (c.finalSoftcap() > 0) k.softcap(logits, c.finalSoftcap(), m * c.vocab());
    }

    private void layer(int l, int n) {
        GpuModel.Layer w = g.layer(l);
        int dim = c.dim();
        int hd = c.headDim();
        float eps = c.eps();

        // ---- attention ----
        DeviceBuffer in = x;
        if (w.attnNorm() != null) {
            k.rmsnorm(xb, x, w.attnNorm(), dim, n, eps);
            in = xb;
        }
        // a decode step runs the stacked Q/K/V matrix as one product (one launch instead of three)
        boolean stacked = n == 1 && w.wqkv() != null;
        DeviceBuffer q = stacked ? q1 : this.q, kk = stacked ? k1 : this.kk, v = stacked ? v1 : this.v;
        if (stacked) {
            k.matvec(w.wqkv(), in, qkv1, 1);
        } else {
            k.matvec(w.wq(), in, q, n);
            k.matvec(w.wk(), in, kk, n);
            k.matvec(w.wv(), in, v, n);
        }
        if (w.bq() != null) k.addRows(q, w.bq(), n, c.qDim());
        if (w.bk() != null) k.addRows(kk, w.bk(), n, c.kvDim());
        if (w.bv() != null) k.addRows(v, w.bv(), n, c.kvDim());
        if (w.qNorm() != null) {
            k.rmsnorm(q, q, w.qNorm(), hd, n * c.heads(), eps);
            k.rmsnorm(kk, kk, w.kNorm(), hd, n * c.kvHeads(), eps);
        }
        boolean sliding = c.slidingLayers()[l];
        if (c.ropeLayers()[l]) {
            DeviceBuffer[] table = g.rope(sliding);
            boolean neox = c.arch().neoxRope();
            k.rope(q, pos, n, c.heads(), hd, c.ropeDim(), table, neox);
            k.rope(kk, pos, n, c.kvHeads(), hd, c.ropeDim(), table, neox);
        }
        k.kvStore(cache, l, kk, v, pos, n);
        k.attention(q, att, n, c.heads(), cache, l, pos, sliding ? c.slidingWindow() : 0, c.attnScale(),
                c.attnSoftcap(), scratch, splits);
        k.matvec(w.wo(), att, xb2, n);
        if (w.postAttnNorm() != null) k.rmsnorm(xb2, xb2, w.postAttnNorm(), dim, n, eps);
        k.add(x, x, xb2, n * dim);

        // ---- feed-forward ----
        in = x;
        if (w.ffnNorm() != null) {
            k.rmsnorm(xb, x, w.ffnNorm(), dim, n, eps);
            in = xb;
        }
        boolean stackedFfn = n == 1 && w.wGateUp() != null;
        DeviceBuffer gate = stackedFfn ? gate1 : this.gate, up = stackedFfn ? up1 : this.up;
        if (stackedFfn) {
            k.matvec(w.wGateUp(), in, gu1, 1);
        } else {
            k.matvec(w.wGate(), in, gate, n);
            k.matvec(w.wUp(), in, up, n);
        }
        int ff = n * c.ffnDim();
        if (c.arch().gelu()) k.geglu(gate, gate, up, ff);
        else k.swiglu(gate, gate, up, ff);
        k.matvec(w.wDown(), gate, xb2, n);
        if (w.postFfnNorm() != null) k.rmsnorm(xb2, xb2, w.postFfnNorm(), dim, n, eps);
        k.add(x, x, xb2, n * dim);
    }

    /** Frees the graph, the KV cache and the activations. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.makeCurrent();
        try {
            if (step != null) step.close();
            k.close();
        } finally {
            ctx.close(); // frees the cache and the activations
        }
    }
}
