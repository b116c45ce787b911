package dev.kiri.runtime.tokenizer;

import dev.kiri.gguf.GgufMetadata;
import dev.kiri.runtime.tokenizer.bpe.BpeSpec;

/** Builds the tokenizer a GGUF file describes. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** The {@code tokenizer.ggml.model} values this runtime can tokenize. */
    public static final String SUPPORTED = "llama (SentencePiece), gpt2 (byte-level BPE)";

    /**
     * The tokenizer of a model, chosen by {@code tokenizer.ggml.model}: {@code llama} is
     * SentencePiece ({@link SpmTokenizer}), {@code gpt2} byte-level BPE with the pre-tokenizer
     * named by {@code tokenizer.ggml.pre}.
     *
     * @param md     the GGUF metadata
     * @param source the file name, for error messages
     * @throws IllegalArgumentException naming the source and key when the tokenizer type is
     *                                  missing or not supported, or the vocabulary is inconsistent
     */
    public static Tokenizer load(GgufMetadata md, String source) {
        if (!md.contains(Vocabulary.KEY_MODEL)) {
            throw new IllegalArgumentException(source + ": metadata key " + Vocabulary.KEY_MODEL
                    + " is missing: the file has no tokenizer (supported: " + SUPPORTED + ")");
        }
        String model = md.getString(Vocabulary.KEY_MODEL);
        return switch (model) {
            case "llama" -> new SpmTokenizer(Vocabulary.load(md, source, Vocabulary.Defaults.SPM));
            case "gpt2" -> bpe(md, source);
            default -> throw new IllegalArgumentException(source + ": metadata " + Vocabulary.KEY_MODEL + " = '" + model
                    + "' is not a supported tokenizer type (supported: " + SUPPORTED + ")");
        };
    }

    private static Tokenizer bpe(GgufMetadata md, String source) {
        // llama.cpp uses the GPT-2 pre-tokenizer when the key is absent (and warns)
        String pre = md.optString(Vocabulary.KEY_PRE).filter(p -> !p.isEmpty()).orElse("default");
        BpeSpec spec;
        try {
            spec = BpeSpec.forPre(pre);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": metadata " + Vocabulary.KEY_PRE + ": " + e.getMessage(), e);
        }
        Vocabulary v = Vocabulary.load(md, source,
                Vocabulary.Defaults.bpe(spec.addBosDefault(), spec.cleanSpaces(), spec.ignoreMerges()));
        return new BpeTokenizer(v, spec);
    }
}
