package dev.kiri.jmh;

import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.Quantize;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reference quantization speed on one thread: a 256 x 2048 F32 matrix (524,288 elements of
 * N(0, 0.02²), like a weight) quantized row by row. Elements per second = 524,288 / (time per op).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class QuantizeBenchmark {
    private static final int ROWS = 256;
    private static final int COLS = 2048;

    @Param({"Q4_K", "Q6_K", "Q8_0", "Q4_0", "F16"})
    public String type;

    private GgmlType t;
    private float[] x;
    private byte[] out;
    private int rowBytes;

    @Setup
    public void setUp() {
        t = GgmlType.valueOf(type);
        Random r = new Random(1);
        x = new float[ROWS * COLS];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 0.02f;
        rowBytes = (int) t.byteSize(COLS);
        out = new byte[rowBytes * ROWS];
    }

    @Benchmark
    public byte[] quantizeMatrix() {
        for (int row = 0; row < ROWS; row++) Quantize.row(t, x, row * COLS, out, row * rowBytes, COLS);
        return out;
    }
}
