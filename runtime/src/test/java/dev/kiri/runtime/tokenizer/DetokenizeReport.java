package dev.kiri.runtime.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiri.gguf.Fixtures;

/** Reads {@code vocab/cjk/detokenize-report.json}: what llama.cpp's detokenizer gave for each case. */
final class DetokenizeReport {
    private DetokenizeReport() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> load() {
        try {
            return new ObjectMapper().readValue(Fixtures.file("vocab/cjk/detokenize-report.json").toFile(), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True when the report has results for this vocabulary and case set. */
    static boolean covers(Map<String, Object> report, String vocab, String set) {
        return entry(report, vocab, set) != null;
    }

    /** llama.cpp's detokenized text for a case that does not round-trip, or null when it does (or is not covered). */
    @SuppressWarnings("unchecked")
    static String detokenized(Map<String, Object> report, String vocab, String set, int index) {
        Map<String, Object> e = entry(report, vocab, set);
        if (e == null) return null;
        for (Map<String, Object> f : (List<Map<String, Object>>) e.getOrDefault("detokenize_fails", List.of())) {
            if (((Number) f.get("index")).intValue() == index) return (String) f.get("detokenized");
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> entry(Map<String, Object> report, String vocab, String set) {
        Map<String, Object> vocabs = (Map<String, Object>) report.get("vocabs");
        Map<String, Object> v = (Map<String, Object>) vocabs.get(vocab);
        return v == null ? null : (Map<String, Object>) v.get(set);
    }
}
