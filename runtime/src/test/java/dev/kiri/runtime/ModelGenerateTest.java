package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The generation loop of {@link Model} on the tiny fixture models. */
class ModelGenerateTest {
    @TempDir
    static Path tmp;
    static Model llama;

    @BeforeAll
    static void load() throws Exception {
        llama = TinyFixtures.load(TinyFixtures.model("tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(2).kvCache(LoadOptions.KvCacheType.F32));
    }

    @AfterAll
    static void close() {
        llama.close();
    }

    static Stream<Arguments> f32Models() {
        return Stream.of(
                Arguments.of("tiny-llama-F32", null),
                Arguments.of("tiny-qwen2-F32", "tiny-qwen2-F16.gguf"),
                Arguments.of("tiny-phi3-F32", "tiny-phi3-F16.gguf"),
                Arguments.of("tiny-exaone-F32", "tiny-exaone-F16.gguf"),
                Arguments.of("tiny-gemma-F32", "tiny-gemma-F16.gguf"));
    }

    /** llama.cpp's 32-token greedy continuation of "Once upon a time", through the public API. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("f32Models")
    void greedyGenerationReproducesLlamaCpp(String stem, String f16Twin) throws Exception {
        String json = TinyFixtures.sidecar(stem);
        int[] prompt = TinyFixtures.intArray(json, "prompt_tokens_with_bos");
        int[] expected = TinyFixtures.intArray(json, "generated_tokens");
        Path file = f16Twin == null ? TinyFixtures.model(stem + ".gguf") : TinyFixtures.widenToF32(TinyFixtures.model(f16Twin), tmp);
        try (Model m = TinyFixtures.load(file, LoadOptions.defaults().threads(2).kvCache(LoadOptions.KvCacheType.F32))) {
            List<Integer> streamed = new ArrayList<>();
            GenerationResult r = m.generate(prompt, GenerateOptions.greedy().maxTokens(expected.length),
                    (text, id) -> {
                        if (id >= 0) streamed.add(id);
                    });
            assertArrayEquals(expected, r.tokens(), stem);
            assertEquals(FinishReason.MAX_TOKENS, r.finishReason());
            assertEquals(expected.length, streamed.size());
            assertEquals(prompt.length, r.promptTokens());
            assertEquals(prompt.length, r.timings().promptTokens());
            // The first token comes from the prompt's logits; the last one is not run.
            assertEquals(expected.length - 1, r.timings().decodeTokens());
            assertTrue(r.timings().decodeTokensPerSecond() > 0);
        }
    }

    /** The public loader builds the model's own tokenizer: the text prompt gives llama.cpp's ids and continuation. */
    @Test
    void textPromptGivesLlamaCppsTokensAndText() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(TinyFixtures.sidecar("tiny-llama-F32")).get("greedy_continuation");
        int[] expected = TinyFixtures.intArray(TinyFixtures.sidecar("tiny-llama-F32"), "generated_tokens");
        try (Model m = Model.load(TinyFixtures.model("tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(2).kvCache(LoadOptions.KvCacheType.F32))) {
            GenerationResult r = m.generate(json.get("prompt").asText(), GenerateOptions.greedy().maxTokens(expected.length), null);
            assertEquals(json.get("prompt_tokens_with_bos").size(), r.promptTokens());
            assertArrayEquals(expected, r.tokens());
            assertEquals(json.get("generated_text").asText(), r.text());
        }
    }

    @Test
    void textStreamedToTheListenerIsTheResultText() {
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = llama.generate("Once upon a time", GenerateOptions.greedy().maxTokens(32),
                (text, id) -> streamed.append(text));
        assertEquals(r.text(), streamed.toString());
        assertEquals(llama.tokenizer().decode(r.tokens(), false), r.text());
        assertFalse(r.text().isEmpty());
    }

    @Test
    void sameSeedGivesTheSameTokens() {
        GenerateOptions o = GenerateOptions.defaults().temperature(1.2f).topK(0).topP(1f).minP(0f).maxTokens(32).seed(1234);
        int[] prompt = {1, 338, 384, 458, 261, 314};
        GenerationResult a = llama.generate(prompt, o, null);
        GenerationResult b = llama.generate(prompt, o, null);
        GenerationResult c = llama.generate(prompt, o.seed(99), null);
        assertArrayEquals(a.tokens(), b.tokens());
        assertEquals(1234, a.seed());
        assertFalse(Arrays.equals(a.tokens(), c.tokens()), "another seed should draw other tokens");
        GenerationResult fresh = llama.generate(prompt, GenerateOptions.defaults().maxTokens(4), null);
        assertArrayEquals(llama.generate(prompt, GenerateOptions.defaults().maxTokens(4).seed(fresh.seed()), null).tokens(),
                fresh.tokens(), "the reported seed reproduces an unseeded generation");
    }

    /** A stop string made of the end of one token's text and the start of the next one's. */
    @Test
    void stopStringSpanningTokensIsNeverEmitted() {
        int[] prompt = {1, 338, 384, 458, 261, 314};
        GenerationResult full = llama.generate(prompt, GenerateOptions.greedy().maxTokens(32), null);
        int[] ids = full.tokens();
        // Find adjacent tokens whose texts are plain (two or more characters each).
        String stop = null;
        for (int i = 4; i + 1 < ids.length && stop == null; i++) {
            String a = new String(llama.tokenizer().tokenBytes(ids[i], false), java.nio.charset.StandardCharsets.UTF_8);
            String b = new String(llama.tokenizer().tokenBytes(ids[i + 1], false), java.nio.charset.StandardCharsets.UTF_8);
            if (a.length() >= 2 && b.length() >= 2 && !a.contains("\uFFFD") && !b.contains("\uFFFD")) {
                stop = a.substring(a.length() - 2) + b.substring(0, 2);
            }
        }
        assertTrue(stop != null, "no two plain adjacent tokens in " + full.text());
        int at = full.text().indexOf(stop);
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = llama.generate(prompt, GenerateOptions.greedy().maxTokens(32).stop("never there", stop),
                (text, id) -> streamed.append(text));
        assertEquals(FinishReason.STOP_STRING, r.finishReason());
        assertEquals(full.text().substring(0, at), r.text());
        assertEquals(r.text(), streamed.toString());
        assertFalse(streamed.toString().contains(stop));
        // Held-back text that never became a stop string arrives at the end.
        String partial = stop.substring(0, 3) + "\u0000";
        StringBuilder s2 = new StringBuilder();
        GenerationResult r2 = llama.generate(prompt, GenerateOptions.greedy().maxTokens(32).stop(partial), (text, id) -> s2.append(text));
        assertEquals(FinishReason.MAX_TOKENS, r2.finishReason());
        assertEquals(full.text(), r2.text());
        assertEquals(full.text(), s2.toString());
    }

    @Test
    void longPromptsReportProgressPerBatchAndGiveTheSameTokensAsOneBatch() throws Exception {
        int[] prompt = {1, 17, 42, 99, 256, 300, 7, 511, 64, 128};
        int[] oneBatch = llama.generate(prompt, GenerateOptions.greedy().maxTokens(8), null).tokens();
        try (Model m = TinyFixtures.load(TinyFixtures.model("tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(1).batchSize(4).kvCache(LoadOptions.KvCacheType.F32))) {
            List<String> progress = new ArrayList<>();
            GenerationResult r = m.generate(prompt, GenerateOptions.greedy().maxTokens(8), new TokenListener() {
                @Override
                public void onToken(String text, int tokenId) {
                }

                @Override
                public void onPromptProgress(int evaluated, int total) {
                    progress.add(evaluated + "/" + total);
                }
            });
            assertEquals(List.of("4/10", "8/10", "10/10"), progress);
            assertArrayEquals(oneBatch, r.tokens());
        }
    }

    @Test
    void cancellationFromTheListener() {
        Cancellation c = new Cancellation();
        int[] seen = {0};
        GenerationResult r = llama.generate(new int[] {1, 338}, GenerateOptions.greedy().maxTokens(100).cancellation(c),
                (text, id) -> {
                    if (++seen[0] == 5) c.cancel();
                });
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(5, r.tokens().length);
    }

    @Test
    void cancellationFromAnotherThread() throws Exception {
        Cancellation c = new Cancellation();
        CountDownLatch third = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        Thread canceller = Thread.ofPlatform().start(() -> {
            try {
                third.await();
                c.cancel();
                cancelled.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        int[] seen = {0};
        GenerationResult r = llama.generate(new int[] {1, 338}, GenerateOptions.greedy().maxTokens(100).cancellation(c),
                (text, id) -> {
                    if (++seen[0] == 3) {
                        third.countDown();
                        try {
                            assertTrue(cancelled.await(10, TimeUnit.SECONDS));
                        } catch (InterruptedException e) {
                            throw new AssertionError(e);
                        }
                    }
                });
        canceller.join();
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(3, r.tokens().length);
        // Cancelled before it starts: no token at all.
        GenerationResult none = llama.generate(new int[] {1, 338}, GenerateOptions.greedy().cancellation(c), null);
        assertEquals(FinishReason.CANCELLED, none.finishReason());
        assertEquals(0, none.tokens().length);
    }

    @Test
    void endOfGenerationTokenEndsTheGenerationAndIsNotPartOfIt() throws Exception {
        // Make the EOS id the token greedy decoding picks third, so that generation must stop there.
        int[] prompt = {1, 338, 384, 458, 261, 314};
        int[] greedy = llama.generate(prompt, GenerateOptions.greedy().maxTokens(8), null).tokens();
        Path variant = TinyFixtures.withMetadata(tmp, "tokenizer.ggml.eos_token_id", dev.kiri.gguf.GgufValue.ofUInt32(greedy[2]));
        try (Model m = TinyFixtures.load(variant, LoadOptions.defaults().threads(1).kvCache(LoadOptions.KvCacheType.F32))) {
            GenerationResult r = m.generate(prompt, GenerateOptions.greedy().maxTokens(8), null);
            assertEquals(FinishReason.END_OF_GENERATION, r.finishReason());
            assertArrayEquals(Arrays.copyOf(greedy, 2), r.tokens());
            GenerationResult ignoring = m.generate(prompt, GenerateOptions.greedy().maxTokens(8).ignoreEndOfGeneration(true), null);
            assertArrayEquals(greedy, ignoring.tokens());
        }
    }

    @Test
    void aRepeatedOrExtendedPromptReusesTheCache() {
        int[] prompt = {1, 338, 384, 458, 261, 314};
        GenerationResult a = llama.generate(prompt, GenerateOptions.greedy().maxTokens(6), null);
        GenerationResult b = llama.generate(prompt, GenerateOptions.greedy().maxTokens(6), null);
        assertArrayEquals(a.tokens(), b.tokens());
        assertEquals(1, b.timings().promptTokens(), "only the last prompt token runs again");
        // The prompt and the answer, then more: only the tokens not yet in the cache are evaluated.
        int[] longer = new int[prompt.length + 6 + 2];
        System.arraycopy(prompt, 0, longer, 0, prompt.length);
        System.arraycopy(b.tokens(), 0, longer, prompt.length, 6);
        longer[longer.length - 2] = 300;
        longer[longer.length - 1] = 301;
        GenerationResult c = llama.generate(longer, GenerateOptions.greedy().maxTokens(4), null);
        // The answer's last token was not run (the generation stopped at maxTokens): it comes with the new two.
        assertEquals(3, c.timings().promptTokens());
        try (Model fresh = TinyFixtures.load(TinyFixtures.model("tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(1).kvCache(LoadOptions.KvCacheType.F32))) {
            GenerationResult d = fresh.generate(longer, GenerateOptions.greedy().maxTokens(4), null);
            assertEquals(longer.length, d.timings().promptTokens());
            assertArrayEquals(d.tokens(), c.tokens());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void chatRendersTheTemplateAndGenerates() {
        List<Message> conversation = List.of(Message.system("Be brief."), Message.user("Once upon a time"));
        GenerationResult r = llama.chat(conversation, GenerateOptions.greedy().maxTokens(8), null);
        int[] ids = llama.tokenizer().encode(TinyFixtures.render(conversation, true), false, true);
        assertEquals(1, ids[0], "the template writes BOS");
        GenerationResult direct = llama.generate(ids, GenerateOptions.greedy().maxTokens(8), null);
        assertArrayEquals(direct.tokens(), r.tokens());
        assertEquals(ids.length, r.promptTokens());
    }

    @Test
    void logitsOfEveryPositionMatchLlamaCpp() throws Exception {
        float[] ref = Refs.logits("tiny-llama-F32.logits.f32");
        float[] got = llama.logits(Refs.TOKENS);
        assertEquals(ref.length, got.length);
        double max = 0;
        for (int i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i] - got[i]));
        assertTrue(max < 1e-4, "max |diff| " + max);
    }
}
