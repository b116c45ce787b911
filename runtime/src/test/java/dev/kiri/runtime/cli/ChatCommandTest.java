package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.Fixtures;
import dev.kiri.runtime.GenerateOptions;
import dev.kiri.runtime.LoadOptions;
import dev.kiri.runtime.Message;
import dev.kiri.runtime.Model;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code kiri chat}: the conversation it keeps gives the answers the API gives for it. */
class ChatCommandTest {
    private static final String F32 = Fixtures.file("models/tiny-llama-F32.gguf").toString();

    @Test
    void eachLineIsATurnOfOneConversationUntilExit() throws Exception {
        CliRun r = CliRun.withInput("Hello there\nTell me a story\n/exit\nnot read\n",
                "chat", "-m", F32, "--temp", "0", "-n", "8", "--kv", "f32", "-t", "1", "-s", "Be brief.");
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.out());

        GenerateOptions o = GenerateOptions.greedy().maxTokens(8);
        try (Model m = Model.load(Fixtures.file("models/tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(1).kvCache(LoadOptions.KvCacheType.F32))) {
            List<Message> conversation = new ArrayList<>(List.of(Message.system("Be brief."), Message.user("Hello there")));
            String first = m.chat(conversation, o, null).text();
            conversation.add(Message.assistant(first));
            conversation.add(Message.user("Tell me a story"));
            String second = m.chat(conversation, o, null).text();
            assertEquals(first, lines.get(0));
            assertEquals(second, lines.get(1));
        }
        assertTrue(r.err().contains("/exit"), r.err());
    }

    @Test
    void resetForgetsTheConversation() {
        CliRun a = CliRun.withInput("Hello there\n", "chat", "-m", F32, "--temp", "0", "-n", "6", "--kv", "f32", "-t", "1");
        CliRun b = CliRun.withInput("Something else\n/reset\nHello there\n", "chat", "-m", F32, "--temp", "0", "-n", "6", "--kv", "f32", "-t", "1");
        assertEquals(0, a.status(), a.err());
        assertEquals(0, b.status(), b.err());
        assertEquals(a.out().lines().toList().get(0), b.out().lines().toList().get(1));
    }
}
