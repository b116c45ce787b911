package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgufFormatException;
import dev.kiri.gguf.GgufValue;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Context limits and shift, concurrency, memory, and bad input. */
class ModelContextTest {
    @TempDir
    Path tmp;

    private static final int[] PROMPT = {1, 338, 384, 458, 261, 314};

    private static Model tiny(int context) throws Exception {
        return TinyFixtures.load(TinyFixtures.model("tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(1).contextLength(context).kvCache(LoadOptions.KvCacheType.F32));
    }

    @Test
    void contextLengthIsCappedByTheModelsAndTheCacheIsReservedAndReported() throws Exception {
        try (Model m = tiny(100_000)) {
            assertEquals(256, m.contextLength(), "the fixture models were trained for 256 positions");
            // 2 layers x 2 KV heads x 256 positions x 64 x (K and V) x 4 bytes
            assertEquals(2L * 2 * 256 * 64 * 2 * 4, m.kvCacheBytes());
        }
        try (Model m = TinyFixtures.load(TinyFixtures.model("tiny-llama-F32.gguf"), LoadOptions.defaults().threads(1).contextLength(32))) {
            assertEquals(32, m.contextLength());
            assertEquals(2L * 2 * 32 * 64 * 2 * 2, m.kvCacheBytes(), "F16 by default");
        }
    }

    @Test
    void aContextWhoseCacheCannotFitTheHeapIsAClearError() throws Exception {
        // 2^26 positions: 64 GiB of F16 keys and values for the tiny llama, beyond any test JVM's heap.
        Path huge = TinyFixtures.withMetadata(tmp, "llama.context_length", dev.kiri.gguf.GgufValue.ofUInt32(1 << 26));
        var e = assertThrows(IllegalArgumentException.class,
                () -> TinyFixtures.load(huge, LoadOptions.defaults().threads(1).contextLength(0)));
        assertTrue(e.getMessage().contains("a context of 67108864 positions needs 68719 MB of F16 KV cache")
                && e.getMessage().contains("-Xmx"), e.getMessage());
        // Asked for less, the same file loads.
        try (Model m = TinyFixtures.load(huge, LoadOptions.defaults().threads(1).contextLength(64))) {
            assertEquals(64, m.contextLength());
        }
    }

    @Test
    void aFullContextEndsTheGeneration() throws Exception {
        try (Model m = tiny(16)) {
            GenerationResult r = m.generate(PROMPT, GenerateOptions.greedy().maxTokens(-1).ignoreEndOfGeneration(true), null);
            assertEquals(FinishReason.CONTEXT_FULL, r.finishReason());
            // Positions 6..15 hold 10 generated tokens; the 11th came from the last position's logits.
            assertEquals(16 - PROMPT.length + 1, r.tokens().length);
            assertThrows(ContextFullException.class, () -> m.generate(new int[17], GenerateOptions.greedy(), null));
            var e = assertThrows(ContextFullException.class, () -> m.logits(new int[17]));
            assertTrue(e.getMessage().contains("17 tokens do not fit in the context length of 16"), e.getMessage());
        }
    }

    /**
     * With a shift, generation runs past the context. The token after the first shift must be the
     * one a fresh sequence gives for the kept window: the first {@code keep} tokens, the newer half
     * of the rest, and the pending token.
     */
    @Test
    void contextShiftKeepsTheFirstTokensAndTheNewerHalf() throws Exception {
        int keep = 2;
        GenerateOptions o = GenerateOptions.greedy().maxTokens(40).ignoreEndOfGeneration(true);
        int[] g;
        try (Model m = tiny(16)) {
            GenerationResult r = m.generate(PROMPT, o.contextShift(keep), null);
            assertEquals(FinishReason.MAX_TOKENS, r.finishReason());
            g = r.tokens();
            assertEquals(40, g.length);
        }
        int[] seq = new int[PROMPT.length + g.length];
        System.arraycopy(PROMPT, 0, seq, 0, PROMPT.length);
        System.arraycopy(g, 0, seq, PROMPT.length, g.length);
        // The cache is full with seq[0..16); token seq[16] is pending. Drop (16 - keep) / 2 = 7.
        int discard = (16 - keep) / 2;
        int[] window = new int[16 - discard + 1];
        System.arraycopy(seq, 0, window, 0, keep);
        System.arraycopy(seq, keep + discard, window, keep, 16 - keep - discard);
        window[window.length - 1] = seq[16];
        try (Model m = tiny(64)) {
            int next = m.generate(window, GenerateOptions.greedy().maxTokens(1).ignoreEndOfGeneration(true), null).tokens()[0];
            assertEquals(seq[17], next);
            // Before the shift, the shifted run and an unlimited one agree.
            int[] unlimited = m.generate(PROMPT, o, null).tokens();
            assertArrayEquals(Arrays.copyOf(unlimited, 11), Arrays.copyOf(g, 11));
        }
    }

    /** Two threads generating at once on one model give what each gives alone. */
    @Test
    void concurrentGenerationsDoNotDisturbEachOther() throws Exception {
        int[][] prompts = {PROMPT, {1, 300, 301, 302}, {1, 17, 42, 99, 256}, {1, 450, 77}};
        GenerateOptions o = GenerateOptions.greedy().maxTokens(40).ignoreEndOfGeneration(true);
        try (Model m = TinyFixtures.load(TinyFixtures.model("tiny-llama-Q8_0.gguf"), LoadOptions.defaults().threads(2))) {
            int[][] alone = new int[prompts.length][];
            for (int i = 0; i < prompts.length; i++) alone[i] = m.generate(prompts[i], o, null).tokens();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 2; round++) {
                    CyclicBarrier start = new CyclicBarrier(2);
                    List<Future<List<int[]>>> futures = new ArrayList<>();
                    for (int t = 0; t < 2; t++) {
                        int first = t;
                        futures.add(pool.submit(() -> {
                            start.await();
                            List<int[]> out = new ArrayList<>();
                            for (int i = first; i < prompts.length; i += 2) out.add(m.generate(prompts[i], o, null).tokens());
                            return out;
                        }));
                    }
                    for (int t = 0; t < 2; t++) {
                        List<int[]> got = futures.get(t).get();
                        for (int k = 0; k < got.size(); k++) {
                            assertArrayEquals(alone[t + 2 * k], got.get(k), "round " + round + ", prompt " + (t + 2 * k));
                        }
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void badInputsGiveClearErrors() throws Exception {
        assertThrows(NoSuchFileException.class, () -> Model.load(tmp.resolve("missing.gguf")));
        Path junk = Files.writeString(tmp.resolve("junk.gguf"), "not a model at all");
        assertThrows(GgufFormatException.class, () -> Model.load(junk));
        Path mamba = TinyFixtures.withMetadata(tmp, "general.architecture", GgufValue.ofString("mamba"));
        var e = assertThrows(UnsupportedModelException.class, () -> Model.load(mamba));
        assertTrue(e.getMessage().contains("mamba") && e.getMessage().contains("llama") && e.getMessage().contains("qwen2"), e.getMessage());

        try (Model m = TinyFixtures.idsOnly(TinyFixtures.model("tiny-llama-Q4_0.gguf"), LoadOptions.defaults().threads(1).contextLength(32))) {
            var noTok = assertThrows(UnsupportedModelException.class, () -> m.generate("hello", GenerateOptions.greedy(), null));
            assertTrue(noTok.getMessage().contains("tokenizer"), noTok.getMessage());
            var noTemplate = assertThrows(UnsupportedModelException.class, () -> m.chat(List.of(Message.user("hi")), GenerateOptions.greedy(), null));
            assertTrue(noTemplate.getMessage().contains("chat template"), noTemplate.getMessage());
            var badId = assertThrows(IllegalArgumentException.class, () -> m.generate(new int[] {1, 512}, GenerateOptions.greedy(), null));
            assertTrue(badId.getMessage().contains("512"), badId.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.generate(new int[0], GenerateOptions.greedy(), null));
            m.close();
            assertThrows(IllegalStateException.class, () -> m.generate(new int[] {1}, GenerateOptions.greedy(), null));
        }
    }

    @Test
    void anExceptionFromTheListenerPropagatesAndTheModelStaysUsable() throws Exception {
        try (Model m = tiny(64)) {
            GenerateOptions o = GenerateOptions.greedy().maxTokens(10).ignoreEndOfGeneration(true);
            int[] expected = m.generate(PROMPT, o, null).tokens();
            int[] seen = {0};
            assertThrows(IllegalStateException.class, () -> m.generate(new int[] {1, 300}, o, (text, id) -> {
                if (++seen[0] == 3) throw new IllegalStateException("listener failed");
            }));
            assertArrayEquals(expected, m.generate(PROMPT, o, null).tokens());
        }
    }
}
