package dev.kiri.runtime.tokenizer;

/**
 * Text to token ids and back, built from a model's GGUF tokenizer metadata.
 *
 * <p>Implementations are immutable after construction and safe to use from several threads at
 * once; per-call scratch state lives in the call.
 */
public interface Tokenizer {

    /** Number of tokens in the vocabulary. */
    int vocabularySize();

    /**
     * Encodes text.
     *
     * @param text         any Java string; lone surrogates are replaced by U+FFFD, never an error
     * @param addSpecial   add BOS/EOS as the model's metadata asks ({@code add_bos_token},
     *                     {@code add_eos_token} and the tokenizer type's defaults)
     * @param parseSpecial recognise control tokens such as {@code <|im_start|>} written in the
     *                     text; off for user text (tokens the vocabulary marks user-defined are
     *                     matched either way, as llama.cpp does)
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * The bytes token {@code id} contributes to decoded text: the UTF-8 of its piece with the
     * tokenizer's markers undone ({@code ▁} to a space, byte-level BPE code points to bytes,
     * {@code <0xXX>} to the byte). Control tokens give their text when {@code special} is true and
     * nothing otherwise. Never null.
     *
     * @throws IllegalArgumentException naming the id when it is outside the vocabulary
     */
    byte[] tokenBytes(int id, boolean special);

    /**
     * Decodes a whole sequence to text the way llama.cpp's {@code llama_detokenize} does (leading
     * space of the first SentencePiece piece removed, the vocabulary's space clean-up applied),
     * with invalid UTF-8 replaced by U+FFFD.
     */
    String decode(int[] ids, boolean special);

    /** The token's piece as stored in the vocabulary (for display, e.g. {@code kiri tokenize --pieces}). */
    String piece(int id);

    /** Beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bos();

    /** True for every id that ends a generation: EOS, EOT and the vocabulary's other end tokens. */
    boolean isEndOfGeneration(int id);

    /**
     * True when {@link #decode} drops one leading space of the first piece (the SentencePiece
     * space prefix, {@code add_space_prefix}); {@link StreamingDecoder#forText} does the same.
     */
    default boolean stripsLeadingSpace() {
        return false;
    }

    /**
     * True when {@link #decode} removes spaces before {@code ? ! . ,} and in some apostrophe
     * forms, as llama.cpp's {@code clean_spaces} does for most byte-level BPE vocabularies.
     */
    default boolean cleansSpaces() {
        return false;
    }
}
