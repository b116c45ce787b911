package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgufFormatException;
import dev.kiri.gguf.GgufValue;
import java.lang.management.ManagementFactory;
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

    /**
     * The decode loop allocates nothing per token: the difference between a long and a short
     * generation, per extra token, once the JIT has compiled the loop. Without a tokenizer there is
     * no text, so only the result: its token array and the buffer it is copied from (4 bytes a token
     * each). With a tokenizer, also each token's text string and the growing result text.
     */
    @Test
    void theDecodeLoopAllocatesNothingPerToken() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Model withText = tiny(256);
             Model noText = TinyFixtures.idsOnly(TinyFixtures.model("tiny-llama-F32.gguf"),
                     LoadOptions.defaults().threads(1).contextLength(256).kvCache(LoadOptions.KvCacheType.F32))) {
            assertEquals(null, noText.tokenizer());
            double perTokenNoText = perExtraToken(noText, mx, 8);
            double perTokenText = perExtraToken(withText, mx, 128);
            assertTrue(perTokenNoText <= 8, perTokenNoText + " bytes per token without text");
            assertTrue(perTokenText <= 128, perTokenText + " bytes per token with text");
        }
    }

    /**
     * The same for the quantized decode kernels, with the default F16 KV cache: each model mixes its
     * named type with others (the fixtures' output and some FFN matrices are Q6_K or Q8_0), one after
     * the other in this JVM, as a service loading several models would. A kernel left unintrinsified
     * by C2 allocates a vector per block, hundreds of bytes per token even on these small matrices
     * (docs/KERNELS.md, "Steady-state allocation in decode").
     */
    @Test
    void theQuantizedDecodeLoopsAllocateNothingPerToken() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<String> failures = new ArrayList<>();
        for (String type : List.of("Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS")) {
            try (Model m = TinyFixtures.idsOnly(TinyFixtures.model("tiny-llama-" + type + ".gguf"),
                    LoadOptions.defaults().threads(1).contextLength(256))) {
                double perToken = perExtraToken(m, mx, 8);
                if (perToken > 8) failures.add(type + ": " + perToken + " bytes per token");
            }
        }
        assertEquals(List.of(), failures);
    }

    private static double perExtraToken(Model m, com.sun.management.ThreadMXBean mx, double enough) {
        int shortRun = 8;
        int longRun = 200;
        GenerateOptions s = GenerateOptions.greedy().maxTokens(shortRun).ignoreEndOfGeneration(true);
        GenerateOptions l = GenerateOptions.greedy().maxTokens(longRun).ignoreEndOfGeneration(true);
        int[] prompt = {1, 338, 384};
        // Each run's allocation only falls as the JIT warms up: the least of each over the rounds is
        // its warm value, and their difference is what the extra tokens allocate. (The difference
        // within one round can be negative while the short run still warms up, which once let a
        // kernel allocating on every call pass.) Done when a round lowers neither least value.
        long leastShort = Long.MAX_VALUE, leastLong = Long.MAX_VALUE;
        double per = Double.MAX_VALUE;
        for (int round = 0; round < 30; round++) {
            m.generate(new int[] {1, 2}, s, null); // a different prompt: no reuse of the cache below
            long b0 = mx.getCurrentThreadAllocatedBytes();
            m.generate(prompt, s, null);
            long b1 = mx.getCurrentThreadAllocatedBytes();
            m.generate(new int[] {1, 2}, s, null);
            long b2 = mx.getCurrentThreadAllocatedBytes();
            m.generate(prompt, l, null);
            long b3 = mx.getCurrentThreadAllocatedBytes();
            boolean settled = b1 - b0 >= leastShort && b3 - b2 >= leastLong; // no run fell further
            leastShort = Math.min(leastShort, b1 - b0);
            leastLong = Math.min(leastLong, b3 - b2);
            per = (leastLong - leastShort) / (double) (longRun - shortRun);
            if (settled && per <= enough) break;
        }
        return per;
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
