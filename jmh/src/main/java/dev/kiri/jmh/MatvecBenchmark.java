package dev.kiri.jmh;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.ThreadPool;
import dev.kiri.kernels.Weights;
import dev.kiri.kernels.matmul.Interleave;
import dev.kiri.kernels.matmul.VectorMatmul;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
 * Decode matrix-vector products ({@link VectorMatmul#matvec}) of Llama-3.2-1B's shapes, reported
 * as {@code gigabytes} of weights streamed per second (compare with
 * {@link BandwidthBenchmark#read} in the same run). {@code shape} is rows x cols: 2048x2048
 * (attention), 8192x2048 (FFN up/gate), 2048x8192 (FFN down), 128256x2048 (vocabulary).
 *
 * <p>A real model's weights do not fit in the caches, so each call takes the next of enough
 * copies of the matrix to fill {@code footprintMiB} (default 1 GiB, twice this machine's L3);
 * {@code footprintMiB=0} keeps one copy and measures the cache-resident compute rate. Weights are
 * random blocks with valid scales. {@code interleaved=true} gives each copy the kernels' copy a CPU
 * model load makes ({@link Interleave}: Q4_0, Q4_K, Q6_K; other types are unchanged) and counts the
 * bytes of that copy, which is what the product reads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class MatvecBenchmark {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
            "IQ4_NL", "IQ4_XS"})
    public String type;

    @Param({"2048x2048", "8192x2048", "2048x8192", "128256x2048"})
    public String shape;

    @Param({"2"})
    public int threads;

    @Param({"1024"})
    public int footprintMiB;

    @Param({"false"})
    public boolean interleaved;

    private Arena arena;
    private ThreadPool pool;
    private VectorMatmul matmul;
    private Weights[] copies;
    private int next;
    private float[] x;
    private float[] y;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Bytes {
        public double gigabytes;

        @Setup(Level.Iteration)
        public void reset() {
            gigabytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        Weights w = randomWeights(t, rows, cols, new Random(42), arena);
        long count = Math.max(1, ((long) footprintMiB << 20) / w.byteSize());
        copies = new Weights[(int) count];
        copies[0] = w;
        for (int i = 1; i < count; i++) {
            MemorySegment s = arena.allocate(w.byteSize(), 64);
            s.copyFrom(w.data());
            copies[i] = new Weights(w.name(), t, s, rows, cols);
        }
        if (interleaved) {
            for (int i = 0; i < count; i++) copies[i] = Interleave.interleave(copies[i], arena);
        }
        x = new float[cols];
        Random r = new Random(7);
        for (int i = 0; i < cols; i++) x[i] = (float) r.nextGaussian();
        y = new float[rows];
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
    public float[] matvec(Bytes counter) {
        Weights w = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        matmul.matvec(w, x, 0, y, 0);
        counter.gigabytes += (w.interleaved() != null ? w.interleaved().byteSize() : w.byteSize()) / 1e9;
        return y;
    }

    /**
     * A matrix of random blocks: random bytes for quantized values and packed scales, small finite
     * halves for the F16 scale fields, Gaussian values for the float types.
     */
    static Weights randomWeights(GgmlType t, int rows, int cols, Random rnd, Arena arena) {
        ValueLayout.OfShort i16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        long size = t.byteSize((long) rows * cols);
        MemorySegment seg = arena.allocate(size, 64);
        byte[] chunk = new byte[1 << 20];
        for (long o = 0; o < size; o += chunk.length) {
            rnd.nextBytes(chunk);
            MemorySegment.copy(MemorySegment.ofArray(chunk), 0, seg, o, Math.min(chunk.length, size - o));
        }
        long blocks = (long) rows * cols / t.blockSize();
        for (long b = 0; b < blocks; b++) {
            long o = b * t.bytesPerBlock();
            switch (t) {
                case F32 -> seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), o, (float) rnd.nextGaussian());
                case F16 -> seg.set(i16, o, Float.floatToFloat16((float) rnd.nextGaussian()));
                case BF16 -> seg.set(i16, o, (short) (Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16));
                case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> seg.set(i16, o, half(rnd));
                case Q4_1, Q5_1, Q4_K, Q5_K -> {
                    seg.set(i16, o, half(rnd));
                    seg.set(i16, o + 2, half(rnd));
                }
                case Q2_K -> {
                    seg.set(i16, o + 80, half(rnd));
                    seg.set(i16, o + 82, half(rnd));
                }
                case Q3_K -> seg.set(i16, o + 108, half(rnd));
                case Q6_K -> seg.set(i16, o + 208, half(rnd));
                default -> throw new IllegalArgumentException("no random blocks for " + t);
            }
        }
        return new Weights("random." + t.ggmlName(), t, seg, rows, cols);
    }

    private static short half(Random rnd) {
        return Float.floatToFloat16((float) (rnd.nextGaussian() * 0.01));
    }
}
