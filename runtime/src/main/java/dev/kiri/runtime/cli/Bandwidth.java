package dev.kiri.runtime.cli;

import dev.kiri.kernels.ThreadPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The machine's memory read bandwidth as the decode loop meets it: {@code threads} threads each
 * summing 64-bit words over their slice of a buffer larger than the caches. The best of a few
 * passes, after one that pages the buffer in.
 */
final class Bandwidth {
    private Bandwidth() {
    }

    /** Bytes per second reading {@code bytes} with {@code threads} threads, best of {@code passes}. */
    static double measure(long bytes, int threads, int passes) {
        long words = bytes / 8 / threads / 8 * 8; // per thread, a multiple of the 8-word unroll
        long total = words * 8 * threads;
        long[] sums = new long[threads];
        try (Arena arena = Arena.ofShared(); ThreadPool pool = new ThreadPool(threads)) {
            MemorySegment data = arena.allocate(total, 4096);
            for (long o = 0; o < total; o += 4096) data.set(ValueLayout.JAVA_LONG, o, o); // touch every page
            ThreadPool.Task task = index -> sums[index] = sum(data, index * words * 8, words);
            pool.run(threads, task); // warm up: JIT and page tables
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

    private static long sum(MemorySegment data, long from, long words) {
        long a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        long end = from + words * 8;
        for (long o = from; o < end; o += 64) {
            a0 += data.get(ValueLayout.JAVA_LONG_UNALIGNED, o) + data.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 32);
            a1 += data.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 8) + data.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 40);
            a2 += data.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 16) + data.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 48);
            a3 += data.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 24) + data.get(ValueLayout.JAVA_LONG_UNALIGNED, o + 56);
        }
        return a0 + a1 + a2 + a3;
    }
}
