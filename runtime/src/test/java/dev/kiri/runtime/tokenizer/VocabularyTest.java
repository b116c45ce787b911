package dev.kiri.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.gguf.GgufValue;
import dev.kiri.gguf.GgufValueType;
import org.junit.jupiter.api.Test;

class VocabularyTest {

    /** A small SentencePiece vocabulary: unk, bos, eos, byte tokens for a few bytes, some pieces. */
    static Map<String, GgufValue> spm(String... extra) {
        String[] base = {"<unk>", "<s>", "</s>", "<0x0A>", "<0xE3>", "<0x81>", "<0x82>", "▁", "a", "b", "▁a", "ab", "▁ab"};
        String[] tokens = new String[base.length + extra.length];
        System.arraycopy(base, 0, tokens, 0, base.length);
        System.arraycopy(extra, 0, tokens, base.length, extra.length);
        float[] scores = new float[tokens.length];
        int[] types = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            scores[i] = -i;
            types[i] = tokens[i].startsWith("<0x") ? 6 : 1;
        }
        types[0] = 2;
        types[1] = 3;
        types[2] = 3;
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.ofString("llama"));
        m.put("tokenizer.ggml.tokens", GgufValue.ofArray(new GgufArray(GgufValueType.STRING, tokens)));
        m.put("tokenizer.ggml.scores", GgufValue.ofArray(new GgufArray(GgufValueType.FLOAT32, scores)));
        m.put("tokenizer.ggml.token_type", GgufValue.ofArray(new GgufArray(GgufValueType.INT32, types)));
        return m;
    }

    static GgufMetadata md(Map<String, GgufValue> m) {
        return new GgufMetadata("test.gguf", m);
    }

    @Test
    void sentencePieceDefaultsApplyWhenKeysAreAbsent() {
        Vocabulary v = Vocabulary.load(md(spm()), "test.gguf", Vocabulary.Defaults.SPM);
        assertEquals(1, v.bos());
        assertEquals(2, v.eos());
        assertEquals(0, v.unk());
        assertEquals(-1, v.pad());
        assertTrue(v.addBos());
        assertFalse(v.addEos());
        assertTrue(v.addSpacePrefix());
        assertTrue(v.isEndOfGeneration(2));
        assertFalse(v.isEndOfGeneration(1));
    }

    @Test
    void metadataOverridesDefaults() {
        Map<String, GgufValue> m = spm();
        m.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(false));
        m.put("tokenizer.ggml.add_eos_token", GgufValue.ofBool(true));
        m.put("tokenizer.ggml.add_space_prefix", GgufValue.ofBool(false));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(8));
        Vocabulary v = Vocabulary.load(md(m), "test.gguf", Vocabulary.Defaults.SPM);
        assertFalse(v.addBos());
        assertTrue(v.addEos());
        assertFalse(v.addSpacePrefix());
        assertEquals(8, v.eos());
        assertTrue(v.isEndOfGeneration(8));
        assertArrayEquals(new int[] {8}, v.endOfGeneration());
    }

    @Test
    void endTokensAreFoundByTheirTextAndBecomeControlTokens() {
        Vocabulary v = Vocabulary.load(md(spm("<|im_end|>", "<|eot_id|>", "<|end_of_text|>")), "test.gguf",
                Vocabulary.Defaults.SPM);
        int imEnd = v.find("<|im_end|>");
        int eotId = v.find("<|eot_id|>");
        assertEquals(eotId, v.eot(), "<|eot_id|> is preferred as EOT");
        for (int id : new int[] {imEnd, eotId, v.find("<|end_of_text|>"), 2}) {
            assertTrue(v.isEndOfGeneration(id), "id " + id);
        }
        assertTrue(v.hasAttribute(imEnd, TokenAttr.CONTROL), "made a control token");
        assertFalse(v.isEndOfGeneration(v.find("ab")));
    }

    @Test
    void outOfRangeSpecialIdNamesFileKeyAndId() {
        Map<String, GgufValue> m = spm();
        m.put("tokenizer.ggml.bos_token_id", GgufValue.ofUInt32(99999));
        var e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.load(md(m), "x.gguf", Vocabulary.Defaults.SPM));
        assertTrue(e.getMessage().contains("x.gguf"), e.getMessage());
        assertTrue(e.getMessage().contains("tokenizer.ggml.bos_token_id"), e.getMessage());
        assertTrue(e.getMessage().contains("99999"), e.getMessage());
    }

    @Test
    void shortScoresOrTypesArraysAreErrors() {
        Map<String, GgufValue> m = spm();
        m.put("tokenizer.ggml.scores", GgufValue.ofArray(new GgufArray(GgufValueType.FLOAT32, new float[3])));
        var e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.load(md(m), "x.gguf", Vocabulary.Defaults.SPM));
        assertTrue(e.getMessage().contains("tokenizer.ggml.scores has 3 entries for 13 tokens"), e.getMessage());

        Map<String, GgufValue> m2 = spm();
        m2.put("tokenizer.ggml.token_type", GgufValue.ofArray(new GgufArray(GgufValueType.STRING, new String[] {"x"})));
        e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.load(md(m2), "x.gguf", Vocabulary.Defaults.SPM));
        assertTrue(e.getMessage().contains("tokenizer.ggml.token_type is an array of STRING"), e.getMessage());
    }

    @Test
    void missingTokensAndDuplicatesAreErrors() {
        Map<String, GgufValue> m = spm();
        m.remove("tokenizer.ggml.tokens");
        var e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.load(md(m), "x.gguf", Vocabulary.Defaults.SPM));
        assertTrue(e.getMessage().contains("x.gguf: metadata tokenizer.ggml.tokens is missing"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> Vocabulary.load(md(spm("ab")), "x.gguf", Vocabulary.Defaults.SPM));
        assertTrue(e.getMessage().contains("duplicate token 'ab' at ids 11 and 13"), e.getMessage());
    }

    @Test
    void addBosWithoutBosTokenIsAnError() {
        Map<String, GgufValue> m = spm();
        var e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.load(md(m), "x.gguf",
                new Vocabulary.Defaults(true, false, false, false, false, -1, -1, -1)));
        assertTrue(e.getMessage().contains("tokenizer.ggml.add_bos_token is true"), e.getMessage());
    }

    @Test
    void unsupportedTokenizerTypeNamesItAndListsSupported() {
        Map<String, GgufValue> m = spm();
        m.put("tokenizer.ggml.model", GgufValue.ofString("rwkv"));
        var e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(md(m), "x.gguf"));
        assertTrue(e.getMessage().contains("'rwkv'"), e.getMessage());
        assertTrue(e.getMessage().contains("llama") && e.getMessage().contains("gpt2"), e.getMessage());

        m.remove("tokenizer.ggml.model");
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(md(m), "x.gguf"));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model is missing"), e.getMessage());
    }

    @Test
    void malformedByteTokenIsNamed() {
        Map<String, GgufValue> m = spm();
        int[] types = (int[]) ((GgufArray) m.get("tokenizer.ggml.token_type").value()).values();
        types[8] = 6; // "a" marked as a byte token
        var e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(md(m), "x.gguf"));
        assertTrue(e.getMessage().contains("byte token 8 is 'a'"), e.getMessage());
    }
}
