package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.arch.TokenScores;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A real vocabulary (Qwen3's tokenizer, 151k ids) on a one-layer random model: the fused scorer
 * crosses many row chunks (chunkRows = 4M / V = 27), the sampler runs top-p over 151k logits, and
 * stop strings are matched on real decoded text.
 */
class LargeVocabTest {
    static Path tokenizerDir() {
        String shared = System.getProperty("r1kit.shared");
        // fallback while the surefire config does not pass r1kit.shared: <module>/../../shared
        if (shared == null) shared = Path.of(System.getProperty("user.dir"), "..", "..", "shared").normalize().toString();
        Path p = Path.of(shared, "tokenizers", "qwen3");
        Assumptions.assumeTrue(p != null && Files.isRegularFile(p.resolve("tokenizer.json")),
                "skipped: shared Qwen3 tokenizer not found (system property r1kit.shared=" + shared + ")");
        return p;
    }

    @Test
    void qwen3VocabularyScoringAndSampling() throws IOException {
        try (HfTokenizer tok = HfTokenizer.load(tokenizerDir())) {
            ModelConfig c = ModelConfig.qwen3(tok.vocabSize(), 32, 64, 1, 2, 1).withTieEmbeddings(true);
            CausalLM m = CausalLM.random(c, 3);
            int V = c.vocabSize();
            // peaked but not trivial distributions: a larger embedding scale
            float[] e = m.embedTokens().data();
            for (int i = 0; i < e.length; i++) e[i] *= 40f;
            int[] prompt = tok.encode("The answer to 2 + 3 is", false);
            int[] completion = tok.encode(" 5, because two plus three makes five. ".repeat(6), false);
            Batch batch = Batch.of(List.of(prompt), List.of(completion));
            assertTrue(batch.T() > 2 * (1 << 22) / V, "several chunks of rows: T = " + batch.T());
            try (var ng = Grad.noGrad()) {
                TokenScores s = m.scoreTokens(batch, 0.9f, true);
                Tensor logits = F.scale(m.forward(batch.ids(), 1, batch.T(), null, null), 1f / 0.9f);
                Tensor lp = F.tokenLogProbs(logits, batch.targets());
                TorchRef.assertClose("fused vs materialised log-probs, V=" + V, lp.data(), s.logprobs().data(), 1e-4, 1e-5);
                TorchRef.assertClose("fused vs materialised entropy, V=" + V, F.entropy(logits).data(), s.entropy().data(), 1e-4, 1e-5);
            }
            SamplingParams sp = SamplingParams.sample(1f, 24, 5).withTopP(0.9f).withTopK(0).withStopStrings(List.of("e"));
            List<Completion> out = new Generator(m, tok).generate(List.of(prompt), 4, sp);
            for (Completion comp : out) {
                String text = tok.decode(comp.tokens(), false);
                if (comp.finishReason() == FinishReason.STOP) {
                    assertEquals("e", comp.stopReason());
                    assertTrue(text.contains("e") && !tok.decode(java.util.Arrays.copyOf(comp.tokens(), comp.length() - 1), false).contains("e"));
                } else {
                    assertEquals(24, comp.length());
                    assertTrue(!text.contains("e"));
                }
                List<float[]> tf = Scorer.logprobs(m, List.of(prompt), List.of(comp.tokens()), 2);
                for (int i = 0; i < comp.length(); i++) assertTrue(comp.logprobs()[i] >= tf.get(0)[i] - 1e-4f,
                        "top-p renormalisation can only raise a sampled token's log-prob");
            }
            // T = 1 without truncation: sampled == teacher-forced
            List<Completion> plain = new Generator(m, tok).generate(List.of(prompt), 2, SamplingParams.sample(1f, 12, 9).withIgnoreEos(true));
            for (Completion comp : plain) {
                float[] tf = Scorer.logprobs(m, List.of(prompt), List.of(comp.tokens()), 2).get(0);
                TorchRef.assertClose("sampled vs teacher-forced, V=" + V, tf, comp.logprobs(), 3e-5, 1e-5);
            }
            assertArrayEquals(plain.get(0).tokens(),
                    new Generator(m, tok).generate(List.of(prompt), 2, SamplingParams.sample(1f, 12, 9).withIgnoreEos(true)).get(0).tokens(),
                    "deterministic given the seed");
        }
    }
}
