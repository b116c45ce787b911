package dev.kiri.runtime.tokenizer.bpe;

import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufMetadata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * A byte-level BPE vocabulary fixture ({@code vocab/ggml-vocab-NAME.gguf}) read straight from its
 * GGUF metadata, and the {@code .inp}/{@code .out} case files beside it. Encodes text the way
 * llama.cpp's tokenizer test does: user-defined tokens are cut out first (control tokens are
 * not parsed), every other fragment is pre-tokenized and BPE-encoded.
 */
final class VocabFixture {
    private static final int USER_DEFINED = 4;
    private static final Map<String, VocabFixture> CACHE = new ConcurrentHashMap<>();

    final String name;
    final String pre;
    final BpeSpec spec;
    final BpeEncoder encoder;
    /** User-defined tokens, longest text first. */
    private final List<String> userDefinedTexts = new ArrayList<>();
    private final List<Integer> userDefinedIds = new ArrayList<>();

    private VocabFixture(String name) {
        Path gguf = Fixtures.file("vocab/ggml-vocab-" + name + ".gguf");
        try (GgufFile f = GgufFile.open(gguf)) {
            GgufMetadata md = f.metadata();
            String model = md.getString("tokenizer.ggml.model");
            if (!model.equals("gpt2")) throw new AssertionError(gguf + ": tokenizer.ggml.model is " + model);
            this.name = name;
            this.pre = md.getString("tokenizer.ggml.pre");
            this.spec = BpeSpec.forPre(pre);
            String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
            String[] merges = md.getStringArray("tokenizer.ggml.merges");
            this.encoder = new BpeEncoder(tokens, merges, spec.ignoreMerges());
            int[] types = md.getIntArray("tokenizer.ggml.token_type");
            Integer[] ud = java.util.stream.IntStream.range(0, tokens.length)
                    .filter(i -> types[i] == USER_DEFINED).boxed().toArray(Integer[]::new);
            Arrays.sort(ud, Comparator.comparingInt((Integer i) -> -tokens[i].length()).thenComparingInt(i -> i));
            for (int i : ud) {
                userDefinedTexts.add(tokens[i]);
                userDefinedIds.add(i);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static VocabFixture load(String name) {
        return CACHE.computeIfAbsent(name, VocabFixture::new);
    }

    int userDefinedCount() {
        return userDefinedTexts.size();
    }

    /** Encodes {@code text} with no BOS/EOS and no control-token parsing. */
    int[] encode(String text) {
        // fragments: String for raw text, Integer for a user-defined token
        List<Object> fragments = new ArrayList<>();
        fragments.add(text);
        for (int t = 0; t < userDefinedTexts.size(); t++) {
            String special = userDefinedTexts.get(t);
            List<Object> next = new ArrayList<>();
            for (Object frag : fragments) {
                if (!(frag instanceof String raw)) {
                    next.add(frag);
                    continue;
                }
                int from = 0;
                int at;
                while ((at = raw.indexOf(special, from)) >= 0) {
                    if (at > from) next.add(raw.substring(from, at));
                    next.add(userDefinedIds.get(t));
                    from = at + special.length();
                }
                if (from < raw.length()) next.add(raw.substring(from));
            }
            fragments = next;
        }
        IntList out = new IntList();
        for (Object frag : fragments) {
            if (frag instanceof Integer id) {
                out.accept(id);
            } else {
                for (String word : spec.preTokenizer().split((String) frag)) encoder.encode(word, out);
            }
        }
        return out.toArray();
    }

    /** The cases of an {@code .inp} file: split on the separator, the empty tail dropped. */
    static List<String> readInp(Path inp) throws IOException {
        String all = new String(Files.readAllBytes(inp), StandardCharsets.UTF_8);
        String sep = "\n__ggml_vocab_test__\n";
        List<String> cases = new ArrayList<>();
        int from = 0;
        int at;
        while ((at = all.indexOf(sep, from)) >= 0) {
            cases.add(all.substring(from, at));
            from = at + sep.length();
        }
        if (from != all.length()) throw new AssertionError(inp + ": text after the last separator");
        return cases;
    }

    /** The expected ids of an {@code .out} file, one array per line. */
    static List<int[]> readOut(Path out) throws IOException {
        String all = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
        String[] lines = all.split("\n", -1);
        int n = lines.length;
        if (n > 0 && lines[n - 1].isEmpty()) n--;
        List<int[]> result = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String line = lines[i].trim();
            result.add(line.isEmpty() ? new int[0]
                    : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        return result;
    }

    static final class IntList implements IntConsumer {
        private int[] a = new int[16];
        private int n;

        @Override
        public void accept(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
