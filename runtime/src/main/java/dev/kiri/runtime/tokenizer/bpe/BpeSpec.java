package dev.kiri.runtime.tokenizer.bpe;

/**
 * What a {@code tokenizer.ggml.pre} name means for a byte-level BPE vocabulary, as llama.cpp's
 * vocabulary loader defines it.
 *
 * @param pre           the name
 * @param preTokenizer  the regex split it selects
 * @param ignoreMerges  a pre-token that is itself a vocabulary entry is emitted whole, without
 *                      running the merges (llama.cpp's {@code ignore_merges}; Llama 3 family)
 * @param cleanSpaces   decoding removes the space before {@code ? ! . ,}, the spaces around a
 *                      lone apostrophe and the space before contractions such as {@code 's}
 *                      (llama.cpp's {@code clean_spaces})
 * @param addBosDefault BOS is added when the file has no {@code tokenizer.ggml.add_bos_token}
 */
public record BpeSpec(String pre, PreTokenizer preTokenizer, boolean ignoreMerges, boolean cleanSpaces,
                      boolean addBosDefault) {

    /**
     * The settings for a {@code tokenizer.ggml.pre} value.
     *
     * @throws IllegalArgumentException naming {@code pre} and listing the known names when it is
     *                                  not one of them
     */
    public static BpeSpec forPre(String pre) {
        PreTokenizerKind.Entry e = PreTokenizerKind.entry(pre);
        return new BpeSpec(pre, e.kind().preTokenizer(pre), e.ignoreMerges(), e.cleanSpaces(), e.addBos());
    }

    /** Every name {@link #forPre} accepts, in no particular order. */
    public static java.util.Set<String> knownNames() {
        return PreTokenizerKind.names().keySet();
    }
}
