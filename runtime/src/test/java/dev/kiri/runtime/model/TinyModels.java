package dev.kiri.runtime.model;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufTensor;
import dev.kiri.gguf.GgufValue;
import dev.kiri.gguf.GgufWriter;
import dev.kiri.kernels.Kernels;
import dev.kiri.kernels.KvCache;
import dev.kiri.kernels.matmul.Interleave;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;

/** Runs the tiny fixture models through the decoder, batched and token by token. */
public final class TinyModels {
    private TinyModels() {
    }

    /** Logits {@code [n][vocab]} of the whole sequence in one forward pass. */
    static float[] batch(Path model, int[] tokens, Kernels kernels, KvCache.Type kv) throws IOException {
        return batch(model, tokens, kernels, kv, false);
    }

    /** As above, with the Q4_0, Q4_K and Q6_K matrices copied ({@link Interleave}) when {@code interleave} (as a CPU model load does). */
    static float[] batch(Path model, int[] tokens, Kernels kernels, KvCache.Type kv, boolean interleave) throws IOException {
        try (GgufFile f = GgufFile.open(model); Arena arena = Arena.ofShared()) {
            Decoder d = decoder(f, kernels, interleave ? arena : null);
            State s = new State(d.config(), d.config().contextLength(), tokens.length, kv);
            float[] out = new float[tokens.length * d.config().vocab()];
            d.forward(s, tokens, 0, tokens.length, out);
            return out;
        }
    }

    /** Logits {@code [n][vocab]}, feeding one token per forward pass through the KV cache. */
    static float[] incremental(Path model, int[] tokens, Kernels kernels, KvCache.Type kv) throws IOException {
        return incremental(model, tokens, kernels, kv, false);
    }

    /** As above, with the Q4_0 matrices {@link Interleave}d when {@code interleave}. */
    static float[] incremental(Path model, int[] tokens, Kernels kernels, KvCache.Type kv, boolean interleave) throws IOException {
        try (GgufFile f = GgufFile.open(model); Arena arena = Arena.ofShared()) {
            Decoder d = decoder(f, kernels, interleave ? arena : null);
            int vocab = d.config().vocab();
            State s = new State(d.config(), d.config().contextLength(), 1, kv);
            float[] out = new float[tokens.length * vocab];
            for (int i = 0; i < tokens.length; i++) {
                d.forward(s, tokens, i, 1, null);
                System.arraycopy(s.logits(), 0, out, i * vocab, vocab);
            }
            return out;
        }
    }

    static Decoder decoder(GgufFile f, Kernels kernels) {
        return decoder(f, kernels, null);
    }

    /** The decoder of {@code f}; with an arena, its Q4_0, Q4_K, Q5_K and Q6_K matrices copied into it ({@link Interleave}). */
    static Decoder decoder(GgufFile f, Kernels kernels, Arena interleaveInto) {
        ModelConfig c = ModelConfig.fromMetadata(f.metadata(), f.path().getFileName().toString());
        ModelWeights w = ModelWeights.bind(f, c, c.contextLength());
        if (interleaveInto != null) w = w.mapMatrices(m -> Interleave.interleave(m, interleaveInto));
        return new Decoder(w, kernels, c.contextLength());
    }

    /**
     * The F32 twin of an F16 fixture: every F16 tensor widened to F32, metadata unchanged but for
     * {@code general.file_type} (the fixtures README: bit-for-bit llama.cpp's own widening).
     */
    public static Path widenToF32(Path f16Model, Path dir) throws IOException {
        Path out = dir.resolve(f16Model.getFileName().toString().replace("-F16", "-F32"));
        try (GgufFile f = GgufFile.open(f16Model)) {
            GgufWriter w = new GgufWriter();
            f.metadata().asMap().forEach((k, v) -> {
                if (k.equals("general.file_type")) w.put(k, GgufValue.ofUInt32(0));
                else if (!k.equals("general.quantization_version")) w.put(k, v);
            });
            for (GgufTensor t : f.tensors()) {
                if (t.type() == GgmlType.F16) w.addTensor(t.name(), GgmlType.F32, t.shape(), Dequant.tensor(t));
                else w.addTensor(t.name(), t.type(), t.shape(), t.data());
            }
            w.write(out);
        }
        return out;
    }
}
