package dev.kiri.jmh;

import dev.kiri.kernels.ThreadPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's limits, measured the way the kernels would meet them, as baselines for
 * {@link MatvecBenchmark} and {@link MatmulBenchmark} in the same run:
 * <ul>
 * <li>{@code read}: a plain sum of 64-bit words over a segment ({@code mib} MiB, split over the
 *     threads), reported as {@code gigabytes} per second: memory read bandwidth when the segment
 *     is larger than the caches (the default 1 GiB; this machine's L3 is 480 MiB).
 * <li>{@code fmaPeak}: twelve independent vector FMA chains per thread, no memory traffic,
 *     reported as {@code gigaflops} per second; {@code bits} 256 is the AVX2 shape, 512 the
 *     AVX-512 one (where the machine has it).
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class BandwidthBenchmark {

    @State(Scope.Benchmark)
    public static class Pool {
        @Param({"2"})
        public int threads;
        ThreadPool pool;

        @Setup(Level.Trial)
        public void setUp() {
            pool = new ThreadPool(threads);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Memory {
        @Param({"1024"})
        public int mib;
        /**
         * MiB one call reads, the next chunk of the segment each call (0: the whole segment). Short
         * calls let sample mode ({@code -bm sample}) find the calls no other process interrupted,
         * while the segment as a whole still does not fit in the caches.
         */
        @Param({"0"})
        public int chunkMiB;
        long next;
        Arena arena;
        MemorySegment data;
        final long[] sums = new long[64];
        SumTask task;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            data = arena.allocate((long) mib << 20, 4096);
            for (long o = 0; o < data.byteSize(); o += 8) data.set(ValueLayout.JAVA_LONG, o, o * 0x9E3779B97F4A7C15L);
            task = new SumTask(this);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Fma {
        @Param({"256", "512"})
        public int bits;
        final float[] sums = new float[64];
        FmaTask task;

        @Setup(Level.Trial)
        public void setUp() {
            task = new FmaTask(this);
        }
    }

    /** Rates JMH reports per second, next to the call rate. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Bytes {
        public double gigabytes;

        @Setup(Level.Iteration)
        public void reset() {
            gigabytes = 0;
        }
    }

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double gigaflops;

        @Setup(Level.Iteration)
        public void reset() {
            gigaflops = 0;
        }
    }

    @Benchmark
    public long read(Pool p, Memory m, Bytes counter) {
        long size = m.data.byteSize();
        long chunk = m.chunkMiB <= 0 ? size : Math.min(size, (long) m.chunkMiB << 20);
        m.task.slices = p.threads;
        m.task.from = m.next;
        m.task.length = chunk;
        m.next = m.next + 2 * chunk > size ? 0 : m.next + chunk;
        p.pool.run(p.threads, m.task);
        long s = 0;
        for (int i = 0; i < p.threads; i++) s += m.sums[i];
        counter.gigabytes += chunk / 1e9;
        return s;
    }

    /** Iterations of the FMA loop per task and call. */
    static final int FMA_ITERATIONS = 1 << 18;

    @Benchmark
    public float fmaPeak(Pool p, Fma f, Flops counter) {
        VectorSpecies<Float> species = f.bits == 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
        if (species.vectorBitSize() > FloatVector.SPECIES_PREFERRED.vectorBitSize()) {
            throw new IllegalStateException(f.bits + "-bit vectors are not available here");
        }
        p.pool.run(p.threads, f.task);
        float s = 0;
        for (int i = 0; i < p.threads; i++) s += f.sums[i];
        counter.gigaflops += 2.0 * 12 * species.length() * FMA_ITERATIONS * p.threads / 1e9;
        return s;
    }

    private static final class SumTask implements ThreadPool.Task {
        private final Memory m;
        int slices;
        long from;
        long length;

        SumTask(Memory m) {
            this.m = m;
        }

        @Override
        public void run(int index) {
            VectorSpecies<Long> species = LongVector.SPECIES_PREFERRED;
            long step = species.vectorByteSize();
            long size = length / slices / (4 * step) * (4 * step);
            long from = this.from + index * size, to = from + size;
            LongVector a0 = LongVector.zero(species), a1 = a0, a2 = a0, a3 = a0;
            for (long o = from; o < to; o += 4 * step) {
                a0 = a0.add(LongVector.fromMemorySegment(species, m.data, o, ByteOrder.LITTLE_ENDIAN));
                a1 = a1.add(LongVector.fromMemorySegment(species, m.data, o + step, ByteOrder.LITTLE_ENDIAN));
                a2 = a2.add(LongVector.fromMemorySegment(species, m.data, o + 2 * step, ByteOrder.LITTLE_ENDIAN));
                a3 = a3.add(LongVector.fromMemorySegment(species, m.data, o + 3 * step, ByteOrder.LITTLE_ENDIAN));
            }
            m.sums[index] = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        }
    }

    private static final class FmaTask implements ThreadPool.Task {
        private final Fma f;

        FmaTask(Fma f) {
            this.f = f;
        }

        @Override
        public void run(int index) {
            f.sums[index] = f.bits == 512 ? chains512() : chains256();
        }

        // Two copies: the Vector API compiles to SIMD only where the species is a constant.
        private static float chains256() {
            VectorSpecies<Float> s = FloatVector.SPECIES_256;
            FloatVector m = FloatVector.broadcast(s, 0.999f), c = FloatVector.broadcast(s, 1e-3f);
            FloatVector a0 = FloatVector.broadcast(s, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
            FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
            for (int i = 0; i < FMA_ITERATIONS; i++) {
                a0 = a0.fma(m, c);
                a1 = a1.fma(m, c);
                a2 = a2.fma(m, c);
                a3 = a3.fma(m, c);
                a4 = a4.fma(m, c);
                a5 = a5.fma(m, c);
                a6 = a6.fma(m, c);
                a7 = a7.fma(m, c);
                a8 = a8.fma(m, c);
                a9 = a9.fma(m, c);
                a10 = a10.fma(m, c);
                a11 = a11.fma(m, c);
            }
            return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                    .reduceLanes(VectorOperators.ADD);
        }

        private static float chains512() {
            VectorSpecies<Float> s = FloatVector.SPECIES_512;
            FloatVector m = FloatVector.broadcast(s, 0.999f), c = FloatVector.broadcast(s, 1e-3f);
            FloatVector a0 = FloatVector.broadcast(s, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
            FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
            for (int i = 0; i < FMA_ITERATIONS; i++) {
                a0 = a0.fma(m, c);
                a1 = a1.fma(m, c);
                a2 = a2.fma(m, c);
                a3 = a3.fma(m, c);
                a4 = a4.fma(m, c);
                a5 = a5.fma(m, c);
                a6 = a6.fma(m, c);
                a7 = a7.fma(m, c);
                a8 = a8.fma(m, c);
                a9 = a9.fma(m, c);
                a10 = a10.fma(m, c);
                a11 = a11.fma(m, c);
            }
            return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                    .reduceLanes(VectorOperators.ADD);
        }
    }
}
