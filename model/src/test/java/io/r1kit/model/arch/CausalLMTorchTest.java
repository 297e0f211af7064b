package io.r1kit.model.arch;

import io.r1kit.model.ops.F;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Logits, teacher-forced log-probs/entropies and their gradients of each architecture against an
 * independent float64 libtorch implementation ({@link TorchCausalLM}), on random weights, with a
 * ragged batch (one left-padded row with shifted positions and a key mask).
 */
class CausalLMTorchTest {
    /**
     * float32 model vs float64 reference: two blocks of GEMMs with K ≤ 128 (relative rounding
     * ~1e-6 per op, amplified by RMSNorm's division and by the residual stream), flash softmax in
     * float32. Logits are O(1)–O(5); observed max error is ~2e-6, the bound leaves 20× headroom.
     */
    static final double LOGIT_ATOL = 5e-5, LOGIT_RTOL = 1e-5;
    /** log-softmax over ≤ 131 logits adds one logsumexp rounding on top of the logits' error. */
    static final double LP_ATOL = 5e-5, LP_RTOL = 1e-5;
    /**
     * Gradients: sums over B·T = 20 rows of products of float32 activations, through attention and
     * norm backward; compared relative to each tensor's largest gradient (atol = 1e-4 · max|g|).
     */
    static final double GRAD_REL = 1e-4;

    static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("llama3-rope-scaling-gqa-untied", ArchTestSupport.llama3()),
                Arguments.of("qwen2-bias-tied", ArchTestSupport.qwen2Tied()),
                Arguments.of("qwen3-qknorm-headdim", ArchTestSupport.qwen3()),
                Arguments.of("llama-tied-attn-mlp-bias", ArchTestSupport.llamaTied().withAttentionBias(true).withMlpBias(true)));
    }

    static final int B = 2, T = 10, PAD = 3;

    /** Row 0 full; row 1 left-padded by PAD tokens (positions start at 0 at its first real token). */
    static int[] positions() {
        int[] pos = new int[B * T];
        for (int t = 0; t < T; t++) {
            pos[t] = t;
            pos[T + t] = Math.max(0, t - PAD);
        }
        return pos;
    }

    static byte[] keyMask() {
        byte[] m = new byte[B * T];
        for (int t = 0; t < T; t++) {
            m[t] = 1;
            m[T + t] = (byte) (t >= PAD ? 1 : 0);
        }
        return m;
    }

    static boolean real(int row) {
        return row < T || row % T >= PAD;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logitsMatchTorch(String name, ModelConfig cfg) {
        CausalLM m = CausalLM.random(cfg, 11);
        ArchTestSupport.perturb(m, 12);
        int[] ids = ArchTestSupport.randomIds(13, B * T, cfg.vocabSize());
        int[] pos = positions();
        byte[] mask = keyMask();
        Tensor ours = m.forward(ids, B, T, pos, mask);
        TorchRef.assertShape(name, new int[] {B, T, cfg.vocabSize()}, ours);
        TorchCausalLM ref = TorchCausalLM.of(manager, cfg, ArchTestSupport.weights(m));
        float[] theirs = ref.logits(ids, B, T, pos, mask).toType(DataType.FLOAT32, false).toFloatArray();
        int V = cfg.vocabSize();
        // padded query rows see no key; their output is unspecified (HF gives garbage there too)
        float[] a = realRows(ours.data(), V), e = realRows(theirs, V);
        TorchRef.assertClose(name + " logits (float32 vs float64 torch)", e, a, LOGIT_ATOL, LOGIT_RTOL);
    }

    static float[] realRows(float[] x, int V) {
        int n = 0;
        for (int r = 0; r < B * T; r++) if (real(r)) n++;
        float[] out = new float[n * V];
        int k = 0;
        for (int r = 0; r < B * T; r++) if (real(r)) System.arraycopy(x, r * V, out, (k++) * V, V);
        return out;
    }

    /**
     * scoreTokens (fused chunked lm_head, temperature 0.7, with entropy) and the gradient of
     * sum(a·logp + b·entropy) w.r.t. every parameter, against torch autograd in float64.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void scoresAndGradientsMatchTorch(String name, ModelConfig cfg) {
        CausalLM m = CausalLM.random(cfg, 21);
        ArchTestSupport.perturb(m, 22);
        int V = cfg.vocabSize();
        int[] ids = ArchTestSupport.randomIds(23, B * T, V);
        int[] pos = positions();
        byte[] mask = keyMask();
        int[] targets = new int[B * T];
        for (int r = 0; r < B * T; r++) targets[r] = real(r) && r % T < T - 1 ? ids[r + 1] : -1;
        float temp = 0.7f;
        float[] a = TorchRef.randn(24, B * T).data(), b = TorchRef.randn(25, B * T).data();
        // padded query rows see no key: their hidden state is unspecified (r1kit gives 0 attention,
        // torch a uniform average), so they must not contribute to the loss
        for (int r = 0; r < B * T; r++) if (!real(r)) { a[r] = 0; b[r] = 0; }

        TokenScores s = m.scoreTokens(ids, B, T, pos, mask, targets, temp, true);
        Tensor loss = F.add(F.sum(F.mul(s.logprobs(), Tensor.wrap(a, B, T))), F.sum(F.mul(s.entropy(), Tensor.wrap(b, B, T))));
        loss.backward();

        Reference ref = reference(m, cfg, ids, pos, mask, targets, temp, a, b);
        if (!ref.finite()) {
            // libtorch very rarely (once in ~12 full-suite runs, never in 13 reruns) handed back a
            // gradient starting with NaN for qwen2-bias-tied's embedding, its log-probs right. A
            // non-finite reference says nothing about r1kit, so it is computed once more; r1kit's
            // values are compared with unchanged tolerances either way.
            System.err.println(name + ": libtorch returned a non-finite reference gradient; recomputing it once");
            ref = reference(m, cfg, ids, pos, mask, targets, temp, a, b);
        }
        TorchRef.assertClose(name + " logprobs", toFloat(ref.logprobs()), s.logprobs().data(), LP_ATOL, LP_RTOL);
        float[] entOurs = s.entropy().data(), entRef = toFloat(ref.entropy());
        for (int r = 0; r < B * T; r++) if (!real(r)) { entOurs[r] = 0; entRef[r] = 0; }   // padded rows: unspecified
        TorchRef.assertClose(name + " entropy", entRef, entOurs, LP_ATOL, LP_RTOL);
        for (Parameter p : m.parameters()) {
            float[] g = p.gradData();
            float[] e = ref.grads().get(p.name());
            double max = 0;
            for (float x : e) max = Math.max(max, Math.abs(x));
            TorchRef.assertClose(name + " grad " + p.name(), e, g, GRAD_REL * max + 1e-9, 1e-3);
        }
    }

    /** libtorch's log-probs, entropies and parameter gradients (by name) for the test's loss. */
    record Reference(double[] logprobs, double[] entropy, Map<String, float[]> grads) {
        boolean finite() {
            for (float[] g : grads.values()) for (float x : g) if (!Float.isFinite(x)) return false;
            return true;
        }
    }

    /** The test's loss, sum(a * logprobs) + sum(b * entropy), through libtorch autograd. */
    static Reference reference(CausalLM m, ModelConfig cfg, int[] ids, int[] pos, byte[] mask, int[] targets, float temp,
                               float[] a, float[] b) {
        int V = cfg.vocabSize();
        TorchCausalLM ref = TorchCausalLM.of(manager, cfg, ArchTestSupport.weights(m));
        ref.logits(ids, B, T, pos, mask); // creates every weight array once
        for (NDArray p : ref.created().values()) p.setRequiresGradient(true);
        double[] refLp, refEnt;
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray logits = ref.logits(ids, B, T, pos, mask).div(temp).reshape(B * T, V);
            NDArray lsm = logits.logSoftmax(-1);
            double[] oh = new double[B * T * V];
            for (int r = 0; r < B * T; r++) if (targets[r] >= 0) oh[r * V + targets[r]] = 1;
            NDArray lp = lsm.mul(manager.create(oh, new Shape(B * T, V))).sum(new int[] {1});
            NDArray ent = logits.softmax(-1).mul(lsm).sum(new int[] {1}).neg();
            NDArray aN = manager.create(a).toType(DataType.FLOAT64, false), bN = manager.create(b).toType(DataType.FLOAT64, false);
            gc.backward(lp.mul(aN).sum().add(ent.mul(bN).sum()));
            refLp = lp.toDoubleArray();
            refEnt = ent.toDoubleArray();
        }
        Map<String, float[]> grads = new java.util.LinkedHashMap<>();
        for (Parameter p : m.parameters()) {
            grads.put(p.name(), ref.created().get(p.name()).getGradient().toType(DataType.FLOAT32, false).toFloatArray());
        }
        return new Reference(refLp, refEnt, grads);
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    /** A padded-row sanity check on the test itself: the ragged layout really has padding. */
    @org.junit.jupiter.api.Test
    void raggedLayoutHasPadding() {
        int pads = 0;
        for (byte b : keyMask()) if (b == 0) pads++;
        assertEquals(PAD, pads);
    }
}
