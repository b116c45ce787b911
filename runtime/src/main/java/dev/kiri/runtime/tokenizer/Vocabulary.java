package dev.kiri.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.gguf.GgufValueType;

/**
 * Everything a GGUF file says about its tokenizer ({@code tokenizer.ggml.*}), resolved the way
 * llama.cpp resolves it: the tokenizer type's default special ids and flags, metadata overrides,
 * end-of-generation tokens found by their text, and per-model token attributes.
 *
 * <p>Immutable. Every error names the source file and the metadata key.
 */
public final class Vocabulary {
    public static final String KEY_MODEL = "tokenizer.ggml.model";
    public static final String KEY_PRE = "tokenizer.ggml.pre";
    public static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    public static final String KEY_SCORES = "tokenizer.ggml.scores";
    public static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String KEY_MERGES = "tokenizer.ggml.merges";
    public static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    public static final String KEY_ADD_EOS = "tokenizer.ggml.add_eos_token";
    public static final String KEY_ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    /**
     * The flags a tokenizer type (and for BPE its pre-tokenizer) implies before metadata overrides
     * them, e.g. SentencePiece adds BOS and a space prefix; {@code llama-bpe} adds BOS and ignores
     * merges for whole-word tokens.
     */
    public record Defaults(boolean addBos, boolean addEos, boolean addSpacePrefix, boolean cleanSpaces,
                           boolean ignoreMerges, int bos, int eos, int unk) {
        /** SentencePiece ({@code llama}): BOS 1, EOS 2, UNK 0, BOS added, space prefix. */
        public static final Defaults SPM = new Defaults(true, false, true, false, false, 1, 2, 0);

        /** Byte-level BPE ({@code gpt2}) with the given pre-tokenizer flags: BOS and EOS 11, no UNK. */
        public static Defaults bpe(boolean addBos, boolean cleanSpaces, boolean ignoreMerges) {
            return new Defaults(addBos, false, false, cleanSpaces, ignoreMerges, 11, 11, -1);
        }
    }

    /** Token texts that end a generation (llama.cpp's list), made control tokens if they were not. */
    private static final List<String> EOG_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
            "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", "<|return|>", "<|call|>");
    /** Texts that name the end-of-turn token when the metadata does not, in order of preference. */
    private static final List<String> EOT_TEXTS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
            "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    private static final List<String> FIM_PAD_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>");
    private static final List<String> FIM_REP_TEXTS = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
            "<reponame>");
    private static final List<String> FIM_SEP_TEXTS = List.of("<|file_sep|>");
    private static final List<String> FIM_PRE_TEXTS = List.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
            "<｜fim▁begin｜>", "<PRE>", "▁<PRE>");
    private static final List<String> FIM_SUF_TEXTS = List.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
            "<｜fim▁hole｜>", "<SUF>", "▁<SUF>");
    private static final List<String> FIM_MID_TEXTS = List.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>",
            "<｜fim▁end｜>", "<MID>", "▁<MID>");

    private final String source;
    private final String model;
    private final String pre;
    private final String[] tokens;
    private final float[] scores;
    private final int[] attrs;
    private final String[] merges;
    private final TokenIndex index;
    private final int bos;
    private final int eos;
    private final int eot;
    private final int eom;
    private final int unk;
    private final int sep;
    private final int pad;
    private final int mask;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;
    private final boolean ignoreMerges;
    private final BitSet eog;
    private final int[] specialTokens;

    private Vocabulary(GgufMetadata md, String source, Defaults defaults) {
        this.source = source;
        this.model = md.getString(KEY_MODEL);
        this.pre = md.optString(KEY_PRE).orElse("");

        this.tokens = strings(md, KEY_TOKENS)
                .orElseThrow(() -> error(KEY_TOKENS, "is missing: the file has no tokenizer vocabulary"));
        int n = tokens.length;
        if (n == 0) throw error(KEY_TOKENS, "is empty");
        this.scores = numbers(md, KEY_SCORES, n);
        int[] types = integers(md, KEY_TOKEN_TYPE, n);
        this.merges = strings(md, KEY_MERGES).orElse(null);

        this.attrs = new int[n];
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null || tokens[i].isEmpty()) tokens[i] = "[EMPTY_" + i + "]"; // as llama.cpp
            attrs[i] = types == null ? TokenAttr.NORMAL : TokenAttr.fromType(types[i]);
        }
        this.index = new TokenIndex(tokens);
        for (int i = 0; i < n; i++) {
            int first = index.find(tokens[i]);
            // a text made unreadable by invalid UTF-8 (U+FFFD) may repeat; the first id keeps it
            if (first != i && tokens[i].indexOf('\uFFFD') < 0) {
                throw error(KEY_TOKENS, "has a duplicate token " + quote(tokens[i]) + " at ids " + first + " and " + i);
            }
        }

        boolean spacePrefix = md.optBoolean(KEY_ADD_SPACE_PREFIX).orElse(defaults.addSpacePrefix());
        this.addSpacePrefix = spacePrefix;
        this.cleanSpaces = defaults.cleanSpaces();
        this.ignoreMerges = defaults.ignoreMerges();

        this.bos = specialId(md, "tokenizer.ggml.bos_token_id", defaults.bos());
        this.eos = specialId(md, "tokenizer.ggml.eos_token_id", defaults.eos());
        int eotId = specialId(md, "tokenizer.ggml.eot_token_id", -1);
        int eomId = specialId(md, "tokenizer.ggml.eom_token_id", -1);
        this.unk = specialId(md, "tokenizer.ggml.unknown_token_id", defaults.unk());
        this.sep = specialId(md, "tokenizer.ggml.seperator_token_id", -1);
        this.pad = specialId(md, "tokenizer.ggml.padding_token_id", -1);
        this.mask = specialId(md, "tokenizer.ggml.mask_token_id", -1);
        int fimPad = specialId(md, "tokenizer.ggml.fim_pad_token_id", -1);
        int fimRep = specialId(md, "tokenizer.ggml.fim_rep_token_id", -1);
        int fimSep = specialId(md, "tokenizer.ggml.fim_sep_token_id", -1);
        int fimPre = specialId(md, "tokenizer.ggml.fim_pre_token_id",
                specialId(md, "tokenizer.ggml.prefix_token_id", -1));
        int fimSuf = specialId(md, "tokenizer.ggml.fim_suf_token_id",
                specialId(md, "tokenizer.ggml.suffix_token_id", -1));
        int fimMid = specialId(md, "tokenizer.ggml.fim_mid_token_id",
                specialId(md, "tokenizer.ggml.middle_token_id", -1));

        this.addBos = md.optBoolean(KEY_ADD_BOS).orElse(defaults.addBos());
        this.addEos = md.optBoolean(KEY_ADD_EOS).orElse(defaults.addEos());
        if (addBos && bos < 0) {
            throw error(KEY_ADD_BOS, "is true but the vocabulary has no BOS token (tokenizer.ggml.bos_token_id)");
        }
        if (addEos && eos < 0) {
            throw error(KEY_ADD_EOS, "is true but the vocabulary has no EOS token (tokenizer.ggml.eos_token_id)");
        }

        // Tokens found by their text, as llama.cpp does while converters do not write these keys.
        // A token found this way is made a control token (it would otherwise print as text).
        if (eotId < 0) eotId = findByText(EOT_TEXTS, true);
        if (eomId < 0) eomId = findByText(List.of("<|eom_id|>"), true);
        if (fimPre < 0) fimPre = findByText(FIM_PRE_TEXTS, true);
        if (fimSuf < 0) fimSuf = findByText(FIM_SUF_TEXTS, true);
        if (fimMid < 0) fimMid = findByText(FIM_MID_TEXTS, true);
        if (fimPad < 0) fimPad = findByText(FIM_PAD_TEXTS, true);
        if (fimRep < 0) fimRep = findByText(FIM_REP_TEXTS, true);
        if (fimSep < 0) fimSep = findByText(FIM_SEP_TEXTS, true);
        this.eot = eotId;
        this.eom = eomId;

        this.eog = new BitSet(n);
        for (int id : new int[] {fimPad, fimRep, fimSep, eos, eotId, eomId}) {
            if (id >= 0) eog.set(id);
        }
        for (String text : EOG_TEXTS) {
            int id = index.find(text);
            if (id >= 0) {
                eog.set(id);
                attrs[id] |= TokenAttr.CONTROL;
            }
        }
        // gpt-oss channel markers are always rendered and always matched in text
        for (String text : List.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>")) {
            int id = index.find(text);
            if (id >= 0) attrs[id] = TokenAttr.USER_DEFINED;
        }

        // Tokens matched in text before the tokenizer runs: longest first (UTF-8 length), then by id.
        Integer[] special = new Integer[n];
        int ns = 0;
        int[] utf8Len = new int[n];
        for (int id = 0; id < n; id++) {
            if ((attrs[id] & (TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) != 0) {
                special[ns++] = id;
                utf8Len[id] = tokens[id].getBytes(StandardCharsets.UTF_8).length;
            }
        }
        Integer[] sorted = Arrays.copyOf(special, ns);
        Arrays.sort(sorted, Comparator.<Integer>comparingInt(id -> -utf8Len[id]).thenComparingInt(id -> id));
        this.specialTokens = Arrays.stream(sorted).mapToInt(Integer::intValue).toArray();

        // per-model attributes llama.cpp sets by name (they are not in GGUF files)
        String name = md.optString("general.name").orElse("").toLowerCase(Locale.ROOT);
        if (pre.contains("jina-v2-de") || pre.contains("jina-v2-es") || pre.contains("jina-v2-code")) {
            setAttr("<mask>", TokenAttr.LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : specialTokens) attrs[id] |= TokenAttr.RSTRIP;
            setAttr("</s>", TokenAttr.RSTRIP, true);
            for (String t : List.of("<unk>", "<s>", "<|endoftext|>")) setAttr(t, TokenAttr.RSTRIP, false);
        }
    }

    /**
     * Reads the tokenizer metadata of a model.
     *
     * @param md       the file's metadata
     * @param source   the file name, used in error messages
     * @param defaults what the tokenizer type implies when a key is absent
     * @throws IllegalArgumentException naming the source and key for a missing or inconsistent
     *                                  array, a duplicate token or an out-of-range special id
     */
    public static Vocabulary load(GgufMetadata md, String source, Defaults defaults) {
        return new Vocabulary(md, source, defaults);
    }

    private void setAttr(String text, int attr, boolean on) {
        int id = index.find(text);
        if (id < 0) return;
        attrs[id] = on ? attrs[id] | attr : attrs[id] & ~attr;
    }

    private int findByText(List<String> texts, boolean makeControl) {
        for (String t : texts) {
            int id = index.find(t);
            if (id >= 0) {
                if (makeControl) attrs[id] |= TokenAttr.CONTROL;
                return id;
            }
        }
        return -1;
    }

    private int specialId(GgufMetadata md, String key, int dflt) {
        Optional<Long> v;
        try {
            v = md.optLong(key);
        } catch (IllegalArgumentException e) {
            throw error(key, "is not an integer: " + e.getMessage());
        }
        if (v.isEmpty()) return dflt >= 0 && dflt < tokens.length ? dflt : -1;
        long id = v.get();
        if (id < 0 || id >= tokens.length) {
            throw error(key, "= " + id + " is outside the vocabulary of " + tokens.length + " tokens");
        }
        return (int) id;
    }

    private Optional<String[]> strings(GgufMetadata md, String key) {
        Optional<GgufArray> a = array(md, key);
        if (a.isEmpty()) return Optional.empty();
        if (a.get().elementType() != GgufValueType.STRING) {
            throw error(key, "is an array of " + a.get().elementType() + ", expected STRING");
        }
        return Optional.of(((String[]) a.get().values()).clone());
    }

    private float[] numbers(GgufMetadata md, String key, int n) {
        Optional<GgufArray> a = array(md, key);
        if (a.isEmpty()) return new float[n];
        GgufArray arr = a.get();
        if (arr.elementType() == GgufValueType.STRING || arr.elementType() == GgufValueType.ARRAY
                || arr.elementType() == GgufValueType.BOOL) {
            throw error(key, "is an array of " + arr.elementType() + ", expected numbers");
        }
        if (arr.length() < n) throw error(key, "has " + arr.length() + " entries for " + n + " tokens");
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) arr.getDouble(i);
        return out;
    }

    private int[] integers(GgufMetadata md, String key, int n) {
        Optional<GgufArray> a = array(md, key);
        if (a.isEmpty()) return null;
        GgufArray arr = a.get();
        if (!arr.elementType().isInteger()) {
            throw error(key, "is an array of " + arr.elementType() + ", expected integers");
        }
        if (arr.length() < n) throw error(key, "has " + arr.length() + " entries for " + n + " tokens");
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = (int) arr.getLong(i);
        return out;
    }

    private Optional<GgufArray> array(GgufMetadata md, String key) {
        try {
            return md.optArray(key);
        } catch (IllegalArgumentException e) {
            throw error(key, "is not an array");
        }
    }

    private IllegalArgumentException error(String key, String what) {
        return new IllegalArgumentException(source + ": metadata " + key + " " + what);
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F) sb.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            else sb.append(c);
        }
        return sb.append('\'').toString();
    }

    /** The file this vocabulary came from, as given to {@link #load}. */
    public String source() {
        return source;
    }

    /** {@code tokenizer.ggml.model}: {@code llama}, {@code gpt2}, ... */
    public String model() {
        return model;
    }

    /** {@code tokenizer.ggml.pre}, or the empty string when absent. */
    public String pre() {
        return pre;
    }

    /** Number of tokens. */
    public int size() {
        return tokens.length;
    }

    /** The token's text as stored (an empty one reads {@code [EMPTY_id]}, as in llama.cpp). */
    public String token(int id) {
        return tokens[checkId(id)];
    }

    /** The token's score ({@code tokenizer.ggml.scores}; 0 when the file has none). */
    public float score(int id) {
        return scores[checkId(id)];
    }

    /** The token's {@link TokenAttr} bits. */
    public int attributes(int id) {
        return attrs[checkId(id)];
    }

    /** True when the token has any of the given {@link TokenAttr} bits. */
    public boolean hasAttribute(int id, int attr) {
        return (attrs[checkId(id)] & attr) != 0;
    }

    /** The id of the token whose text is exactly {@code text}, or -1. */
    public int find(String text) {
        return index.find(text);
    }

    TokenIndex index() {
        return index;
    }

    /** {@code tokenizer.ggml.merges} (BPE), or null when the file has none. */
    public String[] merges() {
        return merges == null ? null : merges.clone();
    }

    /** Token texts in id order (a copy). */
    public String[] tokens() {
        return tokens.clone();
    }

    public int bos() {
        return bos;
    }

    public int eos() {
        return eos;
    }

    /** End of turn, from metadata or found by its text (e.g. {@code <|eot_id|>}); -1 if none. */
    public int eot() {
        return eot;
    }

    /** End of message ({@code <|eom_id|>}); -1 if none. */
    public int eom() {
        return eom;
    }

    public int unk() {
        return unk;
    }

    public int sep() {
        return sep;
    }

    public int pad() {
        return pad;
    }

    public int mask() {
        return mask;
    }

    public boolean addBos() {
        return addBos;
    }

    public boolean addEos() {
        return addEos;
    }

    /** SentencePiece: a space is put before text that starts the input or follows a special token. */
    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    /** Decoding removes spaces before {@code ? ! . ,} and in some apostrophe forms (llama.cpp's clean_spaces). */
    public boolean cleanSpaces() {
        return cleanSpaces;
    }

    /** BPE: a pre-token that is itself a token is emitted whole, without merging. */
    public boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** True for every id that ends a generation. */
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && eog.get(id);
    }

    /** The end-of-generation ids, ascending. */
    public int[] endOfGeneration() {
        return eog.stream().toArray();
    }

    /** Ids matched in text before tokenizing (control, user-defined, unknown), longest text first. */
    int[] specialTokens() {
        return specialTokens;
    }

    private int checkId(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException(source + ": token id " + id + " is outside the vocabulary of "
                    + tokens.length + " tokens");
        }
        return id;
    }

    @Override
    public String toString() {
        return "Vocabulary[" + source + ", " + model + (pre.isEmpty() ? "" : "/" + pre) + ", " + tokens.length + " tokens]";
    }
}
