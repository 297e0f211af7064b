package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fused chunked lm_head scorer against the plain path (materialised logits, F.tokenLogProbs,
 * F.entropy) across chunk boundaries, and gradient checkpointing against no checkpointing.
 */
class ScoreTokensTest {
    /**
     * Same float32 arithmetic except GEMM blocking (chunk of 1..5 rows vs all rows) and the 1/T
     * scaling folded into the GEMM's alpha vs a separate multiply: ~1e-7 relative.
     */
    static final double TOL = 2e-6;

    @Test
    void chunkedEqualsMaterialisedLogitsIncludingGradients() {
        CausalLM m = CausalLM.random(ArchTestSupport.qwen2Tied(), 1);
        ArchTestSupport.perturb(m, 2);
        int B = 3, T = 7, V = m.config().vocabSize(), C = m.config().hiddenSize();
        int[] ids = ArchTestSupport.randomIds(3, B * T, V);
        int[] targets = ArchTestSupport.randomIds(4, B * T, V);
        for (int i = 0; i < targets.length; i += 4) targets[i] = -1;
        float temp = 0.6f;
        float[] a = TorchRef.randn(5, B * T).data(), b = TorchRef.randn(6, B * T).data();
        // plain path
        Tensor h = F.reshape(m.forwardHidden(ids, B, T, null, null), B * T, C);
        Tensor logits = F.scale(F.linear(h, m.lmHeadWeight()), 1f / temp);
        Tensor lp = F.tokenLogProbs(logits, targets), ent = F.entropy(logits);
        F.add(F.sum(F.mul(lp, Tensor.wrap(a, B * T))), F.sum(F.mul(ent, Tensor.wrap(b, B * T)))).backward();
        List<float[]> g0 = m.parameters().stream().map(p -> p.gradData().clone()).toList();
        for (int chunk : new int[] {1, 5, 1000}) {
            m.parameters().forEach(Parameter::zeroGrad);
            Tensor h2 = F.reshape(m.forwardHidden(ids, B, T, null, null), B * T, C);
            Tensor both = LmHeadScores.apply(h2, m.lmHeadWeight(), targets, temp, true, chunk);
            float[] lp2 = new float[B * T], ent2 = new float[B * T];
            for (int i = 0; i < B * T; i++) {
                lp2[i] = both.data()[2 * i];
                ent2[i] = both.data()[2 * i + 1];
            }
            TorchRef.assertClose("chunk " + chunk + " logprobs", lp.data(), lp2, TOL, TOL);
            TorchRef.assertClose("chunk " + chunk + " entropy", ent.data(), ent2, TOL, TOL);
            float[] up = new float[2 * B * T];
            for (int i = 0; i < B * T; i++) {
                up[2 * i] = a[i];
                up[2 * i + 1] = b[i];
            }
            both.backward(Tensor.wrap(up, B * T, 2));
            for (int i = 0; i < g0.size(); i++) {
                Parameter p = m.parameters().get(i);
                TorchRef.assertClose("chunk " + chunk + " grad " + p.name(), g0.get(i), p.gradData(), 1e-5, 1e-4);
            }
        }
    }

    @Test
    void gradientCheckpointingGivesIdenticalGradients() {
        CausalLM m = CausalLM.random(ArchTestSupport.llama3(), 7);
        ArchTestSupport.perturb(m, 8);
        Batch batch = Batch.of(List.of(new int[] {1, 2, 3}, new int[] {4, 5}), List.of(new int[] {6, 7, 8, 9}, new int[] {10}));
        F.sum(m.scoreTokens(batch, true).logprobs()).backward();
        List<float[]> g0 = m.parameters().stream().map(p -> p.gradData().clone()).toList();
        m.parameters().forEach(Parameter::zeroGrad);
        F.sum(m.gradientCheckpointing(true).scoreTokens(batch, true).logprobs()).backward();
        for (int i = 0; i < g0.size(); i++) assertArrayEquals(g0.get(i), m.parameters().get(i).gradData(), m.parameters().get(i).name());
    }
}
