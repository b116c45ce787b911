package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.ThreadPool;
import dev.kiri.kernels.Weights;
import java.lang.foreign.MemorySegment;

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

    private final ThreadPool pool;
    private final Activations act = new Activations();
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
        prepare(w, x, xOff, 1);
        run(w, y, yOff, 1);
    }

    @Override
    public void matmul(Weights w, float[] x, float[] y, int n) {
        Shapes.checkMatmul(w, x, y, n);
        if (n == 0) return;
        if (gemm(w, n)) {
            prepareGemm(w, x, n);
        } else {
            prepare(w, x, 0, n);
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
        prepTask.set(VecDotType.of(w.name(), w.type()), x, n, w.cols());
        try {
            pool.run(ceilDiv(n, VectorGemm.batchBlock()), prepTask);
        } finally {
            prepTask.clear();
        }
    }

    /**
     * The activations for {@code w}'s kernel: bytes for the scalar dot products and Q8_0's, 16-bit
     * values for the other vector kernels, and the order of the Q4_0 kernels and of the kernels of
     * the {@link Interleave}d copies.
     */
    private void prepare(Weights w, float[] x, int xOff, int n) {
        GgmlType t = w.type();
        boolean vector = VectorDots.supports(t);
        boolean copy = w.interleaved() != null;
        int layout = switch (t) {
            case Q4_0 -> copy ? Activations.Q4_X8 : Activations.Q4_PAIRS;
            case Q4_K -> copy ? Activations.Q4_KX : Activations.NO_LAYOUT;
            case Q6_K -> copy ? Activations.Q6_KX : Activations.NO_LAYOUT;
            default -> Activations.NO_LAYOUT;
        };
        act.prepare(VecDotType.of(w.name(), t), x, xOff, w.cols(), n, !vector || t == GgmlType.Q8_0,
                vector && t != GgmlType.Q8_0, layout);
    }

    private void run(Weights w, float[] y, int yOff, int n) {
        int rows = w.rows();
        if (rows == 0) return;
        boolean gemm = gemm(w, n);
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
        int tasks = ceilDiv(rows, chunk);
        if (gemm) ensurePanels(tasks, VectorGemm.PANEL_ROWS * w.cols());
        task.set(w, y, yOff, n, chunk, gemm);
        try {
            pool.run(tasks, task);
        } finally {
            task.clear();
        }
    }

    /**
     * Whether {@link VectorGemm} takes this product (for interleaved weights, reading its panels
     * from the copy, so that the file's pages stay untouched).
     */
    private static boolean gemm(Weights w, int n) {
        GgmlType t = w.type();
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

    /** Rows [index·chunk, (index+1)·chunk) of one product. Reused for every call. */
    private final class RowsTask implements ThreadPool.Task {
        private Weights w;
        private float[] y;
        private int yOff;
        private int n;
        private int chunk;
        private boolean gemm;

        void set(Weights w, float[] y, int yOff, int n, int chunk, boolean gemm) {
            this.w = w;
            this.y = y;
            this.yOff = yOff;
            this.n = n;
            this.chunk = chunk;
            this.gemm = gemm;
        }

        void clear() {
            w = null;
            y = null;
        }

        /**
         * Rows [r0, r1) from an {@link Interleave}d copy, tile by tile, every activation row. Chunks
         * are whole tiles, and for Q4_0 tiles are whole groups of eight (its rows a multiple of 8).
         */
        private void copyRows(GgmlType t, MemorySegment packed, int cols, int rows, int r0, int r1) {
            for (int tr = r0; tr < r1; tr += TILE_ROWS) {
                int te = Math.min(r1, tr + TILE_ROWS);
                for (int i = 0; i < n; i++) {
                    int yo = yOff + i * rows;
                    switch (t) {
                        case Q4_0 -> VectorDots.q4_0x8(packed, cols / 32, tr / Interleave.GROUP, te / Interleave.GROUP, act.xq4x8,
                                act.d, i * (cols / 32), y, yo);
                        case Q4_K -> VectorDots.q4_Kx(packed, cols / 256, tr, te, act.xk, act.d, act.bsum32, i * (cols / 256), y, yo);
                        case Q6_K -> VectorDots.q6_Kx(packed, cols / 256, tr, te, act.x6, act.d, act.bsum, i * (cols / 256), y, yo);
                        default -> throw new IllegalStateException(t + " has no copy kernel");
                    }
                }
            }
        }

        @Override
        public void run(int index) {
            Weights w = this.w;
            GgmlType t = w.type();
            int rows = w.rows();
            int r0 = index * chunk;
            int r1 = Math.min(rows, r0 + chunk);
            MemorySegment packed = w.interleaved();
            if (packed != null && !gemm) {
                copyRows(t, packed, w.cols(), rows, r0, r1);
                return;
            }
            if (n == 1) {
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
