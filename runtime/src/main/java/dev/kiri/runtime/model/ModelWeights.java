package dev.kiri.runtime.model;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufTensor;
import dev.kiri.kernels.Weights;
import dev.kiri.runtime.UnsupportedModelException;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Every tensor of a decoder, bound by name ({@code token_embd.weight}, {@code blk.N.attn_q.weight},
 * ...) and checked against the configuration's shapes. A missing or misshapen tensor is an
 * {@link UnsupportedModelException} naming it and the architecture that needs it.
 *
 * @param config      the configuration, with the vocabulary size from {@code token_embd}
 * @param tokenEmbd   {@code [vocab][dim]}, looked up one row per token
 * @param output      {@code [vocab][dim]}: {@code output.weight}, or {@code token_embd} when tied
 * @param outputNorm  final RMSNorm weight
 * @param ropeFactors per-pair frequency divisors ({@code rope_freqs.weight} or a longrope table), or null
 * @param layers      the decoder blocks
 */
public record ModelWeights(ModelConfig config, Weights tokenEmbd, Weights output, float[] outputNorm,
                           float[] ropeFactors, List<LayerWeights> layers) {

    /** Binds the tensors of {@code file} for {@code config}; {@code contextLength} selects longrope factors. */
    public static ModelWeights bind(GgufFile file, ModelConfig config, int contextLength) {
        Binder b = new Binder(file, config);
        GgufTensor embdTensor = b.require("token_embd.weight");
        if (embdTensor.rowLength() != config.dim()) {
            throw b.misshapen(embdTensor, "rows of " + config.dim());
        }
        if (!Dequant.supports(embdTensor.type())) {
            throw new UnsupportedModelException(b.source + ": token_embd.weight has type " + embdTensor.type().ggmlName()
                    + ", which cannot be looked up");
        }
        int vocab = Math.toIntExact(embdTensor.rows());
        ModelConfig c = config.withVocab(vocab);
        b = new Binder(file, c);
        Weights embd = Weights.of(embdTensor);
        Weights output = b.optionalMatrix("output.weight", vocab, c.dim());
        if (output == null) output = embd; // tied embeddings
        float[] outputNorm = b.vector("output_norm.weight", c.dim());

        float[] ropeFactors = null;
        int half = c.ropeDim() / 2;
        if (file.findTensor("rope_freqs.weight").isPresent()) {
            ropeFactors = b.vector("rope_freqs.weight", half);
        } else if (file.findTensor("rope_factors_short.weight").isPresent()) {
            int original = file.metadata().optInt(c.arch().name() + ".rope.scaling.original_context_length")
                    .orElse(c.contextLength());
            String which = contextLength > original ? "rope_factors_long.weight" : "rope_factors_short.weight";
            ropeFactors = b.vector(which, half);
        }

        Architecture a = c.arch();
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            Weights wq, wk, wv;
            if (a.fusedQkv()) {
                Weights qkv = b.matrix(p + "attn_qkv.weight", c.qDim() + 2 * c.kvDim(), c.dim());
                wq = qkv.rowSlice(p + "attn_qkv.weight[q]", 0, c.qDim());
                wk = qkv.rowSlice(p + "attn_qkv.weight[k]", c.qDim(), c.kvDim());
                wv = qkv.rowSlice(p + "attn_qkv.weight[v]", c.qDim() + c.kvDim(), c.kvDim());
            } else {
                wq = b.matrix(p + "attn_q.weight", c.qDim(), c.dim());
                wk = b.matrix(p + "attn_k.weight", c.kvDim(), c.dim());
                wv = b.matrix(p + "attn_v.weight", c.kvDim(), c.dim());
            }
            float[] bq = b.optionalVector(p + "attn_q.bias", c.qDim(), a.qkvBias());
            float[] bk = b.optionalVector(p + "attn_k.bias", c.kvDim(), a.qkvBias());
            float[] bv = b.optionalVector(p + "attn_v.bias", c.kvDim(), a.qkvBias());
            float[] qNorm = a.qkNorm() ? b.vector(p + "attn_q_norm.weight", c.headDim()) : null;
            float[] kNorm = a.qkNorm() ? b.vector(p + "attn_k_norm.weight", c.headDim()) : null;
            Weights wo = b.matrix(p + "attn_output.weight", c.dim(), c.qDim());
            Weights gate, up;
            if (a.fusedGateUp()) {
                Weights gu = b.matrix(p + "ffn_up.weight", 2 * c.ffnDim(), c.dim());
                gate = gu.rowSlice(p + "ffn_up.weight[gate]", 0, c.ffnDim());
                up = gu.rowSlice(p + "ffn_up.weight[up]", c.ffnDim(), c.ffnDim());
            } else {
                gate = b.matrix(p + "ffn_gate.weight", c.ffnDim(), c.dim());
                up = b.matrix(p + "ffn_up.weight", c.ffnDim(), c.dim());
            }
            Weights down = b.matrix(p + "ffn_down.weight", c.dim(), c.ffnDim());
            layers[i] = new LayerWeights(
                    a.preNorms() ? b.vector(p + "attn_norm.weight", c.dim()) : null,
                    wq, wk, wv, bq, bk, bv, qNorm, kNorm, wo,
                    a.postNorms() ? b.vector(p + "post_attention_norm.weight", c.dim()) : null,
                    a.preNorms() ? b.vector(p + "ffn_norm.weight", c.dim()) : null,
                    gate, up, down,
                    a.postNorms() ? b.vector(p + "post_ffw_norm.weight", c.dim()) : null);
        }
        return new ModelWeights(c, embd, output, outputNorm, ropeFactors, List.of(layers));
    }

    /**
     * These weights with every matrix of the products (the layers' and the output, not the
     * embedding table, which is looked up by row) replaced by {@code f}'s result.
     */
    public ModelWeights mapMatrices(UnaryOperator<Weights> f) {
        LayerWeights[] ls = new LayerWeights[layers.size()];
        for (int i = 0; i < ls.length; i++) {
            LayerWeights l = layers.get(i);
            ls[i] = new LayerWeights(l.attnNorm(), f.apply(l.wq()), f.apply(l.wk()), f.apply(l.wv()), l.bq(), l.bk(), l.bv(),
                    l.qNorm(), l.kNorm(), f.apply(l.wo()), l.postAttnNorm(), l.ffnNorm(), f.apply(l.wGate()), f.apply(l.wUp()),
                    f.apply(l.wDown()), l.postFfnNorm());
        }
        Weights out = f.apply(output);
        // Tied embeddings: the look-ups read the output matrix's copy too (Interleave.dequantizeRow).
        return new ModelWeights(config, output == tokenEmbd ? out : tokenEmbd, out, outputNorm, ropeFactors, List.of(ls));
    }

    /**
     * Bytes of weights one decode step reads: every layer matrix, the output matrix (their
     * interleaved copies where they have one), one embedding row.
     */
    public long bytesPerToken() {
        long n = read(output) + tokenEmbd.rowBytes();
        for (LayerWeights l : layers) {
            n += read(l.wq()) + read(l.wk()) + read(l.wv()) + read(l.wo()) + read(l.wGate()) + read(l.wUp()) + read(l.wDown());
        }
        return n;
    }

    private static long read(Weights w) {
        return w.interleaved() != null ? w.interleaved().byteSize() : w.byteSize();
    }

    /** Tensor look-up with errors naming the file, tensor and architecture. */
    private static final class Binder {
        final GgufFile file;
        final ModelConfig config;
        final String source;

        Binder(GgufFile file, ModelConfig config) {
            this.file = file;
            this.config = config;
            this.source = String.valueOf(file.path().getFileName());
        }

        GgufTensor require(String name) {
            return file.findTensor(name).orElseThrow(() -> new UnsupportedModelException(source + ": tensor " + name
                    + " is missing; architecture " + config.arch().name() + " needs it"));
        }

        UnsupportedModelException misshapen(GgufTensor t, String expected) {
            return new UnsupportedModelException(source + ": tensor " + t + " has the wrong shape for architecture "
                    + config.arch().name() + ": expected " + expected);
        }

        Weights matrix(String name, int rows, int cols) {
            return toMatrix(require(name), rows, cols);
        }

        Weights optionalMatrix(String name, int rows, int cols) {
            return file.findTensor(name).map(t -> toMatrix(t, rows, cols)).orElse(null);
        }

        private Weights toMatrix(GgufTensor t, int rows, int cols) {
            if (t.rowLength() != cols || t.rows() != rows) {
                throw misshapen(t, "[" + cols + ", " + rows + "] (ne0 = " + cols + ")");
            }
            if (!Dequant.supports(t.type()) || t.type() == GgmlType.Q8_K) {
                throw new UnsupportedModelException(source + ": tensor " + t + ": weight type " + t.type().ggmlName()
                        + " is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K,"
                        + " Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)");
            }
            try {
                return Weights.of(t);
            } catch (IllegalArgumentException e) {
                throw new UnsupportedModelException(source + ": tensor " + t + ": " + e.getMessage());
            }
        }

        float[] vector(String name, int length) {
            return toVector(require(name), length);
        }

        float[] optionalVector(String name, int length, boolean required) {
            if (required) return vector(name, length);
            return file.findTensor(name).map(t -> toVector(t, length)).orElse(null);
        }

        private float[] toVector(GgufTensor t, int length) {
            if (t.elementCount() != length) throw misshapen(t, length + " elements");
            if (!Dequant.supports(t.type())) {
                throw new UnsupportedModelException(source + ": tensor " + t + ": type " + t.type().ggmlName() + " is not supported");
            }
            return Dequant.tensor(t);
        }
    }
}
