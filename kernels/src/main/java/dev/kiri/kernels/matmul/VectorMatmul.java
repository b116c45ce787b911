package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.ThreadPool;
import dev.kiri.kernels.Weights;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Matrix products with Vector API kernels ({@link VectorDots}), split over the pool by output
 * rows. The activations are converted once per call (on the calling thread) into buffers this
 * instance reuses; the pool then runs one preallocated task per chunk of rows, so a call allocates
 * nothing once the buffers have grown to the largest shape seen.
 *
 * <p>Loads Vector API classes: construct it only when {@code jdk.incubator.vector} is present.
 */
public final class VectorMatmul implements Matmul {
    /** Weight rows one task handles at least (keeps dispatch cost small next to the work). */
    private static final int MIN_ROWS_PER_TASK = 16;
    /** Rows of a prefill tile: their weights stay in cache while every batch row passes over them. */
    private static final int TILE_ROWS = 16;
    /**
     * Batch rows from which quantized weights go through {@link VectorGemm} (a dequantized panel
     * serves the whole batch) rather than one integer dot product per row and batch row.
     */
    static final int QUANTIZED_GEMM_MIN_BATCH = 32;
    /** Tasks per thread of a decode (or small-batch) product. */
    private static final int DECODE_TASKS_PER_THREAD = 16;
    /** Tasks per thread of a {@link VectorGemm} product. */
    private static final int GEMM_TASKS_PER_THREAD = 8;

    /**
     * Whether a decode task takes its rows from the two halves of its range in turn (row a of the
     * first half, row a of the second, ...) rather than in order: two streams through memory instead
     * of one, which the hardware prefetchers serve further ahead (docs/KERNELS.md, "Two streams per
     * decode task"). Every row's sum is computed exactly as before; only the order of the rows changes.
     * {@code -Dkiri.decode.twoStreams=false} restores the order, for comparisons.
     */
    static final boolean TWO_STREAMS = !"false".equals(System.getProperty("kiri.decode.twoStreams"));

    /** Most products one job runs ({@link #matvecs}: Q, K and V). */
    private static final int MAX_PARTS = 3;

    private final ThreadPool pool;
    /** The converted activations of each part of a job (a part may use an earlier part's). */
    private final Activations[] acts = {new Activations(), new Activations(), new Activations()};
    private final RowsTask task = new RowsTask();
    /** Per task index, a panel of float weight rows and an output row for {@link VectorGemm}. */
    private float[][] panels = new float[0][];
    private float[][] outs = new float[0][];
    /** The activations of a float-weight batch, transposed for {@link VectorGemm}. */
    private float[] transposed = new float[0];
    private final PrepTask prepTask = new PrepTask();

    /** @param pool the threads the products run on (not closed by {@link #close}) */
    public VectorMatmul(ThreadPool pool) {
        this.pool = pool;
    }

    @Override
    public void matvec(Weights w, float[] x, int xOff, float[] y, int yOff) {
        Shapes.checkMatvec(w, x, xOff, y, yOff);
        prepare(acts[0], w, x, xOff, 1);
        run(w, y, yOff, 1);
    }

    /**
     * One job for the two or three products: x is converted once per form that the matrices take
     * (Q, K and V of one type: once), and the pool runs every part's row chunks in one dispatch,
     * so that no thread waits at the end of one product before starting the next. The results are
     * those of separate {@link #matvec} calls: the same kernels on the same converted input, up to
     * the order of the lane sums, which compiled and interpreted code take differently
     * ({@code Kernels.matvecs}).
     */
    public void matvecs(Weights a, Weights b, Weights c, float[] x, int xOff, float[] ya, float[] yb, float[] yc) {
        Shapes.checkMatvec(a, x, xOff, ya, 0);
        Shapes.checkMatvec(b, x, xOff, yb, 0);
        if (c != null) Shapes.checkMatvec(c, x, xOff, yc, 0);
        int parts = c != null ? 3 : 2;
        int tasks = 0;
        // One chunk size for the whole job, from all its rows: K and V alone would be cut in 16-row tasks.
        int chunk = chunkOf(a.rows() + b.rows() + (c != null ? c.rows() : 0), false);
        try {
            for (int p = 0; p < parts; p++) {
                Weights w = p == 0 ? a : p == 1 ? b : c;
                Activations act = acts[p];
                for (int q = 0; q < p; q++) {
                    if (sameForm(task.w[q], w)) {
                        act = task.act[q];
                        break;
                    }
                }
                if (act == acts[p]) prepare(act, w, x, xOff, 1);
                task.setPart(p, w, act, p == 0 ? ya : p == 1 ? yb : yc, 0, chunk, tasks);
                tasks += ceilDiv(w.rows(), chunk);
            }
            task.setJob(parts, tasks, 1, false);
            pool.run(tasks, task);
        } finally {
            task.clear();
        }
    }

    /**
     * Whether two matrices take the same converted activations: {@link #prepare} decides the form
     * from the type, the column count and whether the matrix has a copy, nothing else.
     */
    private static boolean sameForm(Weights u, Weights w) {
        return u.cols() == w.cols() && u.type() == w.type() && (u.interleaved() != null) == (w.interleaved() != null)
                && Interleave.kernelType(u) == Interleave.kernelType(w);
    }

    @Override
    public void matmul(Weights w, float[] x, float[] y, int n) {
        Shapes.checkMatmul(w, x, y, n);
        if (n == 0) return;
        if (gemm(w, n)) {
            prepareGemm(w, x, n);
        } else {
            prepare(acts[0], w, x, 0, n);
        }
        run(w, y, 0, n);
    }

    /**
     * The activations of a {@link VectorGemm} product, converted to the weight type's vec-dot form
     * and transposed into batch blocks, one block per pool task.
     */
    private void prepareGemm(Weights w, float[] x, int n) {
        int size = VectorGemm.transposedSize(n, w.cols());
        if (transposed.length < size) transposed = new float[size];
        prepTask.set(VecDotType.of(w.name(), Interleave.kernelType(w)), x, n, w.cols());
        try {
            pool.run(ceilDiv(n, VectorGemm.batchBlock()), prepTask);
        } finally {
            prepTask.clear();
        }
    }

    /**
     * The activations for {@code w}'s kernel: bytes for the scalar dot products and the in-place
     * Q8_0 kernel, 16-bit values for the other vector kernels (the Q8_0 copy's included), and the
     * order of the Q4_0 kernels and of the kernels of the {@link Interleave}d copies.
     */
    private static void prepare(Activations act, Weights w, float[] x, int xOff, int n) {
        GgmlType t = Interleave.kernelType(w);
        boolean vector = VectorDots.supports(t);
        boolean copy = w.interleaved() != null;
        int layout = switch (t) {
            case Q4_0 -> copy ? (WideDots.ON ? Activations.Q4_X8_WIDE : Activations.Q4_X8) : Activations.Q4_PAIRS;
            case Q8_0 -> copy ? Activations.Q8_X8 : Activations.NO_LAYOUT;
            case Q4_K -> copy ? (WideDots.ON ? Activations.Q4_KX_WIDE : Activations.Q4_KX) : Activations.NO_LAYOUT;
            case Q5_K -> copy ? (WideDots.ON ? Activations.Q5_KX_WIDE : Activations.Q5_KX) : Activations.NO_LAYOUT;
            case Q6_K -> copy ? (WideDots.ON ? Activations.Q6_KX_WIDE : Activations.Q6_KX) : Activations.NO_LAYOUT;
            case Q2_K, Q3_K -> copy ? Activations.Q6_KX : Activations.NO_LAYOUT;
            default -> Activations.NO_LAYOUT;
        };
        boolean q8InPlace = t == GgmlType.Q8_0 && !copy;
        act.prepare(VecDotType.of(w.name(), t), x, xOff, w.cols(), n, !vector || q8InPlace, vector && !q8InPlace, layout);
    }

    private void run(Weights w, float[] y, int yOff, int n) {
        int rows = w.rows();
        if (rows == 0) return;
        boolean gemm = gemm(w, n);
        int chunk = chunk(w, gemm);
        int tasks = ceilDiv(rows, chunk);
        if (gemm) ensurePanels(tasks, VectorGemm.PANEL_ROWS * w.cols());
        task.setPart(0, w, acts[0], y, yOff, chunk, 0);
        task.setJob(1, tasks, n, gemm);
        try {
            pool.run(tasks, task);
        } finally {
            task.clear();
        }
    }

    /** Rows of one pool task of a product of w. */
    private int chunk(Weights w, boolean gemm) {
        return chunkOf(w.rows(), gemm);
    }

    /** Rows of one pool task of a product (or job) of {@code rows} rows. */
    private int chunkOf(int rows, boolean gemm) {
        int chunk;
        if (gemm) {
            // A prefill task is long (every batch row passes over its rows): about eight per thread,
            // whole panels, so that the thread that finishes last waits for little.
            chunk = Math.max(MIN_ROWS_PER_TASK, ceilDiv(rows, GEMM_TASKS_PER_THREAD * pool.threads()));
            chunk = ceilDiv(chunk, VectorGemm.PANEL_ROWS) * VectorGemm.PANEL_ROWS;
        } else {
            // About sixteen chunks per thread (at least 16 rows each) so that a slow or descheduled
            // thread does not hold up the call: with four, the interleaved Q4_0 decode measured
            // 22-30 tok/s, with sixteen 32-33 (docs/KERNELS.md, Threads).
            chunk = Math.max(MIN_ROWS_PER_TASK, ceilDiv(rows, DECODE_TASKS_PER_THREAD * pool.threads()));
            chunk = ceilDiv(chunk, TILE_ROWS) * TILE_ROWS;
        }
        return chunk;
    }

    /**
     * Whether {@link VectorGemm} takes this product (for interleaved weights, reading its panels
     * from the copy, so that the file's pages stay untouched).
     */
    private static boolean gemm(Weights w, int n) {
        GgmlType t = Interleave.kernelType(w);
        return n > 1 && VectorGemm.supports(t) || n >= QUANTIZED_GEMM_MIN_BATCH && VectorGemm.dequantizes(t) && VectorDots.supports(t);
    }

    private void ensurePanels(int tasks, int size) {
        if (panels.length < tasks) {
            panels = java.util.Arrays.copyOf(panels, tasks);
            outs = java.util.Arrays.copyOf(outs, tasks);
        }
        for (int i = 0; i < tasks; i++) {
            if (panels[i] == null || panels[i].length < size) panels[i] = new float[size];
            if (outs[i] == null) outs[i] = new float[VectorGemm.PANEL_ROWS * VectorGemm.batchBlock()];
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public void close() {
    }

    /** Batch block {@code index} of a {@link VectorGemm} product's activations. Reused for every call. */
    private final class PrepTask implements ThreadPool.Task {
        private VecDotType type;
        private float[] x;
        private int n;
        private int cols;

        void set(VecDotType type, float[] x, int n, int cols) {
            this.type = type;
            this.x = x;
            this.n = n;
            this.cols = cols;
        }

        void clear() {
            x = null;
        }

        @Override
        public void run(int index) {
            VectorGemm.prepareBlock(type, x, n, cols, index, transposed);
        }
    }

    /**
     * Rows [i·chunk, (i+1)·chunk) of one product, for the job's task index i, or of one of a job's
     * two or three products (each part's tasks follow the previous part's). Reused for every call.
     */
    private final class RowsTask implements ThreadPool.Task {
        private final Weights[] w = new Weights[MAX_PARTS];
        private final Activations[] act = new Activations[MAX_PARTS];
        private final float[][] y = new float[MAX_PARTS][];
        private final int[] yOff = new int[MAX_PARTS];
        private final int[] chunk = new int[MAX_PARTS];
        /** The first task index of each part, and the job's task count after the last. */
        private final int[] first = new int[MAX_PARTS + 1];
        private int parts;
        private int n;
        private boolean gemm;

        void setPart(int p, Weights w, Activations act, float[] y, int yOff, int chunk, int first) {
            this.w[p] = w;
            this.act[p] = act;
            this.y[p] = y;
            this.yOff[p] = yOff;
            this.chunk[p] = chunk;
            this.first[p] = first;
        }

        void setJob(int parts, int tasks, int n, boolean gemm) {
            this.parts = parts;
            this.first[parts] = tasks;
            this.n = n;
            this.gemm = gemm;
        }

        void clear() {
            for (int p = 0; p < MAX_PARTS; p++) {
                w[p] = null;
                act[p] = null;
                y[p] = null;
            }
        }

        /**
         * Rows [r0, r1) from an {@link Interleave}d copy, tile by tile, every activation row (Q4_0's
         * rows and chunks come in whole groups of eight). A copy of long rows holds each band of
         * {@link Interleave#BAND} rows column chunk by column chunk ({@link Interleave#blockOffset},
         * {@link Interleave#q4_0Offset}); its tiles are those bands (cut at r0 and r1), and the kernel
         * runs a tile chunk by chunk, adding each chunk's sums to the previous ones, so that a chunk's
         * activations stay in the first-level cache over the band's rows and the copy is still read
         * in order.
         */
        private void copyRows(GgmlType t, MemorySegment packed, Activations act, int cols, int rows, int r0, int r1,
                              float[] y, int yOff) {
            boolean grouped = Interleave.grouped(t);
            int nb = cols / (grouped ? 32 : 256);
            int span = Interleave.span(nb, grouped ? 32 : 256);
            // Q4_0's and Q8_0's unit is a group of eight rows, the K-quants' a row.
            int unit = grouped ? Interleave.GROUP : 1;
            long block = Interleave.blockBytes(t);
            // Whole rows: tiles of TILE_ROWS; rows in column chunks: the copy's bands.
            int bandRows = span == nb ? TILE_ROWS : Interleave.BAND;
            for (int tr = r0, te; tr < r1; tr = te) {
                int rb = tr - tr % bandRows;
                te = Math.min(r1, rb + bandRows);
                int ub = rb / unit, bandUnits = (Math.min(bandRows, rows - rb) + unit - 1) / unit;
                for (int i = 0; i < n; i++) {
                    // The kernels add every chunk's sums to y (no branch on the chunk in their code, nor
                    // here): the sums start from -0.0f, to which adding any float gives that float exactly.
                    Arrays.fill(y, yOff + i * rows + tr, yOff + i * rows + te, -0.0f);
                    for (int cs = 0; cs < nb; cs += span) {
                        int cn = Math.min(span, nb - cs);
                        // Unit u's (row r's, or group g's) part of this chunk at base + u·stride.
                        long stride = cn * block;
                        long base = ((long) ub * nb + (long) cs * bandUnits) * block - ub * stride;
                        copyChunk(t, packed, act, stride, base, cn, tr, te, i * nb + cs, y, yOff + i * rows);
                    }
                }
            }
        }

        /**
         * One column chunk of rows [r0, r1): {@code nb} blocks from activation block {@code xb}, row r's
         * at {@code base + r·stride} in the copy; the sums added to {@code y[yo + r]}.
         */
        private static void copyChunk(GgmlType t, MemorySegment packed, Activations act, long stride, long base, int nb,
                                      int r0, int r1, int xb, float[] y, int yo) {
            switch (t) {
                case Q4_0 -> {
                    if (WideDots.ON) {
                        WideDots.q4_0x8(packed, stride, base, nb, r0 / Interleave.GROUP, r1 / Interleave.GROUP,
                                act.xq4l, act.xq4x8, act.d, xb, y, yo);
                    } else {
                        VectorDots.q4_0x8(packed, stride, base, nb, r0 / Interleave.GROUP, r1 / Interleave.GROUP,
                                act.xq4x8, act.d, xb, y, yo);
                    }
                }
                case Q8_0 -> {
                    if (WideDots.ON) {
                        WideDots.q8_0x8(packed, stride, base, nb, r0 / Interleave.GROUP, r1 / Interleave.GROUP,
                                act.xq8l, act.d, xb, y, yo);
                    } else {
                        VectorDots.q8_0x8(packed, stride, base, nb, r0 / Interleave.GROUP, r1 / Interleave.GROUP,
                                act.xq8l, act.d, xb, y, yo);
                    }
                }
                case Q4_K -> {
                    if (WideDots.ON) {
                        WideDots.q4_Kx(packed, stride, base, nb, r0, r1, act.xks, act.d, act.bsum32, xb, y, yo);
                    } else {
                        VectorDots.q4_Kx(packed, stride, base, nb, r0, r1, act.xks, act.d, act.bsum32, xb, y, yo);
                    }
                }
                case Q5_K -> {
                    if (WideDots.ON) {
                        WideDots.q5_Kx(packed, stride, base, nb, r0, r1, act.xk, act.d, act.bsum32, xb, y, yo);
                    } else {
                        VectorDots.q5_Kx(packed, stride, base, nb, r0, r1, act.xk, act.d, act.bsum32, xb, y, yo);
                    }
                }
                case Q2_K -> VectorDots.q2_Kx(packed, stride, base, nb, r0, r1, act.x6, act.d, act.bsum, xb, y, yo);
                case Q3_K -> VectorDots.q3_Kx(packed, stride, base, nb, r0, r1, act.x6, act.d, act.bsum, xb, y, yo);
                case Q6_K -> {
                    if (WideDots.ON) {
                        WideDots.q6_Kx(packed, stride, base, nb, r0, r1, act.x6, act.d, act.bsum, xb, y, yo);
                    } else {
                        VectorDots.q6_Kx(packed, stride, base, nb, r0, r1, act.x6, act.d, act.bsum, xb, y, yo);
                    }
                }
                default -> throw new IllegalStateException(t + " has no copy kernel");
            }
        }

        @Override
        public void run(int index) {
            int p = 0;
            while (index >= first[p + 1]) p++;
            Weights w = this.w[p];
            Activations act = this.act[p];
            float[] y = this.y[p];
            int yOff = this.yOff[p];
            GgmlType t = Interleave.kernelType(w);
            int rows = w.rows();
            int r0 = (index - first[p]) * chunk[p];
            int r1 = Math.min(rows, r0 + chunk[p]);
            MemorySegment packed = w.interleaved();
            if (packed != null && !gemm) {
                copyRows(t, packed, act, w.cols(), rows, r0, r1, y, yOff);
                return;
            }
            if (n == 1) {
                if (TWO_STREAMS && r1 - r0 >= 2) {
                    // The first half has the odd row of an odd range, so b runs one past r1 at most.
                    MemorySegment data = w.data();
                    long rowBytes = w.rowBytes();
                    int cols = w.cols(), mid = (r0 + r1 + 1) >>> 1;
                    for (int a = r0, b = mid; a < mid; a++, b++) {
                        VectorDots.rows(t, data, rowBytes, cols, a, a + 1, act, 0, y, yOff);
                        if (b < r1) VectorDots.rows(t, data, rowBytes, cols, b, b + 1, act, 0, y, yOff);
                    }
                    return;
                }
                VectorDots.rows(t, w.data(), w.rowBytes(), w.cols(), r0, r1, act, 0, y, yOff);
                return;
            }
            if (gemm) {
                VectorGemm.rows(t, w.data(), packed, w.rowBytes(), w.cols(), rows, r0, r1, transposed, n, y, yOff,
                        panels[index], outs[index]);
                return;
            }
            for (int tr = r0; tr < r1; tr += TILE_ROWS) {
                int te = Math.min(r1, tr + TILE_ROWS);
                for (int i = 0; i < n; i++) {
                    VectorDots.rows(t, w.data(), w.rowBytes(), w.cols(), tr, te, act, i, y, yOff + i * rows);
                }
            }
        }
    }
}
