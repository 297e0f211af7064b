package io.r1kit.grpo.rm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DType;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardConfigException;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardModelTest {

    static final CharTokenizer TOK = CharTokenizer.fromAlphabet("abcdefghijklmnopqrstuvwxyz0123456789 +-*=:?.,!'\n|_", CharTokenizer.REASONING_TAGS);

    static RewardModel tiny(long seed) {
        ModelConfig c = ModelConfig.llama(TOK.vocabSize(), 32, 64, 2, 2, 2).withRope(10000.0, RopeTables.Scaling.none(), 256);
        return RewardModel.fromPolicy(CausalLM.random(c, seed), new RewardModel.Encoding(true, true, 200), seed + 1);
    }

    @Test
    void scoreIsTheHeadAppliedToTheLastTokensHiddenStateAndIgnoresPadding() {
        RewardModel rm = tiny(1);
        int[] a = TOK.encode("user: hi\nassistant: hello.", true), b = TOK.encode("user: what is 2+2?\nassistant: 4. it is four.", true);
        float[] batched;
        float alone;
        float manual;
        try (var ng = Grad.noGrad()) {
            batched = rm.forward(List.of(a, b)).toArray();          // a is right-padded to b's length
            alone = rm.forward(List.of(a)).item();
            Tensor h = rm.backbone().forwardHidden(a, 1, a.length, null, null);   // [1, T, C]
            float[] hd = h.data(), w = rm.head().data();
            int c = w.length, off = (a.length - 1) * c;
            double s = 0;
            for (int k = 0; k < c; k++) s += hd[off + k] * w[k];
            manual = (float) s;
        }
        // same rows, masked padding: only summation order of the batched GEMMs differs
        assertEquals(alone, batched[0], 1e-5);
        assertEquals(manual, alone, 1e-5);
        assertNotEquals(batched[0], batched[1]);
        float[] viaScore = rm.score(List.of(b, a), 1);
        assertEquals(batched[1], viaScore[0], 1e-5);
        assertEquals(batched[0], viaScore[1], 1e-5);
    }

    @Test
    void encodeAppendsEosAndKeepsTheLastMaxLengthTokens() {
        RewardModel rm = RewardModel.fromPolicy(tiny(2).backbone(), new RewardModel.Encoding(true, true, 5), 3);
        int[] ids = rm.encode(TOK, "ab", "cdef");
        // BOS a b c d e f EOS → keep the last 5: c d e f EOS
        int[] all = TOK.encode("abcdef", true);
        assertArrayEquals(new int[] {all[3], all[4], all[5], all[6], TOK.eosId().getAsInt()}, ids);
    }

    @Test
    void saveLoadRoundTripKeepsScoresAndSettings(@TempDir Path tmp) throws Exception {
        RewardModel rm = tiny(3);
        rm.setScoreStats(0.25, 2.0);
        Path dir = tmp.resolve("rm");
        rm.save(dir);
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals(1, cfg.get("num_labels").asInt());
        assertEquals("LlamaForCausalLM", cfg.get("architectures").get(0).asText());
        assertEquals(RewardModel.HEAD, cfg.get(RewardModel.CONFIG_KEY).get("head").asText());
        assertEquals(200, cfg.get(RewardModel.CONFIG_KEY).get("max_length").asInt());

        RewardModel back = RewardModel.load(dir);
        assertEquals(0.25, back.scoreMean());
        assertEquals(2.0, back.scoreStd());
        assertEquals(rm.encoding(), back.encoding());
        List<int[]> seqs = List.of(TOK.encode("user: hi\nassistant: yes.", true), TOK.encode("no", true));
        assertArrayEquals(rm.score(seqs, 2), back.score(seqs, 2));    // F32 on disk: bit-identical

        // a policy checkpoint has no head: a clear error naming the tensor
        Path policy = tmp.resolve("policy");
        rm.backbone().save(policy, DType.F32);
        var e = assertThrows(java.io.IOException.class, () -> RewardModel.load(policy));
        assertTrue(e.getMessage().contains("score.weight"), e.getMessage());
    }

    @Test
    void summaryScopeScoresThePromptWithoutPrefillAndTheTextAfterTheReasoning() {
        RewardModel rm = tiny(4);
        RewardModelReward full = new RewardModelReward(rm, TOK, RewardModelReward.Scope.FULL, 4, Double.NaN, Double.NaN,
                "<think>", "</think>", "|special_token|");
        RewardModelReward summary = new RewardModelReward(rm, TOK, RewardModelReward.Scope.SUMMARY, 4, Double.NaN, Double.NaN,
                "<think>", "</think>", "|special_token|");
        Completion c = new Completion("x", "user: what is 2+3?\nassistant: <think>\n", "2+3=5, check 5-3=2 </think> <answer> 5 </answer>",
                null, "stop", Map.of());
        assertArrayEquals(new String[] {"user: what is 2+3?\nassistant: <think>\n", "2+3=5, check 5-3=2 </think> <answer> 5 </answer>"},
                full.scoredText(c));
        assertArrayEquals(new String[] {"user: what is 2+3?\nassistant: ", "<answer> 5 </answer>"}, summary.scoredText(c));

        // cold-start format: the summary follows the second special token
        Completion cs = new Completion("y", "user: q\nassistant:", "|special_token|2+3=5|special_token| the answer is 5.", null, "stop", Map.of());
        assertArrayEquals(new String[] {"user: q\nassistant:", "the answer is 5."}, summary.scoredText(cs));
        // no reasoning block: all summary; an unclosed one: empty summary
        assertEquals("hello.", RewardModelReward.summary("  hello.", "<think>", "</think>", "|special_token|"));
        assertEquals("", RewardModelReward.summary("<think> still going", "<think>", "</think>", "|special_token|"));
        assertEquals("", RewardModelReward.summary("|special_token|only reasoning", "<think>", "</think>", "|special_token|"));

        // the scores are the model's scores of exactly those texts
        List<Double> sf = full.score(List.of(c)), ss = summary.score(List.of(c));
        float[] expect = rm.score(List.of(rm.encode(TOK, c.prompt(), c.text()),
                rm.encode(TOK, "user: what is 2+3?\nassistant: ", "<answer> 5 </answer>")), 2);
        assertEquals(expect[0], sf.get(0), 1e-5);
        assertEquals(expect[1], ss.get(0), 1e-5);
        assertNotEquals(sf.get(0), ss.get(0));
    }

    @Test
    void registeredAsRewardModelByServiceLoaderWithNormalisation(@TempDir Path tmp) throws Exception {
        RewardModel rm = tiny(5);
        rm.setScoreStats(0.5, 4.0);
        Path dir = tmp.resolve("rm");
        rm.save(dir);
        TOK.save(dir);
        RewardRegistry reg = RewardRegistry.builtins();
        assertTrue(reg.names().contains("reward_model"), reg.names().toString());
        RewardFunction raw = reg.createByName("reward_model", Map.of("path", dir.toString()));
        RewardFunction norm = reg.createByName("reward_model", Map.of("path", dir.toString(), "normalize", true));
        RewardFunction given = reg.createByName("reward_model", Map.of("path", dir.toString(), "normalize", true, "mean", 1.0, "std", 0.5));
        Completion c = new Completion("x", "user: hi\nassistant:", " hello.", null, "stop", Map.of());
        double r = raw.score(List.of(c)).get(0);
        assertEquals(rm.score(List.of(rm.encode(TOK, c.prompt(), c.text())), 1)[0], r, 1e-6);
        assertEquals((r - 0.5) / 4.0, norm.score(List.of(c)).get(0), 1e-9);
        assertEquals((r - 1.0) / 0.5, given.score(List.of(c)).get(0), 1e-9);

        var e = assertThrows(RewardConfigException.class, () -> reg.createByName("reward_model", Map.of("path", dir.toString(), "scope", "think")));
        assertTrue(e.getMessage().contains("scope"), e.getMessage());
        e = assertThrows(RewardConfigException.class, () -> reg.createByName("reward_model", Map.of()));
        assertTrue(e.getMessage().contains("path"), e.getMessage());
        e = assertThrows(RewardConfigException.class, () -> reg.createByName("reward_model", Map.of("path", tmp.resolve("nope").toString())));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        assertTrue(Files.exists(dir.resolve("tokenizer.json")));
    }
}
