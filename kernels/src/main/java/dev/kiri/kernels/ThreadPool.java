package dev.kiri.kernels;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A persistent pool of worker threads for data-parallel kernels: {@link #run} calls
 * {@code task.run(i)} for every {@code i} in {@code [0, tasks)}, spread over the workers and the
 * calling thread, and returns when all calls are done.
 *
 * <p>A dispatch allocates nothing and takes no lock. One {@code long} word carries the whole
 * job state, so a worker claims an index with a single compare-and-set:
 *
 * <pre>
 *   63            42 41            21 20             0
 *  +----------------+----------------+----------------+
 *  |  generation    |  task count    |  next index    |
 *  +----------------+----------------+----------------+
 * </pre>
 *
 * The caller writes the task, then publishes a new word (next generation, index 0). A claim
 * succeeds only while the generation is unchanged and the index is below the count, so a worker
 * that wakes late can never run an index of a finished job. Idle workers spin briefly (calls of a
 * token step follow each other within microseconds) and then park; the caller does the same
 * while it waits for the last index to complete.
 *
 * <p>{@code run} must not be called from two threads at once, nor from inside a task; both are
 * reported with {@link IllegalStateException}. An exception thrown by a task is rethrown to the
 * caller after every index has run (the first one, if several fail).
 */
public final class ThreadPool implements AutoCloseable {

    /** One unit of parallel work; {@code index} is in {@code [0, tasks)}. */
    @FunctionalInterface
    public interface Task {
        void run(int index);
    }

    private static final int INDEX_BITS = 21;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    private static final int COUNT_SHIFT = INDEX_BITS;
    private static final int GEN_SHIFT = 2 * INDEX_BITS;
    /** Most tasks one call may have. */
    public static final int MAX_TASKS = (int) INDEX_MASK;

    /** How long an idle thread spins before it parks. */
    private static final long SPIN_NANOS = 50_000;

    private static final VarHandle WORD;
    private static final VarHandle COMPLETED;
    private static final VarHandle BUSY;
    private static final VarHandle FAILURE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WORD = l.findVarHandle(ThreadPool.class, "word", long.class);
            COMPLETED = l.findVarHandle(ThreadPool.class, "completed", int.class);
            BUSY = l.findVarHandle(ThreadPool.class, "busy", int.class);
            FAILURE = l.findVarHandle(ThreadPool.class, "failure", Throwable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int threads;
    private final Worker[] workers;

    // Job state. The task and caller are written before the word that publishes them.
    private Task task;
    private Thread caller;
    private volatile long word;
    private volatile int completed;
    private volatile int busy;
    private volatile Throwable failure;
    private volatile boolean callerParked;
    private volatile boolean closed;

    /**
     * @param threads total threads working on a call, the caller included ({@code threads - 1}
     *                daemon workers are started)
     */
    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be at least 1: " + threads);
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i);
            workers[i].start();
        }
    }

    /** Threads working on a call, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task.run(i)} for every {@code i} in {@code [0, tasks)} on the pool and the calling
     * thread; returns when all are done.
     */
    public void run(int tasks, Task task) {
        if (tasks <= 0) {
            if (tasks == 0) return;
            throw new IllegalArgumentException("negative task count: " + tasks);
        }
        if (tasks > MAX_TASKS) throw new IllegalArgumentException("too many tasks: " + tasks + " > " + MAX_TASKS);
        if (closed) throw new IllegalStateException("thread pool is closed");
        if (!BUSY.compareAndSet(this, 0, 1)) {
            throw new IllegalStateException("ThreadPool.run called concurrently or from inside a task");
        }
        try {
            if (workers.length == 0 || tasks == 1) {
                for (int i = 0; i < tasks; i++) task.run(i);
                return;
            }
            this.task = task;
            this.caller = Thread.currentThread();
            COMPLETED.setVolatile(this, 0);
            long gen = ((word >>> GEN_SHIFT) + 1) & ((1L << (64 - GEN_SHIFT)) - 1);
            long start = (gen << GEN_SHIFT) | ((long) tasks << COUNT_SHIFT);
            WORD.setVolatile(this, start);
            for (Worker w : workers) {
                if (w.parked) LockSupport.unpark(w);
            }
            drain(gen);
            awaitCompletion(tasks);
            this.task = null;
            Throwable t = failure;
            if (t != null) {
                FAILURE.setVolatile(this, null);
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error e) throw e;
                throw new IllegalStateException("task failed", t);
            }
        } finally {
            BUSY.setVolatile(this, 0);
        }
    }

    /** Claims and runs indices of generation {@code gen} until none is left. */
    private void drain(long gen) {
        while (true) {
            long w = word;
            if ((w >>> GEN_SHIFT) != gen) return;
            int index = (int) (w & INDEX_MASK);
            int count = (int) ((w >>> COUNT_SHIFT) & INDEX_MASK);
            if (index >= count) return;
            if (WORD.compareAndSet(this, w, w + 1)) {
                // A successful claim proves the caller still waits on this job, so task is its task.
                try {
                    task.run(index);
                } catch (Throwable t) {
                    FAILURE.compareAndSet(this, (Throwable) null, t);
                } finally {
                    if ((int) COMPLETED.getAndAdd(this, 1) + 1 == count && callerParked) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }
    }

    private void awaitCompletion(int tasks) {
        long spinStart = 0;
        int spins = 0;
        while (completed != tasks) {
            if (++spins < 64) {
                Thread.onSpinWait();
                continue;
            }
            spins = 0;
            long now = System.nanoTime();
            if (spinStart == 0) {
                spinStart = now;
            } else if (now - spinStart > SPIN_NANOS) {
                callerParked = true;
                if (completed != tasks) LockSupport.park(this);
                callerParked = false;
            }
        }
    }

    /** Stops the workers; idempotent. Later calls of {@link #run} fail. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }

    private final class Worker extends Thread {
        volatile boolean parked;

        Worker(int i) {
            super("kiri-kernels-" + i);
            setDaemon(true);
        }

        @Override
        public void run() {
            long seenGen = word >>> GEN_SHIFT;
            long spinStart = 0;
            int spins = 0;
            while (!closed) {
                long gen = word >>> GEN_SHIFT;
                if (gen != seenGen) {
                    seenGen = gen;
                    drain(gen);
                    spinStart = 0;
                    continue;
                }
                if (++spins < 64) {
                    Thread.onSpinWait();
                    continue;
                }
                spins = 0;
                long now = System.nanoTime();
                if (spinStart == 0) {
                    spinStart = now;
                } else if (now - spinStart > SPIN_NANOS) {
                    parked = true;
                    if ((word >>> GEN_SHIFT) == seenGen && !closed) LockSupport.park(ThreadPool.this);
                    parked = false;
                    spinStart = 0;
                }
            }
        }
    }
}
