package dev.kiri.runtime.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.ModelArchive;
import dev.kiri.runtime.chat.ChatTemplate;
import dev.kiri.runtime.chat.ChatTemplateException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiri template (-m MODEL.gguf | --template FILE.jinja) --messages FILE.json}: the prompt a
 * model is really sent for a conversation, exactly as its chat template renders it.
 */
@Command(name = "template",
        description = "Render a chat template (a model's or a .jinja file) for the messages in a JSON file and print the prompt exactly.")
final class TemplateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    static final class Source {
        @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
                description = "take the template (tokenizer.chat_template) and BOS/EOS tokens from this model (.gguf, archive or hf://)")
        String model;

        @Option(names = "--template", required = true, paramLabel = "FILE.jinja", description = "a Jinja chat template file")
        Path template;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--name", paramLabel = "NAME", description = "with -m: the named template tokenizer.chat_template.NAME")
    String name;

    @Option(names = "--messages", required = true, paramLabel = "FILE.json",
            description = "a JSON array of messages: {\"role\": ..., \"content\": ...} (other keys such as tool_calls are passed on)")
    Path messages;

    @Option(names = "--tools", paramLabel = "FILE.json", description = "a JSON array of tool definitions")
    Path tools;

    @Option(names = "--no-generation-prompt", description = "do not end with the opening of an assistant turn")
    boolean noGenerationPrompt;

    @Option(names = "--bos-token", paramLabel = "T", description = "bos_token text (default: the model's, or empty with --template)")
    String bosToken;

    @Option(names = "--eos-token", paramLabel = "T", description = "eos_token text (default: the model's, or empty with --template)")
    String eosToken;

    @Option(names = "--now", paramLabel = "YYYY-MM-DDTHH:MM:SS", description = "the clock strftime_now sees (default: now)")
    String now;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() {
        return Cli.run(spec, verbose, this::render);
    }

    private int render() throws IOException {
        LocalDateTime clock;
        try {
            clock = now == null ? LocalDateTime.now() : LocalDateTime.parse(now);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--now " + now + ": expected a local date and time like 2026-11-22T09:30:00");
        }
        ChatTemplate t = load();
        List<Map<String, Object>> msgs = readObjects(messages, "--messages", true);
        List<Map<String, Object>> toolList = tools == null ? null : readObjects(tools, "--tools", false);
        String prompt;
        try {
            prompt = t.render(msgs, toolList, !noGenerationPrompt, clock);
        } catch (ChatTemplateException e) {
            // the template's own error, as the template worded it
            throw new IllegalStateException(e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(prompt);
        out.flush();
        return 0;
    }

    private ChatTemplate load() throws IOException {
        if (source.template != null) {
            if (name != null) throw new IllegalArgumentException("--name needs -m MODEL.gguf");
            String text = Files.readString(source.template, StandardCharsets.UTF_8);
            return ChatTemplate.of(source.template.getFileName().toString(), text, bosToken, eosToken);
        }
        Path path = Options.resolveModel(source.model, spec.commandLine().getErr());
        Path gguf = ModelArchive.isArchive(path) ? ModelArchive.extract(path, ModelArchive.cacheRoot()) : path;
        ChatTemplate fromModel;
        try (GgufFile f = GgufFile.open(gguf)) {
            fromModel = ChatTemplate.fromGguf(f.metadata(), name);
        }
        if (bosToken == null && eosToken == null) return fromModel;
        return ChatTemplate.of(gguf.getFileName().toString(), fromModel.source(),
                bosToken != null ? bosToken : fromModel.bosToken(), eosToken != null ? eosToken : fromModel.eosToken());
    }

    /** A JSON array of objects from a file; messages must each have a string "role". */
    private static List<Map<String, Object>> readObjects(Path file, String option, boolean messages) throws IOException {
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString());
        Object parsed;
        try {
            parsed = JSON.readValue(file.toFile(), Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(option + " " + file + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")" : ""));
        }
        if (!(parsed instanceof List<?> list)) {
            throw new IllegalArgumentException(option + " " + file + ": expected a JSON array, found " + kind(parsed));
        }
        for (int i = 0; i < list.size(); i++) {
            Object item = list.get(i);
            if (!(item instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(option + " " + file + ": item " + i + " is " + kind(item) + ", expected an object");
            }
            if (messages && !(m.get("role") instanceof String)) {
                throw new IllegalArgumentException(option + " " + file + ": message " + i + " has no string \"role\"");
            }
        }
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> objects = (List<Map<String, Object>>) list;
        return objects;
    }

    private static String kind(Object o) {
        if (o == null) return "null";
        if (o instanceof String) return "a string";
        if (o instanceof Number) return "a number";
        if (o instanceof Boolean) return "a boolean";
        if (o instanceof List<?>) return "an array";
        return "an object";
    }
}
