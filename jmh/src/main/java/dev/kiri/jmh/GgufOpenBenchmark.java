package dev.kiri.jmh;

import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufValueType;
import dev.kiri.gguf.GgufWriter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * {@code GgufFile.open} + {@code close} of a generated model: 16 layers of 7 weight tensors plus an
 * embedding, Q8_0, with {@link #dataMiB} MiB of tensor data in total and a tokenizer vocabulary of
 * {@link #vocab} tokens in the header. Opening maps the file and parses the header only, so the
 * time should follow the vocabulary (header size), not the data size.
 *
 * <p>The file is written once per trial into a temporary directory (real bytes, not a sparse file)
 * and deleted afterwards.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GgufOpenBenchmark {
    private static final int LAYERS = 16;
    private static final int TENSORS_PER_LAYER = 7;

    /** Total tensor data; 1024 is the 1 GiB model. */
    @Param({"16", "1024"})
    public int dataMiB;

    /** Tokens in tokenizer.ggml.tokens / scores / token_type (128256: Llama 3's vocabulary size). */
    @Param({"0", "128256"})
    public int vocab;

    private Path dir;
    private Path file;

    @Setup(Level.Trial)
    public void generate() throws IOException {
        dir = Files.createTempDirectory("kiri-gguf-open");
        file = dir.resolve("model.gguf");
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putString("general.name", "synthetic");
        w.putUInt32("llama.block_count", LAYERS);
        w.putUInt32("llama.embedding_length", 2048);
        w.putFloat32("llama.rope.freq_base", 500000f);
        w.putString("tokenizer.ggml.model", "gpt2");
        String[] tokens = new String[vocab];
        float[] scores = new float[vocab];
        int[] types = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            tokens[i] = "tok" + Integer.toString(i, 36) + "ĠĊ";
            scores[i] = -i;
            types[i] = 1;
        }
        w.putArray("tokenizer.ggml.tokens", new GgufArray(GgufValueType.STRING, tokens));
        w.putArray("tokenizer.ggml.scores", new GgufArray(GgufValueType.FLOAT32, scores));
        w.putArray("tokenizer.ggml.token_type", new GgufArray(GgufValueType.INT32, types));

        // Equal Q8_0 tensors of 2048-element rows that add up to dataMiB.
        int tensors = LAYERS * TENSORS_PER_LAYER + 1;
        long rowBytes = GgmlType.Q8_0.byteSize(2048);
        long rows = Math.max(1, ((long) dataMiB << 20) / tensors / rowBytes);
        byte[] chunk = new byte[(int) rowBytes * 64];
        new Random(1).nextBytes(chunk);
        for (int i = 0; i < chunk.length; i += 34) chunk[i + 1] = 0x20; // keep the fp16 scales finite
        GgufWriter.TensorData data = out -> {
            long left = rows * rowBytes;
            while (left > 0) {
                int n = (int) Math.min(chunk.length, left);
                out.write(chunk, 0, n);
                left -= n;
            }
        };
        w.addTensor("token_embd.weight", GgmlType.Q8_0, new long[]{2048, rows}, data);
        String[] names = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
        for (int l = 0; l < LAYERS; l++) {
            for (String n : names) w.addTensor("blk." + l + "." + n + ".weight", GgmlType.Q8_0, new long[]{2048, rows}, data);
        }
        w.write(file);
        // Flush the new file to disk now, so that write-back does not run during the measurement.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        System.out.printf("%n[generated %s: %,d bytes, %d tensors, vocab %d]%n", file, Files.size(file), tensors, vocab);
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public int openAndClose() throws IOException {
        try (GgufFile f = GgufFile.open(file)) {
            return f.tensors().size() + f.metadata().keys().size();
        }
    }
}
