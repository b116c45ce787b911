package dev.kiri.runtime.tokenizer;

import java.util.List;

import dev.kiri.runtime.tokenizer.bpe.BpeEncoder;
import dev.kiri.runtime.tokenizer.bpe.BpeSpec;
import dev.kiri.runtime.tokenizer.bpe.ByteLevel;
import dev.kiri.runtime.tokenizer.bpe.PreTokenizer;

/**
 * Byte-level BPE tokenizer ({@code tokenizer.ggml.model = gpt2}) as llama.cpp runs it: after
 * special tokens are split off, the pre-tokenizer named by {@code tokenizer.ggml.pre} cuts the text
 * into words, and each word's UTF-8 bytes are merged by rank ({@link BpeEncoder}). Decoding maps
 * the byte-level characters of normal tokens back to bytes ({@link ByteLevel}).
 */
public final class BpeTokenizer extends VocabTokenizer {
    private final PreTokenizer preTokenizer;
    private final BpeEncoder encoder;

    /**
     * A tokenizer over a {@code gpt2} vocabulary.
     *
     * @param vocab the vocabulary; it must have {@code tokenizer.ggml.merges}
     * @param spec  what its {@code tokenizer.ggml.pre} selects
     * @throws IllegalArgumentException naming the file and key when the merges are missing or malformed
     */
    public BpeTokenizer(Vocabulary vocab, BpeSpec spec) {
        super(vocab);
        String[] merges = vocab.merges();
        if (merges == null) {
            throw new IllegalArgumentException(vocab.source() + ": metadata key " + Vocabulary.KEY_MERGES
                    + " is missing: a gpt2 (BPE) vocabulary needs its merges");
        }
        try {
            this.encoder = new BpeEncoder(vocab.tokens(), merges, spec.ignoreMerges());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(vocab.source() + ": " + e.getMessage(), e);
        }
        this.preTokenizer = spec.preTokenizer();
    }

    @Override
    byte[] normalPiece(String text) {
        return ByteLevel.decode(text);
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        List<String> words = preTokenizer.split(text);
        for (int i = 0, n = words.size(); i < n; i++) encoder.encode(words.get(i), out);
    }
}
