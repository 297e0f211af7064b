package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.ArchTestSupport;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.tensor.Backends;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cached decode path against full recomputation and against teacher-forced scoring, ragged
 * batches, group sampling, determinism and stop conditions.
 */
class GeneratorTest {
    /**
     * Decode (GEMMs with M = live rows, per-row attention over the cache) and full forward (M = B·T,
     * batched attention) compute the same float32 sums in different blockings: observed differences
     * ~1e-6 on log-probs of magnitude ≤ 10.
     */
    static final double LP_TOL = 3e-5;

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("llama3", ArchTestSupport.llama3()),
                Arguments.of("qwen2-tied", ArchTestSupport.qwen2Tied()),
                Arguments.of("qwen3", ArchTestSupport.qwen3()),
                Arguments.of("llama-tied", ArchTestSupport.llamaTied()));
    }

    static CausalLM model(ModelConfig c, long seed) {
        CausalLM m = CausalLM.random(c, seed);
        ArchTestSupport.perturb(m, seed + 1);
        return m;
    }

    static List<int[]> prompts(int vocab) {
        return List.of(ArchTestSupport.randomIds(1, 5, vocab), ArchTestSupport.randomIds(2, 9, vocab),
                ArchTestSupport.randomIds(3, 2, vocab));
    }

    /** log-softmax(logits / temp) of the last position of one sequence, by full forward (no cache). */
    static float[] lastLogSoftmax(CausalLM m, int[] seq, float temp) {
        try (var ng = Grad.noGrad()) {
            Tensor logits = m.forward(seq, 1, seq.length, null, null);
            int V = m.config().vocabSize();
            float[] row = Arrays.copyOfRange(logits.data(), (seq.length - 1) * V, seq.length * V);
            double mx = Double.NEGATIVE_INFINITY, s = 0;
            for (float x : row) mx = Math.max(mx, x / temp);
            for (float x : row) s += Math.exp(x / temp - mx);
            float[] out = new float[V];
            for (int i = 0; i < V; i++) out[i] = (float) (row[i] / temp - mx - Math.log(s));
            return out;
        }
    }

    static int[] concat(int[] a, int[] b, int bLen) {
        int[] r = Arrays.copyOf(a, a.length + bLen);
        System.arraycopy(b, 0, r, a.length, bLen);
        return r;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void greedyWithCacheEqualsFullRecompute(String name, ModelConfig c) {
        CausalLM m = model(c, 5);
        List<int[]> prompts = prompts(c.vocabSize());
        List<Completion> out = new Generator(m).generate(prompts, SamplingParams.greedy(12).withIgnoreEos(true));
        for (int p = 0; p < prompts.size(); p++) {
            Completion comp = out.get(p);
            assertEquals(12, comp.length(), name + " prompt " + p + " length");
            assertEquals(FinishReason.LENGTH, comp.finishReason());
            for (int i = 0; i < comp.length(); i++) {
                float[] ls = lastLogSoftmax(m, concat(prompts.get(p), comp.tokens(), i), 1f);
                int arg = 0;
                for (int v = 1; v < ls.length; v++) if (ls[v] > ls[arg]) arg = v;
                assertEquals(arg, comp.tokens()[i], name + " prompt " + p + " token " + i + " (cached vs full recompute)");
                assertEquals(ls[arg], comp.logprobs()[i], LP_TOL, name + " greedy log-prob (raw) at " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void sampledLogprobsEqualTeacherForced(String name, ModelConfig c) {
        CausalLM m = model(c, 7);
        List<int[]> prompts = prompts(c.vocabSize());
        int n = 3;
        for (float temp : new float[] {1f, 0.7f}) {
            SamplingParams sp = SamplingParams.sample(temp, 10, 99).withIgnoreEos(true)
                    .withLogprobMode(temp == 1f ? LogprobMode.PROCESSED : LogprobMode.TEMPERATURE);
            List<Completion> out = new Generator(m).generate(prompts, n, sp);
            assertEquals(prompts.size() * n, out.size());
            List<int[]> ps = new ArrayList<>(), cs = new ArrayList<>();
            for (Completion comp : out) {
                ps.add(prompts.get(comp.promptIndex()));
                cs.add(comp.tokens());
            }
            List<Scorer.Scores> tf = Scorer.score(m, ps, cs, temp, false, 4);
            for (int i = 0; i < out.size(); i++) {
                TorchRef.assertClose(name + " T=" + temp + " completion " + i + " sampled vs teacher-forced log-probs",
                        tf.get(i).logprobs(), out.get(i).logprobs(), LP_TOL, 0);
            }
        }
    }

    /** PROCESSED log-probs with top-k / top-p / min-p = log of the renormalised truncated distribution. */
    @Test
    void processedLogprobsUnderTruncation() {
        ModelConfig c = ArchTestSupport.llama3();
        CausalLM m = model(c, 9);
        List<int[]> prompts = prompts(c.vocabSize());
        float temp = 0.8f;
        SamplingParams[] variants = {
                SamplingParams.sample(temp, 6, 3).withTopK(5),
                SamplingParams.sample(temp, 6, 3).withTopP(0.6f),
                SamplingParams.sample(temp, 6, 3).withMinP(0.1f),
                SamplingParams.sample(temp, 6, 3).withTopK(20).withTopP(0.9f).withMinP(0.05f)};
        for (SamplingParams sp : variants) {
            sp = sp.withIgnoreEos(true);
            for (Completion comp : new Generator(m).generate(prompts, 2, sp)) {
                for (int i = 0; i < comp.length(); i++) {
                    float[] ls = lastLogSoftmax(m, concat(prompts.get(comp.promptIndex()), comp.tokens(), i), temp);
                    boolean[] keep = survivors(ls, sp);
                    assertTrue(keep[comp.tokens()[i]], sp + ": sampled token " + comp.tokens()[i] + " is outside the truncated set");
                    double mass = 0;
                    for (int v = 0; v < ls.length; v++) if (keep[v]) mass += Math.exp(ls[v]);
                    assertEquals(ls[comp.tokens()[i]] - Math.log(mass), comp.logprobs()[i], LP_TOL, sp + " processed log-prob");
                }
            }
        }
    }

    /** The truncation rules written out directly (sort everything), independent of Sampler's thresholding. */
    static boolean[] survivors(float[] ls, SamplingParams sp) {
        int V = ls.length;
        Integer[] order = new Integer[V];
        for (int i = 0; i < V; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(ls[b], ls[a]));
        boolean[] keep = new boolean[V];
        Arrays.fill(keep, true);
        if (sp.topK() > 0) for (int j = sp.topK(); j < V; j++) if (ls[order[j]] < ls[order[sp.topK() - 1]]) keep[order[j]] = false;
        if (sp.topP() < 1) {
            double total = 0, cum = 0;
            for (int v = 0; v < V; v++) if (keep[v]) total += Math.exp(ls[v]);
            for (int j = 0; j < V; j++) {
                int v = order[j];
                if (!keep[v]) continue;
                if (cum >= sp.topP() * total) keep[v] = false;
                cum += Math.exp(ls[v]);
            }
        }
        if (sp.minP() > 0) for (int v = 0; v < V; v++) if (ls[v] - ls[order[0]] < Math.log(sp.minP())) keep[v] = false;
        return keep;
    }

    /** The whole generation path (prefill, cached decode, sampling) on the scalar reference kernels agrees with the fast ones. */
    @Test
    void referenceBackendAgrees() {
        ModelConfig c = ArchTestSupport.qwen2Tied();
        CausalLM m = model(c, 29);
        List<int[]> prompts = prompts(c.vocabSize());
        SamplingParams sp = SamplingParams.greedy(8).withIgnoreEos(true);
        List<Completion> fast = new Generator(m).generate(prompts, 2, sp);
        List<Completion> ref;
        try (var b = Backends.use(ReferenceBackend.INSTANCE)) {
            ref = new Generator(m).generate(prompts, 2, sp);
        }
        for (int i = 0; i < fast.size(); i++) {
            assertArrayEquals(ref.get(i).tokens(), fast.get(i).tokens(), "completion " + i);
            TorchRef.assertClose("completion " + i + " log-probs, reference vs fast kernels", ref.get(i).logprobs(), fast.get(i).logprobs(), LP_TOL, 0);
        }
    }

    @Test
    void raggedBatchEqualsEachPromptAlone() {
        ModelConfig c = ArchTestSupport.qwen3();
        CausalLM m = model(c, 13);
        List<int[]> prompts = prompts(c.vocabSize());
        SamplingParams sp = SamplingParams.greedy(10).withIgnoreEos(true);
        List<Completion> together = new Generator(m).generate(prompts, sp);
        for (int p = 0; p < prompts.size(); p++) {
            Completion alone = new Generator(m).generate(List.of(prompts.get(p)), sp).get(0);
            assertArrayEquals(alone.tokens(), together.get(p).tokens(), "prompt " + p + ": batched vs alone");
            TorchRef.assertClose("prompt " + p + " log-probs batched vs alone", alone.logprobs(), together.get(p).logprobs(), LP_TOL, 0);
        }
    }

    @Test
    void groupSamplingIsDeterministicAndIndependentOfBatching() {
        ModelConfig c = ArchTestSupport.qwen2Tied();
        CausalLM m = model(c, 17);
        List<int[]> prompts = prompts(c.vocabSize());
        SamplingParams sp = SamplingParams.sample(1f, 8, 1234).withIgnoreEos(true);
        List<Completion> a = new Generator(m).generate(prompts, 4, sp);
        List<Completion> b = new Generator(m).maxBatchRows(4).prefillBatch(1).generate(prompts, 4, sp);   // one prompt per wave
        List<Completion> other = new Generator(m).generate(prompts, 4, sp.withSeed(1235));
        boolean anyDiff = false, groupDiff = false;
        for (int i = 0; i < a.size(); i++) {
            assertEquals(i / 4, a.get(i).promptIndex());
            assertEquals(i % 4, a.get(i).sampleIndex());
            assertArrayEquals(a.get(i).tokens(), b.get(i).tokens(), "completion " + i + ": same seed, different batching");
            anyDiff |= !Arrays.equals(a.get(i).tokens(), other.get(i).tokens());
            if (i % 4 > 0) groupDiff |= !Arrays.equals(a.get(i).tokens(), a.get(i - 1).tokens());
        }
        assertTrue(anyDiff, "a different seed gives different samples");
        assertTrue(groupDiff, "the n samples of a group differ from each other");
    }

    /**
     * Slices of a batch generated apart, each told its first prompt's index in the batch (as a cluster's
     * executors generate them), give the batch's completions: the same tokens and, up to the decode's
     * row-count-dependent rounding ({@link #LP_TOL}), the same log-probs.
     */
    @Test
    void slicesGeneratedApartWithTheirFirstPromptIndexGiveTheWholeBatch() {
        ModelConfig c = ArchTestSupport.llama3();
        CausalLM m = model(c, 19);
        List<int[]> prompts = new ArrayList<>(prompts(c.vocabSize()));
        prompts.add(ArchTestSupport.randomIds(4, 6, c.vocabSize()));
        SamplingParams sp = SamplingParams.sample(1f, 8, 77).withIgnoreEos(true);
        int n = 3;
        List<Completion> whole = new Generator(m).generate(prompts, n, sp);
        List<Completion> sliced = new ArrayList<>(new Generator(m).generate(prompts.subList(0, 1), n, sp, 0));
        sliced.addAll(new Generator(m).generate(prompts.subList(1, 3), n, sp, 1));
        sliced.addAll(new Generator(m).generate(prompts.subList(3, 4), n, sp, 3));
        List<Completion> unshifted = new Generator(m).generate(prompts.subList(3, 4), n, sp);
        assertEquals(whole.size(), sliced.size());
        for (int i = 0; i < whole.size(); i++) {
            assertArrayEquals(whole.get(i).tokens(), sliced.get(i).tokens(), "completion " + i);
            TorchRef.assertClose("completion " + i + " log-probs", whole.get(i).logprobs(), sliced.get(i).logprobs(), LP_TOL, 0);
        }
        boolean differs = false;
        for (int j = 0; j < n; j++) differs |= !Arrays.equals(unshifted.get(j).tokens(), whole.get(3 * n + j).tokens());
        assertTrue(differs, "without its first prompt index a slice draws from the first prompts' streams");
        assertThrows(IllegalArgumentException.class, () -> new Generator(m).generate(prompts, n, sp, -1));
    }

    @Test
    void stopTokenIdsAndStopStrings() {
        ModelConfig c = ArchTestSupport.llamaTied();
        CausalLM m = model(c, 19);
        // a decoder mapping every id to one or two letters, so stop strings can span tokens
        java.util.function.IntFunction<String> text = id -> id % 3 == 0 ? "" + (char) ('a' + id % 26) + (char) ('a' + id % 7)
                : "" + (char) ('a' + id % 26);
        List<int[]> prompts = prompts(c.vocabSize());
        SamplingParams sp = SamplingParams.sample(1f, 16, 77).withIgnoreEos(true);
        List<Completion> free = new Generator(m, text).generate(prompts, sp);
        for (int p = 0; p < prompts.size(); p++) {
            Completion f = free.get(p);
            assertEquals(FinishReason.LENGTH, f.finishReason());
            // stop id: the token at position 6; the run must end at its first occurrence
            int stopTok = f.tokens()[6];
            int first = 0;
            while (f.tokens()[first] != stopTok) first++;
            // same request (the sample streams are keyed by prompt index), now with a stop id
            Completion s = new Generator(m, text).generate(prompts, sp.withStopTokenIds(Set.of(stopTok))).get(p);
            assertEquals(FinishReason.STOP, s.finishReason());
            assertEquals(stopTok, s.stopReason());
            assertArrayEquals(Arrays.copyOf(f.tokens(), first + 1), s.tokens(), "ends with (and includes) the stop token");
            // stop string: the text of tokens 4..5 of the free run
            String stop = text.apply(f.tokens()[4]) + text.apply(f.tokens()[5]);
            Completion ss = new Generator(m, text).generate(prompts, sp.withStopStrings(List.of(stop))).get(p);
            assertEquals(FinishReason.STOP, ss.finishReason());
            assertEquals(stop, ss.stopReason());
            assertTrue(ss.text().contains(stop) && !ss.text().substring(0, ss.text().length() - 1).contains(stop),
                    "stops at the token completing the first occurrence: " + ss.text() + " / " + stop);
            assertArrayEquals(Arrays.copyOf(f.tokens(), ss.length()), ss.tokens(), "a prefix of the free run");
            assertTrue(ss.length() <= 6);
        }
    }

    @Test
    void eosFromConfigStops() {
        ModelConfig c = ArchTestSupport.llamaTied();
        CausalLM m = model(c, 23);
        List<int[]> prompts = prompts(c.vocabSize());
        Completion g = new Generator(m).generate(prompts, SamplingParams.greedy(8).withIgnoreEos(true)).get(0);
        // a generator that treats the 3rd greedy token as EOS (tokenizer-style extra eos ids)
        Completion s = new Generator(m).generate(List.of(prompts.get(0)), SamplingParams.greedy(8)
                .withStopTokenIds(Set.of(g.tokens()[2]))).get(0);
        assertEquals(FinishReason.STOP, s.finishReason());
        assertTrue(s.length() <= 3);
        assertNotEquals(FinishReason.STOP, g.finishReason());
    }
}
