package io.r1kit.data.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PromptTemplateTest {
    /**
     * Table 1 of "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning"
     * (arXiv:2501.12948), typed in from the paper; "prompt" is replaced with the question in training.
     */
    static final String PAPER_TABLE_1 = "A conversation between User and Assistant. The user asks a question, and the "
            + "Assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides "
            + "the user with the answer. The reasoning process and answer are enclosed within <think> </think> and "
            + "<answer> </answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here "
            + "</answer>. User: prompt. Assistant:";

    static Example ex(Map<String, Object> cols) {
        return new Example("t", cols);
    }

    @Test
    void r1ZeroTemplateIsThePapersTextWithTheQuestionSubstituted() {
        String q = "What is 17 * 23?";
        String rendered = new R1ZeroTemplate().render(ex(Map.of("prompt", q)));
        assertEquals(PAPER_TABLE_1.replace("User: prompt.", "User: " + q + "."), rendered);
        assertEquals(PAPER_TABLE_1, R1ZeroTemplate.apply("prompt"));
        assertEquals(rendered + " <think>\n", new R1ZeroTemplate().withThinkPrefill().render(ex(Map.of("prompt", q))),
                "the assistant opens with <think>");
        assertEquals("Q?", new R1ZeroTemplate("question").messages(ex(Map.of("question", "Q?"))).getFirst().content()
                .substring(PAPER_TABLE_1.indexOf("User: ") + 6, PAPER_TABLE_1.indexOf("User: ") + 8));
    }

    @Test
    void columnTemplateSubstitutesColumnsWithSystemPrompt() {
        ColumnTemplate t = new ColumnTemplate("Question: {question}\nLevel {level} {{literal}} {not a column} {\"json\": 1}\nAnswer:",
                "You are a careful solver.");
        Example e = ex(Map.of("question", "2+2?", "level", 3));
        assertEquals("You are a careful solver.\n\nQuestion: 2+2?\nLevel 3 {literal} {not a column} {\"json\": 1}\nAnswer:", t.render(e));
        assertEquals(List.of("question", "level"), t.columns());
        assertEquals(List.of(ChatMessage.system("You are a careful solver."),
                ChatMessage.user("Question: 2+2?\nLevel 3 {literal} {not a column} {\"json\": 1}\nAnswer:")), t.messages(e));
        DatasetException err = assertThrows(DatasetException.class, () -> t.render(ex(Map.of("question", "x"))));
        assertTrue(err.getMessage().contains("needs column 'level'"), err.getMessage());
    }

    @Test
    void prefillAppendsTheStartOfTheAssistantTurn() {
        PromptTemplate t = new ColumnTemplate("{prompt}\n").withThinkPrefill();
        assertEquals("hi\n<think>\n", t.render(ex(Map.of("prompt", "hi"))));
        assertEquals("user: 1+1?\nassistant: <think>\n", PromptTemplates.byName("toy").withThinkPrefill()
                .render(ex(Map.of("prompt", "1+1?"))));
    }

    @Test
    void namedTemplates() {
        Example e = ex(Map.of("prompt", "what is 2+3?"));
        assertEquals("user: what is 2+3?\nassistant:", PromptTemplates.byName("toy").render(e));
        assertEquals("what is 2+3?", PromptTemplates.byName("plain").render(e));
        assertEquals("Q: what is 2+3? A:", PromptTemplates.byName("Q: {prompt} A:").render(e));
        assertTrue(PromptTemplates.byName("r1-zero").render(e).startsWith("A conversation between User and Assistant."));
        assertThrows(DatasetException.class, () -> PromptTemplates.byName("r1zeroo"));
        assertEquals("Be exact.\n\nwhat is 2+3?\n<think>\n", PromptTemplates.of("{prompt}\n", "Be exact.", true).render(e));
        assertThrows(DatasetException.class, () -> PromptTemplates.of("r1-zero", "Be exact.", false));
    }

    @Test
    void chatTemplateHookGetsTheConversation() {
        ChatTemplateRenderer fake = (msgs, gen) -> msgs.stream().map(m -> "<|" + m.role() + "|>" + m.content())
                .collect(Collectors.joining()) + (gen ? "<|assistant|>" : "");
        ChatPromptTemplate t = new ChatPromptTemplate(fake, new ColumnTemplate("Solve: {prompt}"), "Think first.");
        assertEquals("<|system|>Think first.<|user|>Solve: 2+2<|assistant|>", t.render(ex(Map.of("prompt", "2+2"))));
        // Chat-format example: its own messages, the final assistant turn dropped; its system prompt kept.
        Example chat = ex(Map.of("messages", List.of(
                Map.of("role", "system", "content", "Be brief."),
                Map.of("role", "user", "content", "hi"),
                Map.of("role", "assistant", "content", "hello"))));
        assertEquals("<|system|>Be brief.<|user|>hi<|assistant|>", t.render(chat));
        assertEquals("<|user|>hi<|assistant|><think>\n",
                new ChatPromptTemplate(fake, new ColumnTemplate("{prompt}"), null).withThinkPrefill()
                        .render(ex(Map.of("prompt", "hi"))));
    }
}
