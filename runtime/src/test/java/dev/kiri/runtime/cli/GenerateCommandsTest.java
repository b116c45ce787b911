package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiri.gguf.Fixtures;
import dev.kiri.runtime.GenerateOptions;
import dev.kiri.runtime.LoadOptions;
import dev.kiri.runtime.Message;
import dev.kiri.runtime.Model;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kiri run} and {@code kiri eval} on the fixture models, against llama.cpp's references. */
class GenerateCommandsTest {
    @TempDir
    Path tmp;

    private static final String F32 = Fixtures.file("models/tiny-llama-F32.gguf").toString();

    private static JsonNode greedy() throws Exception {
        return new ObjectMapper().readTree(Files.readString(Fixtures.file("refs/tiny-llama-F32.json"))).get("greedy_continuation");
    }

    @Test
    void runStreamsLlamaCppsGreedyContinuationAndPrintsTimingsOnStderr() throws Exception {
        JsonNode g = greedy();
        CliRun r = CliRun.of("run", "-m", F32, "-p", g.get("prompt").asText(), "-n", "32", "--temp", "0", "--kv", "f32", "-t", "1");
        assertEquals(0, r.status(), r.err());
        assertEquals(g.get("generated_text").asText() + System.lineSeparator(), r.out());
        assertTrue(r.err().matches("(?s).*kiri: max_tokens; load \\d+ ms, prompt 6 tokens at [\\d.]+ tok/s, 32 tokens generated, decode 31 tokens at [\\d.]+ tok/s.*"), r.err());
    }

    @Test
    void runStopsAtAStopStringWithoutPrintingIt() throws Exception {
        String text = greedy().get("generated_text").asText();
        int at = text.indexOf("your home");
        assertTrue(at > 0, text);
        CliRun r = CliRun.of("run", "-m", F32, "-p", "Once upon a time", "-n", "32", "--temp", "0", "--kv", "f32", "-t", "1",
                "--stop", "r ho");
        assertEquals(0, r.status(), r.err());
        assertEquals(text.substring(0, text.indexOf("r ho")) + System.lineSeparator(), r.out());
        assertTrue(r.err().contains("kiri: stop_string;"), r.err());
    }

    @Test
    void runWithChatAnswersThePromptAsAUserMessage() throws Exception {
        CliRun r = CliRun.of("run", "-m", F32, "-p", "Hello there", "--chat", "-s", "Be brief.", "-n", "8", "--temp", "0",
                "--kv", "f32", "-t", "1");
        assertEquals(0, r.status(), r.err());
        try (Model m = Model.load(Fixtures.file("models/tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(1).kvCache(LoadOptions.KvCacheType.F32))) {
            String expected = m.chat(List.of(Message.system("Be brief."), Message.user("Hello there")),
                    GenerateOptions.greedy().maxTokens(8), null).text();
            assertEquals(expected + System.lineSeparator(), r.out());
        }
    }

    @Test
    void evalWritesLogitsMatchingLlamaCpp() throws Exception {
        Path out = tmp.resolve("logits.f32");
        CliRun r = CliRun.of("eval", "-m", F32, "--tokens", "1,17,42,99,256,300,7,511,64,128,3,200,401,77,5,450",
                "--logits-out", out.toString(), "-t", "1");
        assertEquals(0, r.status(), r.err());
        float[] got = floats(Files.readAllBytes(out));
        float[] ref = floats(Files.readAllBytes(Fixtures.file("refs/tiny-llama-F32.logits.f32")));
        assertEquals(16 * 512, got.length);
        double max = 0;
        for (int i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(got[i] - ref[i]));
        assertTrue(max < 1e-4, "max |diff| " + max);
        assertTrue(r.out().lines().count() == 17, r.out());
        // The KV cache is sized to the tokens, not to the model's own context.
        assertTrue(r.err().contains("(context 16)"), r.err());
    }

    @Test
    void evalSaysWhenTheTokensDoNotFitTheContext() {
        CliRun r = CliRun.of("eval", "-m", F32, "--tokens", "1,17,42,99,256", "--ctx", "4", "-t", "1");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("5 tokens do not fit in a context of 4: give a larger --ctx"), r.err());
        CliRun ok = CliRun.of("eval", "-m", F32, "--tokens", "1,17,42,99,256", "--ctx", "0", "-t", "1");
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.err().contains("(context 256)"), "--ctx 0: the model's own context (256 positions): " + ok.err());
    }

    @Test
    void evalRejectsAnIdOutsideTheVocabulary() {
        CliRun r = CliRun.of("eval", "-m", F32, "--tokens", "1,512", "-t", "1");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("512") && r.err().contains("outside the vocabulary"), r.err());
    }

    @Test
    void runOnAMissingFileSaysSo() {
        CliRun r = CliRun.of("run", "-m", tmp.resolve("missing.gguf").toString(), "-p", "x");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("kiri run: no such file"), r.err());
    }

    private static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
