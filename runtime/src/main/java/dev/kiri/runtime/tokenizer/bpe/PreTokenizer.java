package dev.kiri.runtime.tokenizer.bpe;

import java.util.List;

/**
 * Splits text into the pieces ("words") that byte-level BPE then encodes one by one, the way
 * llama.cpp does for the pre-tokenizer named by {@code tokenizer.ggml.pre}.
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface PreTokenizer {

    /**
     * Splits {@code text}. The pieces are non-empty, in order, and their concatenation is exactly
     * {@code text} (lone surrogates included, each as its own code point).
     */
    List<String> split(String text);

    /** The pre-tokenizer name as written in {@code tokenizer.ggml.pre}. */
    String name();

    /**
     * The pre-tokenizer for a {@code tokenizer.ggml.pre} value.
     *
     * @throws IllegalArgumentException naming {@code pre} and listing the known names when it is
     *                                  not one of them
     */
    static PreTokenizer forName(String pre) {
        return PreTokenizerKind.forName(pre).preTokenizer(pre);
    }
}
