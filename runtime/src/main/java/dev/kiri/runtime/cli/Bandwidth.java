package dev.kiri.runtime.cli;

import dev.kiri.kernels.Kernels;
import dev.kiri.kernels.KernelsProvider;
import dev.kiri.kernels.ThreadPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The machine's memory read bandwidth as the decode loop meets it: {@code threads} threads each
 * summing 64-bit words over their slice of a buffer larger than the caches, with the kernels' own
 * sum ({@link Kernels#sumWords}: vectors of the kernels' width, 256 bits by default, where the
 * Vector API is present; a scalar loop of 64-bit loads measured two thirds of the read rate on a
 * machine whose cores issue too few loads to keep enough cache lines in flight). The best of a few
 * passes, after two that page the buffer in and let the JIT compile the sum.
 */
final class Bandwidth {
    private Bandwidth() {
    }

    /** Bytes per second reading {@code bytes} with {@code threads} threads, best of {@code passes}. */
    static double measure(long bytes, int threads, int passes) {
        long words = bytes / 8 / threads / 16 * 16; // per thread, a multiple of 16 words (sumWords takes any tail)
        long total = words * 8 * threads;
        long[] sums = new long[threads];
        try (Arena arena = Arena.ofShared(); ThreadPool pool = new ThreadPool(threads);
             Kernels kernels = KernelsProvider.create(1)) {
            MemorySegment data = arena.allocate(total, 4096);
            for (long o = 0; o < total; o += 4096) data.set(ValueLayout.JAVA_LONG, o, o); // touch every page
            ThreadPool.Task task = index -> sums[index] = kernels.sumWords(data, index * words * 8, words * 8);
            // Warm up twice: page tables, and the JIT's compile of the sum before the timed passes.
            pool.run(threads, task);
            pool.run(threads, task);
            double best = 0;
            for (int p = 0; p < passes; p++) {
                long t0 = System.nanoTime();
                pool.run(threads, task);
                long ns = System.nanoTime() - t0;
                best = Math.max(best, total * 1e9 / ns);
            }
            long check = 0;
            for (long s : sums) check += s;
            if (check == 42) System.err.print(""); // keep the sums alive
            return best;
        }
    }
}
