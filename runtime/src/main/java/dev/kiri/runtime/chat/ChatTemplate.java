package dev.kiri.runtime.chat;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

import com.hubspot.jinjava.tree.Node;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.runtime.Message;

/**
 * A model's chat template: the Jinja source from its GGUF metadata ({@code tokenizer.chat_template})
 * rendered the way Hugging Face {@code transformers} renders it with Jinja2 (trim_blocks,
 * lstrip_blocks, loop controls, {@code tojson} keeping non-ASCII text, {@code raise_exception},
 * {@code strftime_now}), so the prompt a model sees is byte for byte the one it was trained on.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplate.fromGguf(file.metadata(), null);
 * String prompt = t.render(List.of(Message.system("あなたは親切なアシスタントです。"), Message.user("こんにちは")), true);
 * }</pre>
 *
 * <p>The template is parsed once, when the object is made; {@link #render} may be called from
 * several threads at once. Errors in the template, including its own {@code raise_exception(...)}
 * (e.g. "Conversation roles must alternate user/assistant/user/assistant/..."), are thrown as
 * {@link ChatTemplateException}. See docs/TEMPLATES.md for the engine and its configuration.
 */
public final class ChatTemplate {
    /** Metadata key of a model's default template; named ones are {@code tokenizer.chat_template.NAME}. */
    public static final String METADATA_KEY = "tokenizer.chat_template";

    /**
     * The format used for a model without a template: the BOS text, then each message as
     * {@code Role: content} (role capitalised, content trimmed) followed by a blank line, then
     * {@code Assistant:} when a generation prompt is asked for.
     */
    public static final String FALLBACK_SOURCE = """
            {{- bos_token -}}
            {%- for message in messages -%}
            {{ message.role | capitalize }}: {{ message.content | trim }}{{ '\\n\\n' }}
            {%- endfor -%}
            {%- if add_generation_prompt %}Assistant:{% endif -%}""";

    private static final System.Logger LOG = System.getLogger(ChatTemplate.class.getName());
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

    private final String name;
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final boolean fallback;
    private final TemplateSource prepared;
    private final Node root;

    private ChatTemplate(String name, String source, String bosToken, String eosToken, boolean fallback) {
        this.name = Objects.requireNonNull(name, "name");
        this.source = Objects.requireNonNull(source, "source");
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        this.fallback = fallback;
        this.prepared = TemplateSource.of(source);
        this.root = JinjaEngine.parse(name, prepared.source);
    }

    /**
     * A template from its Jinja source.
     *
     * @param source the template text, as found in {@code tokenizer.chat_template}
     * @param bosToken the text templates see as {@code bos_token} (null: empty)
     * @param eosToken the text templates see as {@code eos_token} (null: empty)
     * @throws ChatTemplateException if the template does not parse
     */
    public static ChatTemplate of(String source, String bosToken, String eosToken) {
        return new ChatTemplate("(source)", source, bosToken, eosToken, false);
    }

    /** Like {@link #of(String, String, String)}, with a name used in error messages (e.g. the file name). */
    public static ChatTemplate of(String name, String source, String bosToken, String eosToken) {
        return new ChatTemplate(name, source, bosToken, eosToken, false);
    }

    /** The plain format for models without a template (see {@link #FALLBACK_SOURCE}). */
    public static ChatTemplate fallback(String bosToken, String eosToken) {
        return new ChatTemplate("(fallback)", FALLBACK_SOURCE, bosToken, eosToken, true);
    }

    /**
     * A model's template from its GGUF metadata, with {@code bos_token}/{@code eos_token} taken from
     * the vocabulary ({@code tokenizer.ggml.tokens} at {@code tokenizer.ggml.bos_token_id} and
     * {@code eos_token_id}; empty when the id is absent). A model without {@code tokenizer.chat_template}
     * gets the {@linkplain #FALLBACK_SOURCE plain fallback format}, logged once per process when it first
     * renders a conversation.
     *
     * @param name null for the default template, else NAME of {@code tokenizer.chat_template.NAME}
     * @throws IllegalArgumentException if the named template does not exist (the message lists those that
     *         do) or a token id is outside the vocabulary
     * @throws ChatTemplateException if the template does not parse
     */
    public static ChatTemplate fromGguf(GgufMetadata md, String name) {
        Objects.requireNonNull(md, "md");
        String bos = tokenText(md, "tokenizer.ggml.bos_token_id");
        String eos = tokenText(md, "tokenizer.ggml.eos_token_id");
        String key = name == null ? METADATA_KEY : METADATA_KEY + "." + name;
        Optional<String> source = md.optString(key);
        if (source.isEmpty()) {
            if (name != null) {
                TreeSet<String> names = new TreeSet<>();
                for (String k : md.keys()) if (k.startsWith(METADATA_KEY + ".")) names.add(k.substring(METADATA_KEY.length() + 1));
                throw new IllegalArgumentException("no chat template named '" + name + "' (metadata key " + key + ")"
                        + (names.isEmpty() ? "; the model has no named templates" : "; named templates: " + String.join(", ", names)));
            }
            return fallback(bos, eos);
        }
        return new ChatTemplate(key, source.get(), bos, eos, false);
    }

    private static String tokenText(GgufMetadata md, String idKey) {
        Optional<Long> id = md.optLong(idKey);
        if (id.isEmpty()) return "";
        if (!md.contains("tokenizer.ggml.tokens")) return "";
        String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
        long i = id.get();
        if (i < 0 || i >= tokens.length) {
            throw new IllegalArgumentException("metadata " + idKey + " = " + i + " is outside the vocabulary of "
                    + tokens.length + " tokens (tokenizer.ggml.tokens)");
        }
        return tokens[(int) i];
    }

    /**
     * Renders plain messages with the current local time as the template's clock.
     *
     * @param addGenerationPrompt whether to end with the opening of an assistant turn
     * @throws ChatTemplateException if the template fails (including its own raise_exception)
     */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size());
        for (Message m : messages) maps.add(m.toMap());
        return render(maps, null, addGenerationPrompt, LocalDateTime.now());
    }

    /**
     * Renders messages given as maps, as Hugging Face's {@code apply_chat_template} receives them:
     * {@code role}, {@code content} and whatever else the template reads ({@code tool_calls},
     * {@code tool_call_id}, {@code name}, ...), with nested maps and lists and JSON-like values.
     *
     * @param tools tool definitions (JSON-schema maps) or null when there are none; templates see
     *        {@code tools} only when it is not null, as in transformers
     * @param now the clock {@code strftime_now} reads
     * @throws ChatTemplateException if the template fails (including its own raise_exception)
     */
    public String render(List<Map<String, Object>> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt,
                         LocalDateTime now) {
        return render(messages, tools, addGenerationPrompt, now, Map.of());
    }

    /**
     * Like {@link #render(List, List, boolean, LocalDateTime)}, with extra variables some templates
     * read (for example {@code enable_thinking} for Qwen3, {@code date_string} for Llama 3.x).
     * They cannot replace {@code messages}, {@code tools}, {@code add_generation_prompt},
     * {@code bos_token} or {@code eos_token}.
     */
    public String render(List<Map<String, Object>> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt,
                         LocalDateTime now, Map<String, Object> extraVariables) {
        Objects.requireNonNull(messages, "messages");
        Objects.requireNonNull(now, "now");
        if (fallback && FALLBACK_LOGGED.compareAndSet(false, true)) {
            // said when a conversation is first rendered with it, not when a model merely loads
            LOG.log(System.Logger.Level.INFO, "model has no " + METADATA_KEY
                    + "; chat prompts use the plain fallback format (\"Role: content\" blocks, then \"Assistant:\")");
        }
        Map<String, Object> vars = new HashMap<>();
        if (extraVariables != null) extraVariables.forEach((k, v) -> vars.put(k, PyNone.fromJava(v)));
        vars.put("messages", PyNone.fromJava(messages));
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        if (tools != null) vars.put("tools", PyNone.fromJava(tools));
        else vars.remove("tools");
        // functions are also variables in Jinja2: `strftime_now is defined` must hold
        vars.put("raise_exception", FunctionMarker.RAISE_EXCEPTION);
        vars.put("strftime_now", FunctionMarker.STRFTIME_NOW);
        return JinjaEngine.render(name, root, vars, new JinjaEngine.RenderState(now, prepared.loopFilters));
    }

    /** The template's Jinja source as given. */
    public String source() {
        return source;
    }

    /** The text templates see as {@code bos_token}. */
    public String bosToken() {
        return bosToken;
    }

    /** The text templates see as {@code eos_token}. */
    public String eosToken() {
        return eosToken;
    }

    /** Whether this is the plain fallback format of a model without a template. */
    public boolean isFallback() {
        return fallback;
    }

    @Override
    public String toString() {
        return "ChatTemplate[" + name + ", " + source.length() + " chars]";
    }

    /** What a template sees when it looks at a global function as a value. */
    private enum FunctionMarker {
        RAISE_EXCEPTION, STRFTIME_NOW;

        @Override
        public String toString() {
            return "<function " + name().toLowerCase(java.util.Locale.ROOT) + ">";
        }
    }
}
