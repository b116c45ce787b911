package dev.kiri.runtime.tokenizer.bpe;

import static dev.kiri.runtime.tokenizer.bpe.RegexSplit.L;
import static dev.kiri.runtime.tokenizer.bpe.RegexSplit.N;
import static dev.kiri.runtime.tokenizer.bpe.RegexSplit.P;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The pre-tokenizers llama.cpp knows, as regex lists, and which {@code tokenizer.ggml.pre}
 * names select which list with which flags. Mirrors llama.cpp's vocabulary loader.
 */
enum PreTokenizerKind {
    /** Also what llama.cpp uses when {@code tokenizer.ggml.pre} is missing. */
    DEFAULT(
            RegexSplit.collapsed("[" + P + "$+<=>^~|]+", "[\\p{P}\\$\\+<=>\\^~\\|]+"),
            Gpt2Split.INSTANCE,
            RegexSplit.collapsed("[" + N + "]+", "\\p{N}+"),
            RegexSplit.wide("[0-9][0-9][0-9]", "[0-9][0-9][0-9]")),
    GPT2(Gpt2Split.INSTANCE),
    LLAMA3(Llama3Split.LLAMA3),
    QWEN2(Llama3Split.QWEN2),
    DEEPSEEK_LLM(
            RegexSplit.wide("[\\r\\n]", "[\\r\\n]"),
            RegexSplit.wide("\\s?[" + DeepseekClasses.LATIN + "]+", "\\s?[A-Za-zµÀ-ÖØ-öø-ƺ…]+"),
            RegexSplit.wide("\\s?[" + DeepseekClasses.PUNCT + "]+", "\\s?[!-/:-~！-／：-～‘-‟　-。]+"),
            TrailingWhitespaceSplit.INSTANCE,
            RegexSplit.wide("[" + DeepseekClasses.CJK + "]+", "[一-龥ࠀ-一가-퟿]+"),
            RegexSplit.collapsed("[" + N + "]+", "\\p{N}+")),
    DEEPSEEK_CODER(
            RegexSplit.wide("[\\r\\n]", "[\\r\\n]"),
            RegexSplit.collapsed("\\s?[" + L + "]+", "\\s?\\p{L}+"),
            RegexSplit.collapsed("\\s?[" + P + "]+", "\\s?\\p{P}+"),
            RegexSplit.wide("[" + DeepseekClasses.CJK + "]+", "[一-龥ࠀ-一가-퟿]+"),
            RegexSplit.collapsed("[" + N + "]", "\\p{N}")),
    FALCON(
            RegexSplit.collapsed("[" + P + "$+<=>^~|`]+", "[\\p{P}\\$\\+<=>\\^~\\|`]+"),
            Gpt2Split.INSTANCE,
            RegexSplit.wide("[0-9][0-9][0-9]", "[0-9][0-9][0-9]")),
    /** BLOOM, Poro, GPT-3 Finnish: everything but whitespace and a few punctuation marks. */
    BLOOM(RegexSplit.wide(" ?[^(\\s|.,!?…。，、।۔،)]+", " ?[^(\\s|.,!?…。，、।۔،)]+")),
    VIKING(
            RegexSplit.wide(" ?[^(\\s|.,!?…。，、।۔،)]+", " ?[^(\\s|.,!?…。，、।۔،)]+"),
            RegexSplit.collapsed("[" + N + "]", "\\p{N}")),
    SEED_CODER(RegexSplit.collapsed(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N
                    + "]| ?[^\\s" + L + N + "\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}"
                    + "| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")),
    BAILINGMOE(RegexSplit.collapsed(
            "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N
                    + "]| ?[^\\s" + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+",
            "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+")),
    GPT4O(Gpt4oSplit.GPT4O),
    TEKKEN(Gpt4oSplit.TEKKEN),
    /** StarCoder, Refact, Command-R, EXAONE and others: every digit alone, then GPT-2. */
    DIGITS_THEN_GPT2(
            RegexSplit.collapsed("[" + N + "]", "\\p{N}"),
            Gpt2Split.INSTANCE);

    /** Name to kind and flags, in llama.cpp's order. */
    private static final Map<String, Entry> NAMES = new LinkedHashMap<>();

    /** A name's settings. */
    record Entry(PreTokenizerKind kind, boolean ignoreMerges, boolean cleanSpaces, boolean addBos) {
    }

    private static void name(PreTokenizerKind kind, boolean ignoreMerges, boolean cleanSpaces, boolean addBos,
                             String... names) {
        for (String n : names) NAMES.put(n, new Entry(kind, ignoreMerges, cleanSpaces, addBos));
    }

    static {
        name(DEFAULT, false, true, false, "default");
        name(LLAMA3, true, true, true, "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                "midm-2.0", "lfm2", "jina-v5-nano");
        name(DEEPSEEK_LLM, false, false, false, "deepseek-llm");
        name(DEEPSEEK_CODER, false, false, false, "deepseek-coder");
        name(FALCON, false, true, false, "falcon");
        name(GPT2, false, true, false, "mpt");
        name(DIGITS_THEN_GPT2, false, true, false, "starcoder");
        name(GPT2, false, true, false, "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es",
                "jina-v2-de", "a.x-4.0", "mellum", "modern-bert");
        // Not a llama.cpp name: GPT-NeoX's tokenizer splits with the GPT-2 regex (llama.cpp's
        // "olmo", whose models use the GPT-NeoX tokenizer, is the same).
        name(GPT2, false, true, false, "gpt-neox");
        name(DIGITS_THEN_GPT2, false, true, false, "refact");
        name(DIGITS_THEN_GPT2, false, false, false, "command-r");
        name(QWEN2, false, false, false, "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "grok-2",
                "solar-open");
        name(QWEN2, false, true, false, "stablelm2", "megrez");
        name(GPT2, false, true, false, "olmo");
        name(LLAMA3, false, true, false, "dbrx", "smaug-bpe");
        name(GPT2, false, true, false, "jais");
        name(DIGITS_THEN_GPT2, false, false, false, "smollm");
        name(DIGITS_THEN_GPT2, false, true, false, "codeshell", "exaone", "minerva-7b");
        name(GPT2, false, true, false, "exaone4");
        name(GPT2, false, false, false, "trillion");
        name(TEKKEN, true, false, true, "tekken");
        name(BLOOM, false, true, false, "bloom", "gpt3-finnish");
        name(BLOOM, false, false, false, "poro-chat");
        name(VIKING, false, false, false, "viking");
        name(SEED_CODER, false, false, false, "seed-coder");
        name(BAILINGMOE, false, false, false, "bailingmoe", "bailingmoe2", "llada-moe");
        name(GPT4O, false, false, false, "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2");
    }

    private final SplitStep[] steps;

    PreTokenizerKind(SplitStep... steps) {
        this.steps = steps;
    }

    PreTokenizer preTokenizer(String name) {
        return new ChainPreTokenizer(name, steps);
    }

    static Entry entry(String pre) {
        Entry e = pre == null ? null : NAMES.get(pre);
        if (e == null) {
            throw new IllegalArgumentException("unknown BPE pre-tokenizer '" + pre + "' (tokenizer.ggml.pre); known: "
                    + String.join(", ", new TreeSet<>(NAMES.keySet())));
        }
        return e;
    }

    static PreTokenizerKind forName(String pre) {
        return entry(pre).kind;
    }

    /** Every known name. */
    static Map<String, Entry> names() {
        return Collections.unmodifiableMap(NAMES);
    }
}
