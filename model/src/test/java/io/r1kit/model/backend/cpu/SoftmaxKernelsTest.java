package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Softmax family: softmax, log-softmax, fused token log-prob and entropy, forward and backward.
 * Fast vs reference on awkward shapes (incl. a 150k vocabulary row, -inf logits and ignored
 * targets), and reference vs libtorch compositions with autograd.
 */
class SoftmaxKernelsTest {
    /** {N, V}: widths around the vector length, a multi-block row, and a Qwen-sized vocabulary. */
    private static final int[][] SHAPES = {{1, 1}, {7, 7}, {3, 16}, {33, 33}, {5, 129}, {9, 5003}, {2, 151_669}};

    /**
     * Logits with spread ~3; even rows get one large logit (40: a peaked, low-entropy row whose
     * lse is large), odd rows stay flat (high entropy); for V > 8 some entries are -inf.
     */
    private static float[] logits(Random rnd, int N, int V, boolean withNegInf) {
        float[] x = gaussian(rnd, N * V, 3);
        for (int n = 0; n < N; n++) {
            if (n % 2 == 0) x[n * V + rnd.nextInt(V)] = 40f;
            if (withNegInf && V > 8) { x[n * V + 1] = Float.NEGATIVE_INFINITY; x[n * V + V - 2] = Float.NEGATIVE_INFINITY; }
        }
        return x;
    }

    @Test
    void softmaxAndLogSoftmaxFastMatchReference() {
        Random rnd = new Random(60);
        for (int[] s : SHAPES) {
            int N = s[0], V = s[1];
            String tag = " N=" + N + " V=" + V;
            float[] x = logits(rnd, N, V, true), dy = gaussian(rnd, N * V, 1);
            float[] y1 = new float[N * V], y2 = new float[N * V];
            SoftmaxKernels.softmaxForward(y1, x, N, V);
            SoftmaxKernels.softmaxForwardReference(y2, x, N, V);
            // vector exp (<= ~1 ulp) and a float normalisation vs double: relative ~1e-6;
            // atol covers the many tiny probabilities (< 1e-20) where relative error is meaningless
            assertClose("softmax" + tag, y2, y1, 1e-12, 2e-6);
            float[] dx1 = gaussian(rnd, N * V, 1), dx2 = dx1.clone();
            SoftmaxKernels.softmaxBackward(dx1, dy, y2, N, V);
            SoftmaxKernels.softmaxBackwardReference(dx2, dy, y2, N, V);
            // dot(dy, y) in float lanes vs double; dx += y * (dy - dot): |error| <~ 1e-6 * |dy|
            assertClose("softmax backward" + tag, dx2, dx1, 2e-6, 2e-6);

            SoftmaxKernels.logSoftmaxForward(y1, x, N, V);
            SoftmaxKernels.logSoftmaxForwardReference(y2, x, N, V);
            // x - lse: absolute error is ulps of lse and x (|x| <= 40 -> ulp 4e-6); lse from a
            // float-lane sum of exp adds ~1e-7 relative to the sum
            assertClose("log-softmax" + tag, y2, y1, 1e-5, 1e-6);
            dx1 = gaussian(rnd, N * V, 1);
            dx2 = dx1.clone();
            SoftmaxKernels.logSoftmaxBackward(dx1, dy, y2, N, V);
            SoftmaxKernels.logSoftmaxBackwardReference(dx2, dy, y2, N, V);
            // dx += dy - p * sum(dy): the intermediate p * sum(dy) reaches |sum(dy)| ~ sqrt(V)
            // (~390 at V=150k), so the float path's few roundings cost a few ulps of THAT value
            double maxRowSum = 0;
            for (int n = 0; n < N; n++) {
                double rs = 0;
                for (int v = 0; v < V; v++) rs += dy[n * V + v];
                maxRowSum = Math.max(maxRowSum, Math.abs(rs));
            }
            assertClose("log-softmax backward" + tag, dx2, dx1, 1e-6 + 8 * Math.ulp((float) maxRowSum), 2e-6);
        }
    }

    @Test
    void tokenLogProbsAndEntropyFastMatchReference() {
        Random rnd = new Random(61);
        for (int[] s : SHAPES) {
            int N = s[0], V = s[1];
            String tag = " N=" + N + " V=" + V;
            float[] x = logits(rnd, N, V, true);
            int[] target = new int[N];
            for (int n = 0; n < N; n++) {
                target[n] = rnd.nextInt(V);
                if (V > 8 && (target[n] == 1 || target[n] == V - 2)) target[n] = 0;   // not on a -inf logit
            }
            if (N > 2) target[N - 1] = -1;   // ignored position
            float[] o1 = new float[N], o2 = new float[N], l1 = new float[N], l2 = new float[N];
            SoftmaxKernels.tokenLogProbsForward(o1, l1, x, target, N, V);
            SoftmaxKernels.tokenLogProbsForwardReference(o2, l2, x, target, N, V);
            // lse ~ 40 (the peak): float ulp 4e-6, plus the float-lane sum of exp
            assertClose("lse" + tag, l2, l1, 1e-5, 1e-6);
            assertClose("token logprob" + tag, o2, o1, 1e-5, 1e-6);
            if (N > 2) assertEquals(0f, o1[N - 1], "ignored target gives 0");
            float[] dout = gaussian(rnd, N, 1);
            float[] d1 = gaussian(rnd, N * V, 1), d2 = d1.clone();
            SoftmaxKernels.tokenLogProbsBackward(d1, dout, x, l2, target, N, V);
            SoftmaxKernels.tokenLogProbsBackwardReference(d2, dout, x, l2, target, N, V);
            // dout * (onehot - exp(x - lse)): vector exp vs double exp, few ulps of O(1) values
            assertClose("token logprob backward" + tag, d2, d1, 1e-6, 1e-6);
            if (N > 2) {
                for (int v = 0; v < V; v++) assertEquals(d2[(N - 1) * V + v], d1[(N - 1) * V + v], 0f, "ignored row untouched");
            }

            float[] h1 = new float[N], h2 = new float[N];
            SoftmaxKernels.entropyForward(h1, l1, x, N, V);
            SoftmaxKernels.entropyForwardReference(h2, l2, x, N, V);
            assertFalse(Float.isNaN(h1[0]), "-inf logits must not make the entropy NaN");
            // H = log Z - sum e (x - m) / Z with float-lane block sums (added in double): a few
            // float ulps of H (<= ~12 nats -> ulp 1e-6)
            assertClose("entropy" + tag, h2, h1, 3e-6, 2e-6);
            d1 = gaussian(rnd, N * V, 1);
            d2 = d1.clone();
            SoftmaxKernels.entropyBackward(d1, dout, x, l2, h2, N, V);
            SoftmaxKernels.entropyBackwardReference(d2, dout, x, l2, h2, N, V);
            // -dout p (log p + H) with log p = x - lse taken first (exact when x ~ lse): vector
            // exp (~1 ulp) and two float roundings of O(1..10) terms, times p <= 1
            assertClose("entropy backward" + tag, d2, d1, 1e-6, 1e-6);
            for (float g : d1) assertFalse(Float.isNaN(g), "entropy backward NaN" + tag);
        }
    }

    @Test
    void targetOutsideVocabularyFailsClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SoftmaxKernels.tokenLogProbsForward(new float[1], new float[1], new float[4], new int[] {4}, 1, 4));
        assertTrue(e.getMessage().contains("target[0]=4"), e.getMessage());
    }

    @Test
    void referencesMatchLibTorch() {
        Random rnd = new Random(62);
        int N = 6, V = 37;
        float[] x = logits(rnd, N, V, false), dy = gaussian(rnd, N * V, 1), dn = gaussian(rnd, N, 1);
        Shape nv = new Shape(N, V);
        int[] target = new int[N];
        float[] onehot = new float[N * V];
        for (int n = 0; n < N; n++) {
            target[n] = n == 2 ? -1 : rnd.nextInt(V);
            if (target[n] >= 0) onehot[n * V + target[n]] = 1f;
        }
        try (NDManager m = torch()) {
            NDArray oh = m.create(onehot, nv);

            // softmax: torch fp32 exp / sum vs our double; backward fed torch's own y
            float[] y = new float[N * V], dx = new float[N * V];
            SoftmaxKernels.softmaxForwardReference(y, x, N, V);
            TorchResult t = torchVjp(m, new float[][] {x}, new Shape[] {nv}, dy, in -> in[0].softmax(1));
            assertClose("softmax vs torch", t.out(), y, 1e-8, 2e-6);
            SoftmaxKernels.softmaxBackwardReference(dx, dy, y, N, V);
            assertClose("softmax backward vs torch", t.grads()[0], dx, 1e-6, 1e-5);

            // log-softmax
            SoftmaxKernels.logSoftmaxForwardReference(y, x, N, V);
            dx = new float[N * V];
            t = torchVjp(m, new float[][] {x}, new Shape[] {nv}, dy, in -> in[0].logSoftmax(1));
            assertClose("log-softmax vs torch", t.out(), y, 1e-5, 1e-6);
            SoftmaxKernels.logSoftmaxBackwardReference(dx, dy, y, N, V);
            assertClose("log-softmax backward vs torch", t.grads()[0], dx, 1e-6, 1e-5);

            // token log-prob = sum(log_softmax * onehot); an ignored row has an all-zero onehot
            float[] out = new float[N], lse = new float[N];
            SoftmaxKernels.tokenLogProbsForwardReference(out, lse, x, target, N, V);
            dx = new float[N * V];
            SoftmaxKernels.tokenLogProbsBackwardReference(dx, dn, x, lse, target, N, V);
            t = torchVjp(m, new float[][] {x}, new Shape[] {nv}, dn, in -> in[0].logSoftmax(1).mul(oh).sum(new int[] {1}));
            assertClose("token logprob vs torch", t.out(), out, 1e-5, 1e-6);
            assertClose("token logprob backward vs torch", t.grads()[0], dx, 1e-6, 1e-5);

            // entropy = -sum(softmax * log_softmax)
            float[] h = new float[N];
            SoftmaxKernels.entropyForwardReference(h, lse, x, N, V);
            dx = new float[N * V];
            SoftmaxKernels.entropyBackwardReference(dx, dn, x, lse, h, N, V);
            t = torchVjp(m, new float[][] {x}, new Shape[] {nv}, dn,
                    in -> in[0].softmax(1).mul(in[0].logSoftmax(1)).sum(new int[] {1}).neg());
            // fp32 sum of p log p over 37 terms in torch: ~1e-6 absolute
            assertClose("entropy vs torch", t.out(), h, 1e-5, 1e-5);
            assertClose("entropy backward vs torch", t.grads()[0], dx, 1e-6, 1e-5);
        }
    }
}
