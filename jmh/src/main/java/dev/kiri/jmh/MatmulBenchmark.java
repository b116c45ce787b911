package dev.kiri.jmh;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.ThreadPool;
import dev.kiri.kernels.Weights;
import dev.kiri.kernels.matmul.VectorMatmul;
import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * Prefill matrix products ({@link VectorMatmul#matmul}) of a batch of {@code batch} activation
 * rows with a {@code shape} (rows x cols) weight matrix, reported as {@code gigaflops} per second
 * (2·rows·cols·batch per call; compare with {@link BandwidthBenchmark#fmaPeak} in the same run).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class MatmulBenchmark {
    @Param({"F32", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String type;

    @Param({"2048x2048"})
    public String shape;

    @Param({"1", "8", "32", "128", "512"})
    public int batch;

    @Param({"2"})
    public int threads;

    private Arena arena;
    private ThreadPool pool;
    private VectorMatmul matmul;
    private Weights w;
    private float[] x;
    private float[] y;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double gigaflops;

        @Setup(Level.Iteration)
        public void reset() {
            gigaflops = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
        arena = Arena.ofShared();
        w = MatvecBenchmark.randomWeights(GgmlType.valueOf(type), rows, cols, new Random(42), arena);
        x = new float[batch * cols];
        Random r = new Random(7);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        y = new float[batch * rows];
        pool = new ThreadPool(threads);
        matmul = new VectorMatmul(pool);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        matmul.close();
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matmul(Flops counter) {
        if (batch == 1) {
            matmul.matvec(w, x, 0, y, 0);
        } else {
            matmul.matmul(w, x, y, batch);
        }
        counter.gigaflops += 2.0 * w.rows() * w.cols() * batch / 1e9;
        return y;
    }
}
