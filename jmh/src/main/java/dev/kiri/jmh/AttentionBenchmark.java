package dev.kiri.jmh;

import dev.kiri.kernels.Kernels;
import dev.kiri.kernels.KvCache;
import dev.kiri.kernels.ScalarKernels;
import dev.kiri.kernels.VectorKernels;
import java.util.Random;
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
 * Attention of one layer of Llama-3.2-1B's shape (32 query heads, 8 KV heads, head dimension 64)
 * over a filled KV cache: {@code decode} is one new token at the last position, {@code prefill}
 * a batch of 32 new tokens ending there. A decode call reads {@code 2 · 8 · context · 64} keys and
 * values (F16: 2 bytes each, F32: 4), e.g. 1 MiB for F16 at context 512.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBenchmark {
    private static final int HEADS = 32;
    private static final int KV_HEADS = 8;
    private static final int HEAD_DIM = 64;
    private static final int BATCH = 32;

    @Param({"512", "4096"})
    public int context;

    @Param({"F16", "F32"})
    public String kv;

    /** "scalar", or "vector" with {@link #threads} threads. */
    @Param({"vector"})
    public String impl;

    @Param({"2"})
    public int threads;

    private Kernels kernels;
    private KvCache cache;
    private float[] q;
    private float[] out;

    @Setup(Level.Trial)
    public void setUp() {
        kernels = impl.equals("scalar") ? new ScalarKernels() : new VectorKernels(threads);
        cache = new KvCache(1, KV_HEADS, HEAD_DIM, context, KvCache.Type.valueOf(kv));
        Random r = new Random(42);
        float[] k = new float[KV_HEADS * HEAD_DIM];
        float[] v = new float[KV_HEADS * HEAD_DIM];
        for (int p = 0; p < context; p++) {
            for (int i = 0; i < k.length; i++) {
                k[i] = (float) r.nextGaussian();
                v[i] = (float) r.nextGaussian();
            }
            cache.store(0, p, k, 0, v, 0);
        }
        q = new float[BATCH * HEADS * HEAD_DIM];
        for (int i = 0; i < q.length; i++) q[i] = (float) r.nextGaussian();
        out = new float[q.length];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
    }

    @Benchmark
    public float decode() {
        kernels.attention(q, out, 1, HEADS, cache, 0, context - 1, 0, 0.125f, 0f);
        return out[0];
    }

    @Benchmark
    public float prefill() {
        kernels.attention(q, out, BATCH, HEADS, cache, 0, context - BATCH, 0, 0.125f, 0f);
        return out[0];
    }
}
