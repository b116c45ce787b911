package dev.kiri.kernels.cuda;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.RopeTable;
import dev.kiri.kernels.Weights;
import java.util.List;
import java.util.Set;

/**
 * The CUDA kernels (PTX from {@code kernels/src/main/cuda}, loaded with {@code cuModuleLoadDataEx})
 * behind typed launch methods over device buffers. Every method only queues work on the
 * context's stream, so a sequence of them can be captured into a {@link CudaGraph}
 * ({@link CudaContext#capture}); values that change per step (position, token id) are read by
 * the kernels from device memory.
 *
 * <p>Activations are F32. Weights are read as stored: {@link #SUPPORTED} types. One instance per
 * thread (the argument block is reused by every launch, which allocates nothing).
 */
public final class CudaKernels implements AutoCloseable {
    /** The PTX modules, one per {@code .cu} file. */
    public static final List<String> MODULES = List.of("matvec", "ops", "attention", "gemm");
    /** Every kernel entry this class launches, by module. */
    public static final List<List<String>> ENTRIES = List.of(
            List.of("kiri_matvec_f32", "kiri_matvec_f16", "kiri_matvec_bf16", "kiri_matvec_q8_0", "kiri_matvec_q4_0",
                    "kiri_matvec_q4_k", "kiri_matvec_q6_k", "kiri_get_rows"),
            List.of("kiri_rmsnorm", "kiri_rope", "kiri_silu_inplace", "kiri_gelu_inplace", "kiri_swiglu", "kiri_geglu",
                    "kiri_add", "kiri_mul", "kiri_add_rows", "kiri_scale", "kiri_softcap", "kiri_kv_store"),
            List.of("kiri_attn_split", "kiri_attn_split4", "kiri_attn_prefill", "kiri_attn_merge", "kiri_attn_flash64",
                    "kiri_attn_flash128"),
            List.of("kiri_gemm_f32", "kiri_gemm_f16", "kiri_gemm_bf16", "kiri_gemm_q8_0", "kiri_gemm_q4_0", "kiri_gemm_q4_k",
                    "kiri_gemm_q6_k", "kiri_gemm128_f32", "kiri_gemm128_f16", "kiri_gemm128_bf16", "kiri_gemm128_q8_0",
                    "kiri_gemm128_q4_0", "kiri_gemm128_q4_k", "kiri_gemm128_q6_k"));
    /** Weight types the matrix products and the row lookup read. */
    public static final Set<GgmlType> SUPPORTED = Set.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K);
    /** Largest head dimension the attention kernel takes (32 lanes x 8 registers). */
    public static final int MAX_HEAD_DIM = 256;

    /**
     * Columns (tokens) from which {@link #matvec} runs the tiled tensor-core product ({@link #gemm})
     * instead of the column-batched matrix-vector kernels, which read the weights once per column.
     */
    public static final int GEMM_MIN_COLUMNS = 16;

    static final int MV_ROWS = 4;           // KIRI_MV_ROWS in matvec.cu: rows per block
    static final int MV_WARPS = 8;          // KIRI_MV_MAX_WARPS in matvec.cu: most warps per block
    static final int GEMM_ROWS = 128;       // KIRI_GEMM_BM in gemm.cu
    static final int GEMM_COLUMNS = 64;     // KIRI_GEMM_BN
    static final int GEMM_WIDE_COLUMNS = 128;  // tokens per block of kiri_gemm128_*
    /** Dynamic shared memory of kiri_gemm128_*: two stages of (128 + 128) x 36 floats. */
    static final int GEMM_WIDE_SHARED_BYTES = 2 * (GEMM_ROWS + GEMM_WIDE_COLUMNS) * 36 * Float.BYTES;
    static final int GEMM_THREADS = 256;    // KIRI_GEMM_THREADS
    static final int ATTN_THREADS = 128;    // 32 * KIRI_ATTN_WARPS in attention.cu
    static final int ATTN_TILE = 4;         // tokens per block of kiri_attn_split4
    static final int ATTN_PREFILL_THREADS = 64;  // KIRI_AP_THREADS
    /** Tokens from which a batch's attention runs {@code kiri_attn_prefill} (no splits) rather than the split kernels. */
    static final int ATTN_PREFILL_MIN = 32;
    static final int ATTN_FLASH_THREADS = 128;   // 32 * KIRI_FA_WARPS
    static final int ATTN_FLASH_TOKENS = 64;     // KIRI_FA_WARPS * KIRI_FA_Q: tokens per block
    static final int ELEM_THREADS = 256;

    private final CudaContext ctx;
    private final KernelArgs args = new KernelArgs(16);
    private final CudaFunction mvF32, mvF16, mvBf16, mvQ80, mvQ40, mvQ4K, mvQ6K, getRows;
    private final CudaFunction rmsnorm, rope, silu, gelu, swiglu, geglu, add, mul, addRows, scale, softcap, kvStore;
    private final CudaFunction attnSplit, attnSplit4, attnPrefill, attnMerge, attnFlash64, attnFlash128;
    /** The tensor-core products by type: 64 tokens per block, and the wide ones of 128. */
    private final java.util.Map<GgmlType, CudaFunction> gemms, wideGemms;
    /** False makes {@link #matvec} keep to the matrix-vector kernels (benchmarks compare the two). */
    boolean gemmEnabled = true;

    /** Loads the modules into {@code ctx} and looks up every kernel. */
    public CudaKernels(CudaContext ctx) {
        this.ctx = ctx;
        CudaModule mv = ctx.loadModule("matvec");
        CudaModule ops = ctx.loadModule("ops");
        CudaModule at = ctx.loadModule("attention");
        mvF32 = mv.function("kiri_matvec_f32");
        mvF16 = mv.function("kiri_matvec_f16");
        mvBf16 = mv.function("kiri_matvec_bf16");
        mvQ80 = mv.function("kiri_matvec_q8_0");
        mvQ40 = mv.function("kiri_matvec_q4_0");
        mvQ4K = mv.function("kiri_matvec_q4_k");
        mvQ6K = mv.function("kiri_matvec_q6_k");
        getRows = mv.function("kiri_get_rows");
        rmsnorm = ops.function("kiri_rmsnorm");
        rope = ops.function("kiri_rope");
        silu = ops.function("kiri_silu_inplace");
        gelu = ops.function("kiri_gelu_inplace");
        swiglu = ops.function("kiri_swiglu");
        geglu = ops.function("kiri_geglu");
        add = ops.function("kiri_add");
        mul = ops.function("kiri_mul");
        addRows = ops.function("kiri_add_rows");
        scale = ops.function("kiri_scale");
        softcap = ops.function("kiri_softcap");
        kvStore = ops.function("kiri_kv_store");
        attnSplit = at.function("kiri_attn_split");
        attnSplit4 = at.function("kiri_attn_split4");
        attnPrefill = at.function("kiri_attn_prefill");
        attnMerge = at.function("kiri_attn_merge");
        attnFlash64 = at.function("kiri_attn_flash64");
        attnFlash128 = at.function("kiri_attn_flash128");
        CudaModule gm = ctx.loadModule("gemm");
        java.util.EnumMap<GgmlType, CudaFunction> g = new java.util.EnumMap<>(GgmlType.class), wide = new java.util.EnumMap<>(GgmlType.class);
        for (GgmlType t : SUPPORTED) {
            String type = t.ggmlName().toLowerCase(java.util.Locale.ROOT);
            g.put(t, gm.function("kiri_gemm_" + type));
            CudaFunction f = gm.function("kiri_gemm128_" + type);
            f.allowDynamicShared(GEMM_WIDE_SHARED_BYTES);
            wide.put(t, f);
        }
        gemms = g;
        wideGemms = wide;
    }

    /** The context the kernels run in. */
    public CudaContext context() {
        return ctx;
    }

    /** Uploads a weight matrix as stored. */
    public DeviceWeights upload(Weights w) {
        if (!SUPPORTED.contains(w.type())) {
            throw new IllegalArgumentException(w.name() + ": the CUDA kernels do not read weight type " + w.type().ggmlName());
        }
        long bytes = w.byteSize();
        DeviceBuffer b = ctx.allocate(bytes, w.name());
        try {
            ctx.upload(w.data().asSlice(0, bytes), b, 0);
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return new DeviceWeights(w.name(), w.type(), b, w.rows(), w.cols(), w.rowBytes());
    }

    /** Uploads a float array into a new buffer. */
    public DeviceBuffer upload(float[] values, String what) {
        DeviceBuffer b = ctx.allocate((long) values.length * Float.BYTES, what);
        ctx.upload(values, 0, values.length, b, 0);
        return b;
    }

    /** Uploads the cos and sin tables of {@code t}: {@code [0]} cos, {@code [1]} sin. */
    public DeviceBuffer[] upload(RopeTable t) {
        return new DeviceBuffer[] {upload(t.cosTable(), "rope cos"), upload(t.sinTable(), "rope sin")};
    }

    private static int blocks(long n, int per) {
        return (int) ((n + per - 1) / per);
    }

    // ---- matrix products ------------------------------------------------------------------

    /**
     * {@code y[i*rows + r] = Σ_c W[r][c] · x[i*cols + c]} for {@code i < n}: the matrix-vector
     * product for {@code n = 1}, the column-batched one for a few columns, and from
     * {@link #GEMM_MIN_COLUMNS} columns (prefill) the tensor-core product {@link #gemm} where it
     * applies ({@link #gemmApplies}).
     */
    public void matvec(DeviceWeights w, DeviceBuffer x, DeviceBuffer y, int n) {
        if (gemmEnabled && n >= GEMM_MIN_COLUMNS && gemmApplies(w, x)) {
            gemm(w, x, y, n);
            return;
        }
        if (n <= 0) throw new IllegalArgumentException(w.name() + ": product over " + n + " columns");
        x.require((long) n * w.cols() * Float.BYTES, "matvec input of " + w.name());
        y.require((long) n * w.rows() * Float.BYTES, "matvec output of " + w.name());
        if (w.type().isQuantized() && (w.buffer().address() & 15) != 0) {
            // the quantized kernels read rows with loads as wide as 16 bytes (float types fall back)
            throw new IllegalArgumentException(w.name() + ": quantized weights at device address 0x"
                    + Long.toHexString(w.buffer().address()) + " are not 16-byte aligned, as the matvec kernels need");
        }
        CudaFunction f = switch (w.type()) {
            case F32 -> mvF32;
            case F16 -> mvF16;
            case BF16 -> mvBf16;
            case Q8_0 -> mvQ80;
            case Q4_0 -> mvQ40;
            case Q4_K -> mvQ4K;
            case Q6_K -> mvQ6K;
            default -> throw new IllegalArgumentException(w.name() + ": no CUDA product for " + w.type().ggmlName());
        };
        args.clear().ptr(w.buffer()).i64(w.rowBytes()).ptr(x).ptr(y).i32(w.rows()).i32(w.cols());
        f.launch(blocks(w.rows(), MV_ROWS), n, matvecThreads(w.type(), w.cols()), 0, args);
    }

    /**
     * Threads per block of the matvec kernel of {@code type} over rows of {@code cols} values:
     * one warp per {@code 32 * unroll} lane steps of a row (a step is the slice of a block one
     * thread reads: {@code KiriQ4_0::VALUES} etc. in matvec.cu), 1 to {@link #MV_WARPS} warps, so
     * that short rows still spread over a few warps and long ones over the most.
     */
    static int matvecThreads(GgmlType type, int cols) {
        int values, unroll;
        switch (type) {
            case F32 -> {
                values = 4;
                unroll = 2;
            }
            case F16, BF16, Q8_0, Q4_0 -> {
                values = 8;
                unroll = 2;
            }
            case Q4_K -> {
                values = 32;
                unroll = 1;
            }
            case Q6_K -> {
                values = 16;
                unroll = 1;
            }
            default -> throw new IllegalArgumentException("no CUDA product for " + type.ggmlName());
        }
        int steps = Math.max(1, cols / values);
        int warps = Math.min(MV_WARPS, (steps + 32 * unroll - 1) / (32 * unroll));
        return 32 * warps;
    }

    /**
     * Whether {@link #gemm} can run this product: {@code cols} a multiple of 32 (every quantized
     * type's is), rows packed as in a whole tensor, and the weights and activations 16-byte aligned
     * (allocations are; slices at odd offsets may not be), as the kernel's vector loads need.
     */
    public static boolean gemmApplies(DeviceWeights w, DeviceBuffer x) {
        return w.cols() % 32 == 0 && w.rowBytes() == w.type().byteSize(w.cols())
                && (w.buffer().address() & 15) == 0 && (x.address() & 15) == 0;
    }

    /**
     * The same product as {@link #matvec} for any {@code n}, always on the tensor cores: tiles of 128
     * weight rows by 64 columns, weights dequantized into shared memory 32 columns at a time, both
     * inputs rounded to TF32 (10 mantissa bits), F32 accumulation. Each product term is thus off by
     * up to about 2^-10 of its magnitude, against the matrix-vector kernels' F32-only rounding.
     *
     * @throws IllegalArgumentException where {@link #gemmApplies} is false
     */
    public void gemm(DeviceWeights w, DeviceBuffer x, DeviceBuffer y, int n) {
        GemmPlan p = gemmPlan(w.type(), w.rows(), w.cols(), n, ctx.device().multiprocessors());
        gemm(w, x, y, n, p.splits(), p.wide());
    }

    /** Which product {@link #gemm} runs: the wide one (128 tokens per block) or not, and in how many reduction halves. */
    public record GemmPlan(boolean wide, int splits) {
    }

    /**
     * The wide product where a prompt has at least 256 tokens and its blocks (with the reduction
     * halved where they alone would not give every multiprocessor one) still give half of the
     * multiprocessors one each; else the 64-token product with {@link #gemmSplits}. Measured on an
     * H200 over 512 tokens of the Llama-3.2-1B matrices (Q4_0, Q8_0): the wide product takes
     * 270 us against 332 us for the 8192 x 2048 ones, 320 against 334 us for the 2048 x 8192 one
     * (halved), about the same for 2048 x 2048, and 88 against 56 us for the 512 x 2048 ones, whose
     * 32 blocks leave most of the GPU idle.
     */
    public static GemmPlan gemmPlan(GgmlType type, int rows, int cols, int n, int multiprocessors) {
        int unit = type.blockSize() == 256 ? 256 : 32;
        long tiles = (long) blocks(rows, GEMM_ROWS) * blocks(n, GEMM_WIDE_COLUMNS);
        int splits = tiles < Math.max(1, multiprocessors) && cols % (2 * unit) == 0 ? 2 : 1;
        if (n >= 2 * GEMM_WIDE_COLUMNS && 2 * tiles * splits >= multiprocessors) return new GemmPlan(true, splits);
        return new GemmPlan(false, gemmSplits(type, rows, cols, n, multiprocessors));
    }

    /**
     * Reduction halves {@link #gemm} uses: 2 where its tiles alone would leave the GPU below two
     * blocks per multiprocessor (a 2048-row matrix over 512 tokens has 128 tiles) and the columns
     * halve into whole blocks (of 256 for the K-quants), else 1.
     */
    static int gemmSplits(GgmlType type, int rows, int cols, int n, int multiprocessors) {
        long tiles = (long) blocks(rows, GEMM_ROWS) * blocks(n, GEMM_COLUMNS);
        int unit = type.blockSize() == 256 ? 256 : 32;
        return tiles < 2L * multiprocessors && cols % (2 * unit) == 0 ? 2 : 1;
    }

    /**
     * {@link #gemm} with the reduction cut into {@code splits} (1 or 2) halves run by separate
     * blocks, whose results meet in {@code y} (zeroed first) by atomic adds: {@code 0 + a + b} in
     * either order is {@code a + b}, so the result does not depend on the order. With 2 the
     * columns must halve into whole blocks (of 256 values for the K-quants).
     */
    public void gemm(DeviceWeights w, DeviceBuffer x, DeviceBuffer y, int n, int splits) {
        gemm(w, x, y, n, splits, false);
    }

    /**
     * {@link #gemm(DeviceWeights, DeviceBuffer, DeviceBuffer, int, int)} by the 64-token product or,
     * with {@code wide}, the 128-token one (the same arithmetic: each output is the same sum of the
     * same TF32 products in the same order).
     */
    public void gemm(DeviceWeights w, DeviceBuffer x, DeviceBuffer y, int n, int splits, boolean wide) {
        if (n <= 0) throw new IllegalArgumentException(w.name() + ": product over " + n + " columns");
        int unit = w.type().blockSize() == 256 ? 256 : 32;
        if (splits != 1 && (splits != 2 || w.cols() % (2 * unit) != 0)) {
            throw new IllegalArgumentException(w.name() + ": " + splits + " reduction splits of " + w.cols() + " columns");
        }
        if (!gemmApplies(w, x)) {
            throw new IllegalArgumentException(w.name() + ": the tensor-core product needs columns a multiple of 32 (has "
                    + w.cols() + ") and 16-byte aligned weights and activations");
        }
        x.require((long) n * w.cols() * Float.BYTES, "gemm input of " + w.name());
        y.require((long) n * w.rows() * Float.BYTES, "gemm output of " + w.name());
        CudaFunction f = (wide ? wideGemms : gemms).get(w.type());
        if (f == null) throw new IllegalArgumentException(w.name() + ": no CUDA product for " + w.type().ggmlName());
        if (splits > 1) ctx.fill(y, (long) n * w.rows(), 0);
        args.clear().ptr(w.buffer()).i64(w.rowBytes()).ptr(x).ptr(y).i32(w.rows()).i32(w.cols()).i32(n).i32(w.cols() / splits);
        f.launch(blocks(w.rows(), GEMM_ROWS), blocks(n, wide ? GEMM_WIDE_COLUMNS : GEMM_COLUMNS) * splits, GEMM_THREADS,
                wide ? GEMM_WIDE_SHARED_BYTES : 0, args);
    }

    /** {@code out[i*cols + c] = W[ids[i]][c]} dequantized, for {@code i < n}; ids are ints in device memory. */
    public void getRows(DeviceWeights w, DeviceBuffer ids, DeviceBuffer out, int n) {
        ids.require(4L * n, "token ids");
        out.require((long) n * w.cols() * Float.BYTES, "rows of " + w.name());
        args.clear().ptr(w.buffer()).i64(w.rowBytes()).i32(w.type().id()).ptr(ids).ptr(out).i32(w.rows()).i32(w.cols());
        getRows.launch(blocks(w.cols(), ELEM_THREADS), n, ELEM_THREADS, 0, args);
    }

    // ---- normalisation and positions -------------------------------------------------------

    /** RMSNorm of {@code rows} rows of {@code size}; {@code weight} may be null. */
    public void rmsnorm(DeviceBuffer out, DeviceBuffer x, DeviceBuffer weight, int size, int rows, float eps) {
        x.require((long) rows * size * Float.BYTES, "rmsnorm input");
        out.require((long) rows * size * Float.BYTES, "rmsnorm output");
        if (weight != null) weight.require((long) size * Float.BYTES, "rmsnorm weight");
        args.clear().ptr(out).ptr(x).ptr(weight).i32(size).f32(eps);
        rmsnorm.launch(rows, 1, ELEM_THREADS, 0, args);
    }

    /**
     * Rotary embedding in place of {@code n} tokens of {@code nHeads} heads at positions
     * {@code pos[0] + i} ({@code pos}: an int in device memory), with the tables of
     * {@link #upload(RopeTable)}.
     */
    public void rope(DeviceBuffer x, DeviceBuffer pos, int n, int nHeads, int headDim, int ropeDim,
                     DeviceBuffer[] table, boolean neox) {
        if (ropeDim > headDim || ropeDim % 2 != 0) {
            throw new IllegalArgumentException("rope dimension " + ropeDim + " with head dimension " + headDim);
        }
        x.require((long) n * nHeads * headDim * Float.BYTES, "rope input");
        args.clear().ptr(x).ptr(pos).i32(nHeads).i32(headDim).i32(ropeDim).ptr(table[0]).ptr(table[1]).i32(neox ? 1 : 0);
        rope.launch(blocks((long) nHeads * (ropeDim / 2), 128), n, 128, 0, args);
    }

    // ---- elementwise ------------------------------------------------------------------------

    /** {@code x = silu(x)} over {@code n} floats. */
    public void silu(DeviceBuffer x, int n) {
        unary(silu, x, n);
    }

    /** {@code x = gelu(x)} over {@code n} floats, evaluated as the CPU path does (F16-rounded tanh form). */
    public void gelu(DeviceBuffer x, int n) {
        unary(gelu, x, n);
    }

    private void unary(CudaFunction f, DeviceBuffer x, int n) {
        x.require((long) n * Float.BYTES, f.name());
        args.clear().ptr(x).i32(n);
        f.launch(blocks(n, ELEM_THREADS), 1, ELEM_THREADS, 0, args);
    }

    /** {@code out = silu(gate) * up}. */
    public void swiglu(DeviceBuffer out, DeviceBuffer gate, DeviceBuffer up, int n) {
        binary(swiglu, out, gate, up, n);
    }

    /** {@code out = gelu(gate) * up}. */
    public void geglu(DeviceBuffer out, DeviceBuffer gate, DeviceBuffer up, int n) {
        binary(geglu, out, gate, up, n);
    }

    /** {@code out = a + b}. */
    public void add(DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, int n) {
        binary(add, out, a, b, n);
    }

    /** {@code out = a * b}. */
    public void mul(DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, int n) {
        binary(mul, out, a, b, n);
    }

    private void binary(CudaFunction f, DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, int n) {
        long bytes = (long) n * Float.BYTES;
        out.require(bytes, f.name());
        a.require(bytes, f.name());
        b.require(bytes, f.name());
        args.clear().ptr(out).ptr(a).ptr(b).i32(n);
        f.launch(blocks(n, ELEM_THREADS), 1, ELEM_THREADS, 0, args);
    }

    /**
     * Row broadcast in place: {@code x[r*cols + c] += bias[c]} for {@code r < rows}, {@code c < cols}
     * (a bias added to every token of a batch).
     */
    public void addRows(DeviceBuffer x, DeviceBuffer bias, int rows, int cols) {
        if (rows <= 0 || cols <= 0 || (long) rows * cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("row broadcast over " + rows + " rows of " + cols);
        }
        int n = rows * cols;
        x.require((long) n * Float.BYTES, "addRows input");
        bias.require((long) cols * Float.BYTES, "addRows bias");
        args.clear().ptr(x).ptr(bias).i32(cols).i32(n);
        addRows.launch(blocks(n, ELEM_THREADS), 1, ELEM_THREADS, 0, args);
    }

    /** {@code x *= s}. */
    public void scale(DeviceBuffer x, float s, int n) {
        x.require((long) n * Float.BYTES, "scale");
        args.clear().ptr(x).f32(s).i32(n);
        scale.launch(blocks(n, ELEM_THREADS), 1, ELEM_THREADS, 0, args);
    }

    /** {@code x = cap * tanh(x / cap)}. */
    public void softcap(DeviceBuffer x, float cap, int n) {
        x.require((long) n * Float.BYTES, "softcap");
        args.clear().ptr(x).f32(cap).i32(n);
        softcap.launch(blocks(n, ELEM_THREADS), 1, ELEM_THREADS, 0, args);
    }

    // ---- attention --------------------------------------------------------------------------

    /**
     * Stores the keys and values of {@code n} tokens (each {@code kvHeads*headDim} floats) at
     * positions {@code pos[0] + i} of {@code layer}. Positions outside the cache are skipped by the
     * kernel: the caller checks them before it sets {@code pos}.
     */
    public void kvStore(DeviceKvCache cache, int layer, DeviceBuffer k, DeviceBuffer v, DeviceBuffer pos, int n) {
        long bytes = (long) n * cache.kvHeads() * cache.headDim() * Float.BYTES;
        k.require(bytes, "keys to store");
        v.require(bytes, "values to store");
        args.clear().ptr(cache.keys(layer)).ptr(cache.values(layer)).ptr(k).ptr(v).ptr(pos)
                .i32(cache.kvHeads()).i32(cache.headDim()).i32(cache.capacity());
        kvStore.launch(blocks((long) cache.kvHeads() * cache.headDim(), 128), n, 128, 0, args);
    }

    /** Splits of the context a decode step uses for a cache of {@code capacity} positions: one per 256, 1 to 32. */
    public static int attentionSplits(int capacity) {
        return Math.max(1, Math.min(32, (capacity + 255) / 256));
    }

    /**
     * Splits a batch's attention uses: at most {@code splits}, and no more than it takes for
     * {@code blocks} blocks per split to reach 4 blocks per multiprocessor (a 512-token prompt of
     * 32 heads has 4096 blocks without splitting: 1).
     */
    static int batchSplits(int splits, int blocks, int multiprocessors) {
        int want = (4 * Math.max(1, multiprocessors) + blocks - 1) / blocks;
        return Math.max(1, Math.min(splits, want));
    }

    /** Lanes per query of {@code kiri_attn_prefill}: each holds 64 dimensions. */
    static int attentionLanes(int headDim) {
        return headDim <= 64 ? 1 : headDim <= 128 ? 2 : 4;
    }

    /** Floats of scratch {@link #attention} needs for {@code n} tokens. */
    public static long attentionScratchFloats(int n, int nHeads, int headDim, int splits) {
        return (long) n * nHeads * splits * (headDim + 2);
    }

    /**
     * Causal attention of {@code n} tokens over {@code layer} of the cache, the semantics of
     * {@code Kernels.attention}: {@code q} and {@code out} hold {@code [n][nHeads*headDim]}; token
     * {@code i} is at position {@code pos[0] + i} ({@code pos}: a device int) and attends to the
     * positions {@code max(0, p - window + 1) .. p} ({@code window <= 0}: no window), whose keys and
     * values {@link #kvStore} has already written (those of the {@code n} tokens included);
     * grouped-query, scores {@code q·k * scale}, soft-capped when {@code softcap > 0}. Each token's
     * context is split {@code splits} ways and merged (flash decoding); a decode step is
     * {@code n = 1}. A small batch takes blocks of 4 tokens that share every key and value row they
     * read, and uses fewer splits where its blocks alone fill the GPU ({@link #batchSplits}); from
     * 32 tokens with head dimension 64 or 128, a tensor-core kernel takes 64 tokens per block (4 warps
     * of 16, scores and weighted values by TF32 matrix products split three ways, as close as F32),
     * split the same way; with other head dimensions (a multiple of 4), a prompt kernel takes 16 to 64 tokens per block,
     * one thread (or 2, 4 for head dimensions over 64, 128) per token, with key and value rows
     * staged in shared memory, split the same way where its blocks leave the GPU idle (a short
     * batch after a long context). The caller keeps
     * {@code pos[0] + n <= capacity}.
     */
    public void attention(DeviceBuffer q, DeviceBuffer out, int n, int nHeads, DeviceKvCache cache, int layer,
                          DeviceBuffer pos, int window, float scale, float softcap, DeviceBuffer scratch, int splits) {
        int headDim = cache.headDim();
        if (nHeads <= 0 || nHeads % cache.kvHeads() != 0) {
            throw new IllegalArgumentException(nHeads + " query heads are not a multiple of " + cache.kvHeads() + " KV heads");
        }
        if (n <= 0 || (long) n * nHeads > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("attention over " + n + " tokens of " + nHeads + " heads");
        }
        if (n > cache.capacity()) throw new IllegalArgumentException("attention over " + n + " tokens, cache of " + cache.capacity());
        if (splits <= 0 || splits > 65535) throw new IllegalArgumentException("attention splits " + splits);
        long floats = (long) n * nHeads * headDim;
        q.require(floats * Float.BYTES, "attention queries");
        out.require(floats * Float.BYTES, "attention output");
        scratch.require(attentionScratchFloats(n, nHeads, headDim, splits) * Float.BYTES, "attention scratch");
        if (n >= ATTN_PREFILL_MIN && (headDim == 64 || headDim == 128)) {
            int blocks = blocks(n, ATTN_FLASH_TOKENS) * nHeads;
            int s = batchSplits(splits, blocks, ctx.device().multiprocessors());
            args.clear().ptr(q).ptr(cache.keys(layer)).ptr(cache.values(layer)).ptr(out).ptr(scratch).ptr(pos)
                    .i32(nHeads).i32(cache.kvHeads()).i32(cache.capacity()).i32(window).f32(scale).f32(softcap).i32(n);
            (headDim == 64 ? attnFlash64 : attnFlash128).launch(blocks, s, ATTN_FLASH_THREADS, 0, args);
            if (s > 1) {
                args.clear().ptr(scratch).ptr(out).i32(headDim).i32(s);
                attnMerge.launch(n * nHeads, 1, Math.min(256, (headDim + 31) / 32 * 32), 0, args);
            }
            return;
        }
        if (n >= ATTN_PREFILL_MIN && headDim % 4 == 0) {
            int g = attentionLanes(headDim);
            int blocks = blocks(n, ATTN_PREFILL_THREADS / g) * nHeads;
            // blocks of 2 warps: split the context until 8 of them per multiprocessor
            int s = batchSplits(splits, (blocks + 1) / 2, ctx.device().multiprocessors());
            args.clear().ptr(q).ptr(cache.keys(layer)).ptr(cache.values(layer)).ptr(out).ptr(scratch).ptr(pos)
                    .i32(nHeads).i32(cache.kvHeads()).i32(headDim).i32(cache.capacity()).i32(window).f32(scale).f32(softcap).i32(n);
            attnPrefill.launch(blocks, s, ATTN_PREFILL_THREADS, 0, args);
            if (s > 1) {
                args.clear().ptr(scratch).ptr(out).i32(headDim).i32(s);
                attnMerge.launch(n * nHeads, 1, Math.min(256, (headDim + 31) / 32 * 32), 0, args);
            }
            return;
        }
        int tile = n == 1 ? 1 : ATTN_TILE;
        int blocks = blocks(n, tile) * nHeads;
        int s = n == 1 ? splits : batchSplits(splits, blocks, ctx.device().multiprocessors());
        args.clear().ptr(q).ptr(cache.keys(layer)).ptr(cache.values(layer)).ptr(scratch).ptr(pos)
                .i32(nHeads).i32(cache.kvHeads()).i32(headDim).i32(cache.capacity()).i32(window).f32(scale).f32(softcap).i32(n);
        (tile == 1 ? attnSplit : attnSplit4).launch(blocks, s, ATTN_THREADS, 0, args);
        args.clear().ptr(scratch).ptr(out).i32(headDim).i32(s);
        attnMerge.launch(n * nHeads, 1, Math.min(256, (headDim + 31) / 32 * 32), 0, args);
    }

    /** Nothing of its own to free: buffers belong to their owners, modules to the context. */
    @Override
    public void close() {
    }
}
