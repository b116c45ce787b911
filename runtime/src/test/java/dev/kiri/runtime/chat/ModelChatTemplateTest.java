package dev.kiri.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import dev.kiri.gguf.Fixtures;
import dev.kiri.runtime.GenerateOptions;
import dev.kiri.runtime.GenerationResult;
import dev.kiri.runtime.LoadOptions;
import dev.kiri.runtime.Message;
import dev.kiri.runtime.Model;
import dev.kiri.runtime.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

/** {@code Model.chat} renders with the model's chat template: here the fallback of a model without one. */
class ModelChatTemplateTest {
    @Test
    void chatWithAModelWithoutATemplateUsesThePlainFallback() throws Exception {
        try (Model m = Model.load(Fixtures.file("models/tiny-llama-Q8_0.gguf"), LoadOptions.defaults().threads(1).contextLength(128))) {
            List<Message> conversation = List.of(Message.system("Be brief."), Message.user("Once upon a time"));
            GenerationResult r = m.chat(conversation, GenerateOptions.greedy().maxTokens(3), null);

            Tokenizer tok = m.tokenizer();
            String prompt = ChatTemplate.fallback(tok.piece(tok.bos()), "").render(conversation, true);
            assertEquals("<s>System: Be brief.\n\nUser: Once upon a time\n\nAssistant:", prompt);
            int[] ids = tok.encode(prompt, false, true);
            assertEquals(tok.bos(), ids[0], "the fallback writes BOS");
            assertEquals(ids.length, r.promptTokens());
            assertArrayEquals(m.generate(ids, GenerateOptions.greedy().maxTokens(3), null).tokens(), r.tokens());
        }
    }
}
