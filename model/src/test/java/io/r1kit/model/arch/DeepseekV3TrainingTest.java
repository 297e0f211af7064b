package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DeepSeek-V3 training pieces: the MTP modules' log-probs and gradients against libtorch
 * ({@link TorchDeepseekV3#mtp}), the auxiliary-loss-free bias update and its metrics, and gradient
 * checkpointing giving the same gradients.
 */
class DeepseekV3TrainingTest {
    static NDManager manager;
    static final int B = 2, T = 9;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** Two right-padded rows (row 1 has 3 pads at the end), every real next token a target. */
    static Batch batch(int V) {
        int[] ids = ArchTestSupport.randomIds(5, B * T, V);
        int[] targets = new int[B * T];
        byte[] mask = new byte[B * T];
        for (int b = 0; b < B; b++) {
            int len = b == 0 ? T : T - 3;
            for (int t = 0; t < T; t++) {
                mask[b * T + t] = (byte) (t < len ? 1 : 0);
                targets[b * T + t] = t + 1 < len ? ids[b * T + t + 1] : -1;
            }
        }
        return new Batch(ids, B, T, F.positions(B, T), mask, targets, new int[] {1, 1}, new int[] {T - 1, T - 4});
    }

    @Test
    void mtpLogprobsAndGradientsMatchTorch() {
        ModelConfig cfg = DeepseekV3TestModels.noSharedYarn();   // two MTP modules
        CausalLM m = DeepseekV3TestModels.model(cfg, 61);
        int V = cfg.vocabSize(), C = cfg.hiddenSize();
        Batch batch = batch(V);
        CausalLM.MtpScores s = m.scoreTokensWithMtp(batch);
        assertEquals(2, s.mtpLogprobs().size());
        Tensor loss = F.sum(s.main().logprobs());
        for (Tensor lp : s.mtpLogprobs()) loss = F.add(loss, F.scale(F.sum(lp), 0.5f));
        loss.backward();

        TorchDeepseekV3 ref = TorchDeepseekV3.of(manager, cfg, DeepseekV3TestModels.weights(m));
        int[] pos = F.positions(B, T);
        int[] ids = batch.ids(), targets = batch.targets();
        List<double[]> refLp = new java.util.ArrayList<>();
        for (int pass = 0; pass < 2; pass++) {
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                refLp.clear();
                NDArray prev = ref.preNorm(ids, B, T, pos, batch.keyMask());
                NDArray total = lp(ref.logits(ids, B, T, pos, batch.keyMask()), targets, V, refLp);
                for (int d = 0; d < 2; d++) {
                    int[] next = new int[B * T], tgt = new int[B * T];
                    for (int b = 0; b < B; b++)
                        for (int t = 0; t < T; t++) {
                            int src = t + d + 1;
                            next[b * T + t] = src < T ? ids[b * T + src] : 0;
                            tgt[b * T + t] = src < T ? targets[b * T + src] : -1;
                        }
                    NDArray[] out = ref.mtp(prev, d, next, B, T, pos, batch.keyMask());
                    total = total.add(lp(out[1], tgt, V, refLp).mul(0.5));
                    prev = out[0];
                }
                if (pass == 1) gc.backward(total);
            }
            if (pass == 0) for (NDArray p : ref.created().values()) p.setRequiresGradient(true);
        }
        TorchRef.assertClose("main logprobs", f(refLp.get(0)), s.main().logprobs().data(), 5e-5, 1e-5);
        for (int d = 0; d < 2; d++) TorchRef.assertClose("mtp depth " + d, f(refLp.get(d + 1)), s.mtpLogprobs().get(d).data(), 5e-5, 1e-5);
        for (Parameter p : m.parameters()) {
            NDArray r = ref.created().get(p.name());
            assertNotNull(r, p.name() + " takes part");
            float[] e = r.getGradient().toType(DataType.FLOAT32, false).toFloatArray();
            double max = 0;
            for (float x : e) max = Math.max(max, Math.abs(x));
            float[] g = p.gradData() != null ? p.gradData() : new float[e.length];
            TorchRef.assertClose("grad " + p.name(), e, g, 1e-4 * max + 1e-9, 1e-3);
        }
    }

    private static NDArray lp(NDArray logits, int[] targets, int V, List<double[]> out) {
        NDArray lsm = logits.reshape(targets.length, V).logSoftmax(-1);
        double[] oh = new double[targets.length * V];
        for (int r = 0; r < targets.length; r++) if (targets[r] >= 0) oh[r * V + targets[r]] = 1;
        NDArray lp = lsm.mul(manager.create(oh, new Shape(targets.length, V))).sum(new int[] {1});
        out.add(lp.toDoubleArray());
        return lp.sum();
    }

    private static float[] f(double[] d) {
        float[] x = new float[d.length];
        for (int i = 0; i < d.length; i++) x[i] = (float) d[i];
        return x;
    }

    @Test
    void biasMovesAgainstTheLoadSignAndMetricsDescribeIt() {
        ModelConfig cfg = DeepseekV3TestModels.plainQ();   // every layer MoE, 6 experts, top-3
        CausalLM m = DeepseekV3TestModels.model(cfg, 71);
        for (Parameter b : m.buffers()) b.copyFrom(new float[b.numel()]);
        Batch batch = batch(cfg.vocabSize());
        m.scoreTokens(batch, false);   // grad on: counted
        try (var ng = Grad.noGrad()) {
            m.scoreTokens(batch, false); // no grad (rollouts, reference models): not counted
        }
        // re-derive the loads of layer 0 from its router by hand
        DeepseekMoe moe = m.deepseekLayers().get(0).moe();
        long[] load = moe.load().clone();
        long sum = 0;
        for (long l : load) sum += l;
        int real = 0;
        for (byte b : batch.keyMask()) real += b;
        assertEquals((long) real * cfg.deepseek().numExpertsPerTok(), sum, "padding is not counted; each real token adds k");
        CausalLM.MoeBalance bal = m.updateExpertBias(0.01);
        double mean = sum / 6.0;
        float[] bias = moe.bias.data();
        for (int e = 0; e < 6; e++) {
            assertEquals((float) (-0.01 * Math.signum(load[e] - mean)), bias[e], 0f, "expert " + e);
        }
        for (DeepseekV3Layer l : m.deepseekLayers()) {
            long[] ld = l.moe().load();
            assertEquals(0, java.util.Arrays.stream(ld).sum(), "counts cleared");
        }
        assertEquals(0, bal.droppedTokens());
        assertTrue(bal.loadMaxOverMean() >= 1 && bal.loadMinOverMean() <= 1);
        assertTrue(bal.biasAbsMean() > 0 && bal.biasAbsMean() <= 0.01 + 1e-9);
        Map<String, Object> metrics = bal.metrics();
        assertEquals(List.of("moe/load_max_over_mean", "moe/load_min_over_mean", "moe/bias_abs_mean", "moe/dropped_tokens"),
                List.copyOf(metrics.keySet()));
    }

    @Test
    void gradientCheckpointingGivesTheSameGradients() {
        ModelConfig cfg = DeepseekV3TestModels.qloraYarnMtp();
        CausalLM a = DeepseekV3TestModels.model(cfg, 81), b = a.copy().gradientCheckpointing(true);
        Batch batch = batch(cfg.vocabSize());
        F.sum(a.scoreTokens(batch, false).logprobs()).backward();
        F.sum(b.scoreTokens(batch, false).logprobs()).backward();
        for (int i = 0; i < a.parameters().size(); i++) {
            float[] ga = a.parameters().get(i).gradData(), gb = b.parameters().get(i).gradData();
            if (ga == null) continue;
            TorchRef.assertClose("checkpointed grad " + a.parameters().get(i).name(), ga, gb, 1e-6, 1e-5);
        }
    }
}
