package dev.kiri.jmh;

import dev.kiri.kernels.ThreadPool;
import java.util.concurrent.TimeUnit;
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
 * The cost of one {@link ThreadPool#run} dispatch: an empty job (one index per thread), and a
 * tiny one (each index sums 256 floats), against the same work done inline on the caller.
 * Calls follow each other back to back, as the hundred-odd products of a token step do.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DispatchBenchmark {

    @Param({"2"})
    public int threads;

    private ThreadPool pool;
    private final float[] data = new float[4096];
    private final float[] sums = new float[64];
    private ThreadPool.Task empty;
    private ThreadPool.Task tiny;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new ThreadPool(threads);
        for (int i = 0; i < data.length; i++) data[i] = i * 0.001f;
        empty = i -> { };
        tiny = i -> {
            float s = 0;
            int off = i * 256;
            for (int j = 0; j < 256; j++) s += data[off + j];
            sums[i] = s;
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public void emptyJob() {
        pool.run(threads, empty);
    }

    @Benchmark
    public float tinyJob() {
        pool.run(threads, tiny);
        return sums[0];
    }

    /** Baseline: the tiny job's work on the caller alone, no dispatch. */
    @Benchmark
    public float tinyInline() {
        for (int i = 0; i < threads; i++) tiny.run(i);
        return sums[0];
    }
}
