package dev.kiri.runtime.synth;

import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufValue;
import dev.kiri.gguf.GgufValueType;
import dev.kiri.gguf.GgufWriter;
import dev.kiri.gguf.Quantize;
import dev.kiri.kernels.RopeTable;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Writes a GGUF model with a real model's shape and random weights: matrices N(0, 0.02²) quantized
 * with {@link Quantize} into the types a {@link QuantMix} picks, norm weights 1, biases small. The
 * file is filled in place, rows spread over threads; the same seed gives the same file.
 */
public final class SyntheticModel {
    private SyntheticModel() {
    }

    private record Tensor(String name, long[] shape, GgmlType type, int layer, float std, float mean) {
        long rows() {
            long n = 1;
            for (int i = 1; i < shape.length; i++) n *= shape[i];
            return n;
        }
    }

    /**
     * @param vocabFrom a GGUF whose {@code tokenizer.*} keys to copy (its token count sets the vocabulary
     *                  size), or null for a plain byte-level SentencePiece-style vocabulary of the shape's size
     * @param progress  receives the bytes written so far (from any thread)
     * @return the file size
     */
    public static long write(ModelShape shape, QuantMix mix, Path vocabFrom, Path out, int threads, long seed,
                             LongConsumer progress) throws IOException, InterruptedException {
        GgufWriter w = new GgufWriter();
        String a = shape.arch() + ".";
        w.putString("general.architecture", shape.arch());
        w.putString("general.name", "synthetic " + shape.id() + " " + mix.name());
        w.putUInt32("general.file_type", mix.fileType());
        w.putUInt32("general.quantization_version", 2);
        if (vocabFrom != null) {
            try (GgufFile v = GgufFile.open(vocabFrom)) {
                for (Map.Entry<String, GgufValue> e : v.metadata().asMap().entrySet()) {
                    if (e.getKey().startsWith("tokenizer.")) w.put(e.getKey(), e.getValue());
                }
                shape = shape.withVocab(v.metadata().getStringArray("tokenizer.ggml.tokens").length);
            }
        } else {
            byteVocab(w, shape.vocab());
        }
        w.putUInt32(a + "block_count", shape.layers());
        w.putUInt32(a + "context_length", shape.context());
        w.putUInt32(a + "embedding_length", shape.dim());
        w.putUInt32(a + "feed_forward_length", shape.ffnDim());
        w.putUInt32(a + "attention.head_count", shape.heads());
        w.putUInt32(a + "attention.head_count_kv", shape.kvHeads());
        w.putUInt32(a + "attention.key_length", shape.headDim());
        w.putUInt32(a + "attention.value_length", shape.headDim());
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", shape.eps());
        w.putFloat32(a + "rope.freq_base", shape.ropeBase());
        w.putUInt32(a + "rope.dimension_count", shape.headDim());
        w.putUInt32(a + "vocab_size", shape.vocab());

        List<Tensor> tensors = new ArrayList<>();
        int d = shape.dim();
        int q = shape.heads() * shape.headDim();
        int kv = shape.kvHeads() * shape.headDim();
        int n = shape.layers();
        int gqa = shape.heads() / shape.kvHeads();
        // Tied embeddings (both shapes): token_embd is also the output matrix.
        tensors.add(new Tensor("token_embd.weight", new long[] {d, shape.vocab()},
                mix.typeOf("token_embd.weight", d, -1, n, gqa, true), -1, 0.02f, 0f));
        tensors.add(new Tensor("output_norm.weight", new long[] {d}, GgmlType.F32, -1, 0f, 1f));
        if (shape.llama3Rope()) tensors.add(new Tensor("rope_freqs.weight", new long[] {shape.headDim() / 2}, GgmlType.F32, -1, 0f, 0f));
        for (int i = 0; i < n; i++) {
            String p = "blk." + i + ".";
            tensors.add(new Tensor(p + "attn_norm.weight", new long[] {d}, GgmlType.F32, i, 0f, 1f));
            tensors.add(matrix(mix, p + "attn_q.weight", d, q, i, n, gqa));
            tensors.add(matrix(mix, p + "attn_k.weight", d, kv, i, n, gqa));
            tensors.add(matrix(mix, p + "attn_v.weight", d, kv, i, n, gqa));
            if (shape.qkvBias()) {
                tensors.add(new Tensor(p + "attn_q.bias", new long[] {q}, GgmlType.F32, i, 0.02f, 0f));
                tensors.add(new Tensor(p + "attn_k.bias", new long[] {kv}, GgmlType.F32, i, 0.02f, 0f));
                tensors.add(new Tensor(p + "attn_v.bias", new long[] {kv}, GgmlType.F32, i, 0.02f, 0f));
            }
            tensors.add(matrix(mix, p + "attn_output.weight", q, d, i, n, gqa));
            tensors.add(new Tensor(p + "ffn_norm.weight", new long[] {d}, GgmlType.F32, i, 0f, 1f));
            tensors.add(matrix(mix, p + "ffn_gate.weight", d, shape.ffnDim(), i, n, gqa));
            tensors.add(matrix(mix, p + "ffn_up.weight", d, shape.ffnDim(), i, n, gqa));
            tensors.add(matrix(mix, p + "ffn_down.weight", shape.ffnDim(), d, i, n, gqa));
        }
        for (Tensor t : tensors) {
            w.addTensor(t.name, t.type, t.shape, o -> {
                throw new IOException("filled in place");
            });
        }
        long size = w.fileSize();
        // Llama 3.2's frequency factors (factor 32, low 1, high 4, original context 8192).
        float[] ropeFreqs = shape.llama3Rope()
                ? RopeTable.llama3FreqFactors(shape.headDim(), shape.ropeBase(), 32f, 1f, 4f, 8192) : null;

        AtomicLong done = new AtomicLong();
        try (GgufWriter.MappedOutput mapped = w.writeMapped(out)) {
            for (Tensor t : tensors) {
                MemorySegment seg = mapped.tensor(t.name);
                if (t.name.equals("rope_freqs.weight")) {
                    for (int i = 0; i < ropeFreqs.length; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, ropeFreqs[i]);
                    continue;
                }
                fill(t, seg, threads, seed ^ t.name.hashCode() * 0x9E3779B97F4A7C15L, done, progress);
            }
        }
        return size;
    }

    private static Tensor matrix(QuantMix mix, String name, int cols, int rows, int layer, int layers, int gqa) {
        return new Tensor(name, new long[] {cols, rows}, mix.typeOf(name, cols, layer, layers, gqa, false), layer, 0.02f, 0f);
    }

    /** Random rows quantized in place, rows split over threads. */
    private static void fill(Tensor t, MemorySegment seg, int threads, long seed, AtomicLong done, LongConsumer progress)
            throws InterruptedException {
        int cols = (int) t.shape[0];
        long rows = t.rows();
        long rowBytes = t.type.byteSize(cols);
        AtomicInteger next = new AtomicInteger();
        int chunk = 64;
        Thread[] ts = new Thread[Math.max(1, threads)];
        Throwable[] failure = new Throwable[1];
        for (int k = 0; k < ts.length; k++) {
            ts[k] = new Thread(() -> {
                float[] row = new float[cols];
                try {
                    for (long r0; (r0 = (long) next.getAndIncrement() * chunk) < rows; ) {
                        long r1 = Math.min(rows, r0 + chunk);
                        for (long r = r0; r < r1; r++) {
                            long s = seed + r * 0xD1B54A32D192ED03L;
                            for (int c = 0; c < cols; c++) {
                                s += 0x9E3779B97F4A7C15L;
                                row[c] = t.mean + t.std * normal(s);
                            }
                            Quantize.row(t.type, row, 0, seg, r * rowBytes, cols);
                        }
                        progress.accept(done.addAndGet((r1 - r0) * rowBytes));
                    }
                } catch (Throwable e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
            });
            ts[k].start();
        }
        for (Thread th : ts) th.join();
        if (failure[0] != null) throw new IllegalStateException("writing " + t.name + ": " + failure[0], failure[0]);
    }

    /** An approximately standard normal value from a counter (sum of four uniforms, variance-corrected). */
    private static float normal(long counter) {
        long z = counter;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        // Four 16-bit uniforms: their sum has mean 2 and variance 4/12.
        float sum = ((z & 0xFFFF) + ((z >>> 16) & 0xFFFF) + ((z >>> 32) & 0xFFFF) + (z >>> 48)) / 65536f;
        return (sum - 2f) * 1.7320508f;
    }

    /** A SentencePiece-style vocabulary: unk, BOS, EOS, 256 byte tokens, then filler pieces. */
    private static void byteVocab(GgufWriter w, int size) {
        String[] tokens = new String[size];
        float[] scores = new float[size];
        int[] types = new int[size];
        tokens[0] = "<unk>";
        types[0] = 2;
        tokens[1] = "<s>";
        types[1] = 3;
        tokens[2] = "</s>";
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = 6;
        }
        for (int i = 259; i < size; i++) {
            tokens[i] = "\u2581t" + i;
            scores[i] = -i;
            types[i] = 1;
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.putArray("tokenizer.ggml.tokens", new GgufArray(GgufValueType.STRING, tokens));
        w.putArray("tokenizer.ggml.scores", new GgufArray(GgufValueType.FLOAT32, scores));
        w.putArray("tokenizer.ggml.token_type", new GgufArray(GgufValueType.INT32, types));
        w.putUInt32("tokenizer.ggml.bos_token_id", 1);
        w.putUInt32("tokenizer.ggml.eos_token_id", 2);
        w.putUInt32("tokenizer.ggml.unknown_token_id", 0);
        w.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(true));
    }
}
