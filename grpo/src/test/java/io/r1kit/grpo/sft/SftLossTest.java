package io.r1kit.grpo.sft;

import static io.r1kit.grpo.sft.SftTestSupport.TOK;
import static io.r1kit.grpo.sft.SftTestSupport.pc;
import static io.r1kit.grpo.sft.SftTestSupport.text;
import static io.r1kit.grpo.sft.SftTestSupport.tinyModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Encoding, completion-only masking, packing and the loss of the SFT trainer. */
class SftLossTest {

    private static ExampleEncoder encoder(Map<String, ?> cfg) {
        SftConfig c = SftConfig.of(cfg);
        return new ExampleEncoder(TOK, PromptTemplates.byName(c.template()), null, c);
    }

    @Test
    void promptCompletionExampleMasksExactlyThePrompt() {
        ExampleEncoder enc = encoder(Map.of("template", "toy"));
        EncodedExample e = enc.encode(pc("a", "what is 2+3?", "<think> 2+3=5 </think> <answer> 5 </answer>"));
        int[] prompt = TOK.encode("user: what is 2+3?\nassistant:", true);   // BOS + toy template, as rollouts encode it
        int[] completion = TOK.encode(" <think> 2+3=5 </think> <answer> 5 </answer>", false);   // separator + completion
        assertEquals(prompt.length, e.contextLength());
        assertArrayEquals(prompt, e.context());
        int[] expectTargets = Arrays.copyOf(completion, completion.length + 1);
        expectTargets[completion.length] = TOK.eosId().getAsInt();
        assertArrayEquals(expectTargets, e.targets(), "targets = completion tokens + EOS");

        // completion_only_loss=false: every token but the first is a target
        EncodedExample all = encoder(Map.of("template", "toy", "completion_only_loss", false))
                .encode(pc("a", "what is 2+3?", "<think> 2+3=5 </think> <answer> 5 </answer>"));
        assertEquals(1, all.contextLength());
        assertEquals(e.length(), all.length());
    }

    @Test
    void textMessagesTruncationAndErrors() {
        ExampleEncoder enc = encoder(Map.of("completion_only_loss", false, "max_seq_length", 8));
        EncodedExample t = enc.encode(text("t", "abcdefghijkl"));
        assertEquals(8, t.length(), "cut to max_seq_length");
        assertEquals(1, t.contextLength());
        assertEquals(TOK.bosId().getAsInt(), t.ids()[0]);

        ExampleEncoder chat = encoder(Map.of());
        Example m = new Example("m", Map.of("messages", List.of(Map.of("role", "user", "content", "hi"),
                Map.of("role", "assistant", "content", "hello"))));
        EncodedExample ce = chat.encode(m);
        assertArrayEquals(TOK.encode("user: hi\nassistant:", true), ce.context());
        assertEquals(" hello", TOK.decode(ce.targets(), true));

        Example bad = new Example("b", Map.of("messages", List.of(Map.of("role", "user", "content", "hi"))));
        DatasetException ex = assertThrows(DatasetException.class, () -> chat.encode(bad));
        assertTrue(ex.getMessage().contains("'b'") && ex.getMessage().contains("assistant"), ex.getMessage());
        DatasetException none = assertThrows(DatasetException.class, () -> chat.encode(new Example("x", Map.of("foo", "bar"))));
        assertTrue(none.getMessage().contains("'x'") && none.getMessage().contains("foo"), none.getMessage());

        // a prompt that fills max_seq_length leaves nothing to learn: skipped and counted
        ExampleEncoder shortCtx = encoder(Map.of("max_seq_length", 6));
        ExampleEncoder.Encoded r = shortCtx.encodeAll(new Dataset(List.of(pc("long", "a long prompt", "x"), pc("ok", "a", "b"))));
        assertEquals(1, r.skippedNoLossTokens());
        assertEquals(1, r.examples().size());
        assertEquals("ok", r.examples().get(0).id());
    }

    /** The gradient w.r.t. the logits is exactly zero at prompt and padding positions, nonzero at completion ones. */
    @Test
    void promptPositionsGetExactlyZeroGradient() {
        CausalLM model = tinyModel(1);
        ExampleEncoder enc = encoder(Map.of("template", "toy"));
        List<EncodedExample> ex = List.of(enc.encode(pc("a", "what is 12+7?", "<think> 12+7=19 </think> <answer> 19 </answer>")),
                enc.encode(pc("b", "hi", "<answer> 3 </answer>")));
        Batch b = SftLoss.batch(ex);
        long n = SftLoss.lossTokens(ex);
        Tensor logits = model.forward(b.ids(), b.B(), b.T(), b.positions(), b.keyMask());
        logits.retainGrad();
        Tensor loss = SftLoss.lossFromLogits(logits, b.targets(), n);
        loss.backward();
        float[] g = logits.grad().data();
        float[] z = logits.data();
        int V = model.config().vocabSize();
        double manual = 0;
        int zeroRows = 0, liveRows = 0;
        for (int r = 0; r < b.B() * b.T(); r++) {
            boolean target = b.targets()[r] >= 0;
            double absSum = 0;
            for (int v = 0; v < V; v++) absSum += Math.abs(g[r * V + v]);
            if (target) {
                assertTrue(absSum > 0, "completion row " + r + " must get a gradient");
                liveRows++;
                double max = Double.NEGATIVE_INFINITY, s = 0;
                for (int v = 0; v < V; v++) max = Math.max(max, z[r * V + v]);
                for (int v = 0; v < V; v++) s += Math.exp(z[r * V + v] - max);
                manual -= z[r * V + b.targets()[r]] - max - Math.log(s);
            } else {
                assertEquals(0.0, absSum, "prompt/padding row " + r + " must get exactly zero gradient");
                zeroRows++;
            }
        }
        assertEquals(n, liveRows);
        assertTrue(zeroRows >= ex.get(0).contextLength() - 1 + ex.get(1).contextLength() - 1);
        // float32 log-softmax vs double: 1e-5 relative is a few ulps of a loss of ~4
        assertEquals(manual / n, loss.item(), 1e-5 * Math.abs(manual / n));
    }

    /** The fused lm_head path the trainer uses gives the same parameter gradients as materialised logits. */
    @Test
    void fusedLossMatchesLogitsLoss() {
        CausalLM a = tinyModel(2), b = tinyModel(2);
        ExampleEncoder enc = encoder(Map.of("template", "toy"));
        List<EncodedExample> ex = List.of(enc.encode(pc("a", "what is 12+7?", "19")), enc.encode(pc("b", "hi there", "hello, friend")));
        Batch batch = SftLoss.batch(ex);
        long n = SftLoss.lossTokens(ex);
        Tensor la = SftLoss.loss(a, batch, n);
        la.backward();
        Tensor lb = SftLoss.lossFromLogits(b.forward(batch.ids(), batch.B(), batch.T(), batch.positions(), batch.keyMask()),
                batch.targets(), n);
        lb.backward();
        assertEquals(lb.item(), la.item(), 1e-5 * Math.abs(lb.item()));
        List<Parameter> pa = a.parameters(), pb = b.parameters();
        for (int i = 0; i < pa.size(); i++) {
            float[] ga = pa.get(i).gradData(), gb = pb.get(i).gradData();
            double scale = 0;
            for (float v : gb) scale = Math.max(scale, Math.abs(v));
            for (int k = 0; k < ga.length; k++)
                // the fused path recomputes the logits chunk-wise: float32 rounding differs, 1e-4 of the tensor's largest entry
                assertEquals(gb[k], ga[k], 1e-4 * scale + 1e-9, pa.get(i).name() + "[" + k + "]");
        }
    }

    @Test
    void packerMakesValidBestFitDecreasingBins() {
        SplittableRandom r = new SplittableRandom(3);
        int[] len = new int[200];
        for (int i = 0; i < len.length; i++) len[i] = 1 + r.nextInt(100);
        List<int[]> bins = SequencePacker.pack(len, 128);
        boolean[] seen = new boolean[len.length];
        int used = 0;
        for (int[] bin : bins) {
            int s = 0;
            for (int i : bin) {
                assertTrue(!seen[i], "example " + i + " packed twice");
                seen[i] = true;
                s += len[i];
            }
            assertTrue(s <= 128, "bin over capacity: " + s);
            used += s;
        }
        for (boolean s : seen) assertTrue(s, "every example is packed");
        // best fit decreasing is within 11/9·OPT + 1; OPT ≥ total/capacity
        int lower = (used + 127) / 128;
        assertTrue(bins.size() <= Math.ceil(11.0 / 9 * lower) + 1, bins.size() + " bins for a lower bound of " + lower);
        assertThrows(IllegalArgumentException.class, () -> SequencePacker.pack(new int[] {129}, 128));
    }

    /**
     * Packed examples do not see each other: each example's loss inside a multi-row forward pass is
     * its loss when run alone, and positions restart at 0 in every row.
     */
    @Test
    void packedExamplesDoNotAttendAcrossBoundaries() {
        CausalLM model = tinyModel(4);
        ExampleEncoder enc = encoder(Map.of("template", "toy"));
        List<EncodedExample> ex = new ArrayList<>();
        String[] prompts = {"what is 1+1?", "hi", "copy abc", "what is 45*3?", "x"};
        String[] comps = {"<answer> 2 </answer>", "hello", "abc", "<think> 45*3=135 </think> <answer> 135 </answer>", "y"};
        for (int i = 0; i < prompts.length; i++) ex.add(enc.encode(pc("e" + i, prompts[i], comps[i])));
        Batch all = SftLoss.batch(ex);
        for (int b = 0; b < all.B(); b++) assertEquals(0, all.positions()[b * all.T()], "row " + b + " starts at position 0");
        double[] together = SftLoss.rowLosses(model, all);
        for (int i = 0; i < ex.size(); i++) {
            double alone = SftLoss.rowLosses(model, SftLoss.batch(List.of(ex.get(i))))[0];
            // same math, different padding (T): GEMM blocking may round differently; 1e-5 relative
            assertEquals(alone, together[i], 1e-5 * Math.abs(alone), "example " + i);
        }
        // and a changed neighbour does not change an example's loss
        List<EncodedExample> swapped = new ArrayList<>(ex);
        swapped.set(1, enc.encode(pc("z", "something else entirely", "zzzz")));
        double[] t2 = SftLoss.rowLosses(model, SftLoss.batch(swapped));
        assertEquals(together[0], t2[0], 1e-5 * Math.abs(together[0]));
        assertNotEquals(together[1], t2[1]);
    }

    /** Splitting a step into several forward passes (token budget) gives the gradient of the whole step. */
    @Test
    void chunkedStepEqualsOneBigPass() {
        ExampleEncoder enc = encoder(Map.of("template", "toy"));
        List<EncodedExample> ex = new ArrayList<>();
        for (int i = 0; i < 7; i++) ex.add(enc.encode(pc("e" + i, "what is " + i + "+" + (3 * i) + "?", "<answer> " + 4 * i + " </answer>" + "z".repeat(i))));
        long n = SftLoss.lossTokens(ex);
        CausalLM one = tinyModel(5), many = tinyModel(5);
        List<List<EncodedExample>> big = SftLoss.chunks(ex, 100_000), small = SftLoss.chunks(ex, 60);
        assertEquals(1, big.size());
        assertTrue(small.size() >= 3, "the small budget must split the step, got " + small.size());
        for (List<EncodedExample> c : small) {
            int T = c.stream().mapToInt(EncodedExample::length).max().orElseThrow();
            assertTrue(c.size() == 1 || (long) c.size() * T <= 60, "chunk over budget");
        }
        double l1 = 0, l2 = 0;
        for (List<EncodedExample> c : big) {
            Tensor l = SftLoss.loss(one, SftLoss.batch(c), n);
            l1 += l.item();
            l.backward();
        }
        for (List<EncodedExample> c : small) {
            Tensor l = SftLoss.loss(many, SftLoss.batch(c), n);
            l2 += l.item();
            l.backward();
        }
        assertEquals(l1, l2, 1e-5 * l1);
        List<Parameter> a = one.parameters(), b = many.parameters();
        for (int i = 0; i < a.size(); i++) {
            float[] ga = a.get(i).gradData(), gb = b.get(i).gradData();
            double scale = 0;
            for (float v : ga) scale = Math.max(scale, Math.abs(v));
            // sums accumulated in a different order: 1e-4 of the largest entry
            for (int k = 0; k < ga.length; k++) assertEquals(ga[k], gb[k], 1e-4 * scale + 1e-9, a.get(i).name());
        }
    }
}
