package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ThreadPoolTest {

    @Test
    void everyIndexRunsExactlyOnceAcrossManyCalls() {
        try (ThreadPool pool = new ThreadPool(3)) {
            for (int call = 0; call < 2000; call++) {
                int tasks = 1 + call % 37;
                AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
                pool.run(tasks, hits::incrementAndGet);
                for (int i = 0; i < tasks; i++) assertEquals(1, hits.get(i), "call " + call + " index " + i);
            }
        }
    }

    @Test
    void callsSeparatedByIdlePausesWakeParkedWorkers() throws InterruptedException {
        try (ThreadPool pool = new ThreadPool(2)) {
            for (int call = 0; call < 5; call++) {
                Thread.sleep(5); // longer than the spin: workers are parked now
                AtomicIntegerArray hits = new AtomicIntegerArray(64);
                pool.run(64, hits::incrementAndGet);
                for (int i = 0; i < 64; i++) assertEquals(1, hits.get(i));
            }
        }
    }

    @Test
    void workIsSharedWithTheWorkers() {
        try (ThreadPool pool = new ThreadPool(3)) {
            Set<String> names = ConcurrentHashMap.newKeySet();
            for (int call = 0; call < 200 && names.size() < 3; call++) {
                pool.run(12, i -> {
                    names.add(Thread.currentThread().getName());
                    long end = System.nanoTime() + 200_000;
                    while (System.nanoTime() < end) Thread.onSpinWait();
                });
            }
            assertEquals(3, names.size(), "threads seen: " + names);
            assertEquals(3, pool.threads());
        }
    }

    @Test
    void taskExceptionIsRethrownToTheCallerAndThePoolStaysUsable() {
        try (ThreadPool pool = new ThreadPool(2)) {
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            AtomicIntegerArray hits = new AtomicIntegerArray(16);
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> pool.run(16, i -> {
                hits.incrementAndGet(i);
                if (i == 5) throw boom;
            }));
            assertSame(boom, thrown);
            for (int i = 0; i < 16; i++) assertEquals(1, hits.get(i), "every index still ran");
            AtomicIntegerArray again = new AtomicIntegerArray(8);
            pool.run(8, again::incrementAndGet);
            for (int i = 0; i < 8; i++) assertEquals(1, again.get(i));
        }
    }

    @Test
    void nestedRunIsRejected() {
        try (ThreadPool pool = new ThreadPool(2)) {
            assertThrows(IllegalStateException.class, () -> pool.run(4, i -> pool.run(2, j -> { })));
            pool.run(3, i -> { }); // still usable
        }
    }

    @Test
    void singleThreadPoolRunsInlineOnTheCaller() {
        try (ThreadPool pool = new ThreadPool(1)) {
            Thread me = Thread.currentThread();
            pool.run(5, i -> assertSame(me, Thread.currentThread()));
        }
    }

    @Test
    void closeIsIdempotentAndLaterRunsFail() {
        ThreadPool pool = new ThreadPool(2);
        pool.close();
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run(2, i -> { }));
    }

    @Test
    void badTaskCountsAreRejectedAndZeroIsANoOp() {
        try (ThreadPool pool = new ThreadPool(2)) {
            assertThrows(IllegalArgumentException.class, () -> pool.run(-1, i -> { }));
            assertThrows(IllegalArgumentException.class, () -> pool.run(ThreadPool.MAX_TASKS + 1, i -> { }));
            pool.run(0, i -> { throw new AssertionError("no index to run"); });
            assertThrows(IllegalArgumentException.class, () -> new ThreadPool(0));
        }
        assertTrue(ThreadPool.MAX_TASKS > 1_000_000);
    }
}
