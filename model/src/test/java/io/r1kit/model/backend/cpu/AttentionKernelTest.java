package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Causal GQA attention: the flash-style fast kernel vs the materialising scalar reference on
 * awkward shapes (GQA ratios 1/2/4, D not a multiple of the vector length, left/right padding,
 * KV-cache decode and prefill with qStart > 0, queries that see no key), and the reference vs
 * an explicit libtorch composition (scores + additive mask, softmax, P V) with autograd.
 */
class AttentionKernelTest {

    enum MaskKind { NONE, LEFT_PAD, RIGHT_PAD, HOLES }

    /** keyMask [B, Tk]: LEFT_PAD masks the first 0..Tk/2 keys of each row, RIGHT_PAD the last ones. */
    static byte[] mask(Random rnd, MaskKind kind, int B, int Tk) {
        if (kind == MaskKind.NONE) return null;
        byte[] m = new byte[B * Tk];
        for (int b = 0; b < B; b++) {
            int pad = Tk == 1 ? 0 : (b * 3 + 1) % (Tk / 2 + 1);   // differs per row, 0 for some rows
            for (int j = 0; j < Tk; j++) {
                boolean real = switch (kind) {
                    case LEFT_PAD -> j >= pad;
                    case RIGHT_PAD -> j < Tk - pad;
                    default -> rnd.nextInt(4) != 0;
                };
                m[b * Tk + j] = (byte) (real ? 1 : 0);
            }
        }
        return m;
    }

    record Case(int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, MaskKind mask) {}

    private static final Case[] CASES = {
            new Case(1, 1, 1, 1, 1, 1, 0, MaskKind.NONE),
            new Case(2, 7, 7, 2, 1, 7, 0, MaskKind.NONE),
            new Case(1, 33, 33, 4, 1, 33, 0, MaskKind.LEFT_PAD),
            new Case(3, 17, 17, 2, 2, 16, 0, MaskKind.RIGHT_PAD),
            new Case(2, 1, 40, 4, 2, 16, 39, MaskKind.LEFT_PAD),      // decode step against a cache
            new Case(2, 1, 129, 8, 2, 64, 128, MaskKind.HOLES),
            new Case(2, 9, 129, 4, 4, 64, 120, MaskKind.LEFT_PAD),    // prefill continuing a cache
            new Case(2, 5, 20, 2, 1, 20, 3, MaskKind.RIGHT_PAD),      // keys beyond the last query exist but are unseen
            new Case(3, 70, 70, 8, 2, 128, 0, MaskKind.LEFT_PAD),
            new Case(1, 129, 129, 2, 2, 129, 0, MaskKind.HOLES),
            new Case(2, 65, 65, 4, 1, 80, 0, MaskKind.RIGHT_PAD),
    };

    @Test
    void fastMatchesReference() {
        Random rnd = new Random(70);
        for (Case c : CASES) {
            String tag = " " + c;
            int qn = c.B * c.Tq * c.Hq * c.D, kn = c.B * c.Tk * c.Hkv * c.D;
            float[] q = gaussian(rnd, qn, 1), k = gaussian(rnd, kn, 1), v = gaussian(rnd, kn, 1), dout = gaussian(rnd, qn, 1);
            byte[] m = mask(rnd, c.mask, c.B, c.Tk);
            float scale = (float) (1 / Math.sqrt(c.D));
            float[] o1 = gaussian(rnd, qn, 1), o2 = new float[qn], l1 = new float[c.B * c.Hq * c.Tq], l2 = new float[l1.length];
            AttentionKernel.attentionForward(o1, l1, q, k, v, m, c.B, c.Tq, c.Tk, c.Hq, c.Hkv, c.D, c.qStart, scale);
            AttentionKernel.attentionForwardReference(o2, l2, q, k, v, m, c.B, c.Tq, c.Tk, c.Hq, c.Hkv, c.D, c.qStart, scale);
            // online softmax in float (rescaled partial sums, float dot products of length D)
            // vs double: outputs are convex combinations of O(1) values, errors ~1e-6
            assertClose("out" + tag, o2, o1, 1e-5, 1e-5);
            assertClose("lse" + tag, l2, l1, 2e-5, 2e-6);
            float[] dq1 = gaussian(rnd, qn, 1), dq2 = dq1.clone();
            float[] dk1 = gaussian(rnd, kn, 1), dk2 = dk1.clone(), dv1 = gaussian(rnd, kn, 1), dv2 = dv1.clone();
            AttentionKernel.attentionBackward(dq1, dk1, dv1, dout, q, k, v, o2, l2, m, c.B, c.Tq, c.Tk, c.Hq, c.Hkv, c.D, c.qStart, scale);
            AttentionKernel.attentionBackwardReference(dq2, dk2, dv2, dout, q, k, v, o2, l2, m, c.B, c.Tq, c.Tk, c.Hq, c.Hkv, c.D, c.qStart, scale);
            // gradients accumulate into pre-filled buffers; dk/dv sum over Tq * group queries,
            // so they are larger (up to ~10) and get a relative bound on top of 5e-5 absolute
            assertClose("dq" + tag, dq2, dq1, 5e-5, 5e-5);
            assertClose("dk" + tag, dk2, dk1, 5e-5, 5e-5);
            assertClose("dv" + tag, dv2, dv1, 5e-5, 5e-5);
        }
    }

    @Test
    void queryWithNoVisibleKeyGivesZeroAndNoGradient() {
        // B=1, Tq=Tk=4, the first two keys padded: queries 0 and 1 see nothing
        int B = 1, T = 4, H = 2, D = 5;
        Random rnd = new Random(71);
        float[] q = gaussian(rnd, T * H * D, 1), k = gaussian(rnd, T * D, 1), v = gaussian(rnd, T * D, 1);
        byte[] m = {0, 0, 1, 1};
        for (boolean fast : new boolean[] {true, false}) {
            float[] out = gaussian(rnd, T * H * D, 1), lse = new float[H * T];
            float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
            if (fast) {
                AttentionKernel.attentionForward(out, lse, q, k, v, m, B, T, T, H, 1, D, 0, 0.5f);
                AttentionKernel.attentionBackward(dq, dk, dv, gaussian(rnd, q.length, 1), q, k, v, out, lse, m, B, T, T, H, 1, D, 0, 0.5f);
            } else {
                AttentionKernel.attentionForwardReference(out, lse, q, k, v, m, B, T, T, H, 1, D, 0, 0.5f);
                AttentionKernel.attentionBackwardReference(dq, dk, dv, gaussian(rnd, q.length, 1), q, k, v, out, lse, m, B, T, T, H, 1, D, 0, 0.5f);
            }
            for (int t = 0; t < 2; t++) {
                for (int i = 0; i < H * D; i++) {
                    assertEquals(0f, out[t * H * D + i], "out of a query with no key, fast=" + fast);
                    assertEquals(0f, dq[t * H * D + i], "dq of a query with no key, fast=" + fast);
                }
                for (int h = 0; h < H; h++) assertEquals(Float.NEGATIVE_INFINITY, lse[h * T + t]);
            }
            for (int i = 0; i < 2 * D; i++) {
                assertEquals(0f, dk[i], "padded key gets no gradient");
                assertEquals(0f, dv[i], "padded key gets no gradient");
            }
            for (float x : dq) assertFalse(Float.isNaN(x));
        }
    }

    @Test
    void badHeadRatioFailsClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionKernel.attentionForward(
                new float[12], new float[3], new float[12], new float[8], new float[8], null, 1, 1, 1, 3, 2, 4, 0, 1f));
        assertTrue(e.getMessage().contains("Hq=3") && e.getMessage().contains("Hkv=2"), e.getMessage());
    }

    @Test
    void referenceMatchesLibTorch() {
        checkAgainstTorch(new Case(2, 5, 9, 4, 2, 6, 4, MaskKind.LEFT_PAD), 72);    // prefill after a left-padded prompt
        checkAgainstTorch(new Case(3, 6, 6, 4, 2, 6, 0, MaskKind.LEFT_PAD), 76);    // b=2: 3 pad keys, queries 0..2 see no key
        checkAgainstTorch(new Case(2, 7, 7, 4, 1, 10, 0, MaskKind.RIGHT_PAD), 73);
        checkAgainstTorch(new Case(1, 6, 6, 2, 2, 8, 0, MaskKind.NONE), 74);
        checkAgainstTorch(new Case(2, 1, 11, 4, 2, 8, 10, MaskKind.HOLES), 75);    // decode
    }

    private static void checkAgainstTorch(Case c, long seed) {
        Random rnd = new Random(seed);
        int B = c.B, Tq = c.Tq, Tk = c.Tk, Hq = c.Hq, Hkv = c.Hkv, D = c.D, group = Hq / Hkv;
        int qn = B * Tq * Hq * D, kn = B * Tk * Hkv * D;
        float[] q = gaussian(rnd, qn, 1), k = gaussian(rnd, kn, 1), v = gaussian(rnd, kn, 1), dout = gaussian(rnd, qn, 1);
        byte[] m = mask(rnd, c.mask, B, Tk);
        float scale = (float) (1 / Math.sqrt(D));
        float[] out = new float[qn], lse = new float[B * Hq * Tq];
        float[] dq = new float[qn], dk = new float[kn], dv = new float[kn];
        AttentionKernel.attentionForwardReference(out, lse, q, k, v, m, B, Tq, Tk, Hq, Hkv, D, c.qStart, scale);
        AttentionKernel.attentionBackwardReference(dq, dk, dv, dout, q, k, v, out, lse, m, B, Tq, Tk, Hq, Hkv, D, c.qStart, scale);

        // additive bias [B, 1, Tq, Tk]: 0 where visible, -1e9 elsewhere (exp underflows to exactly 0);
        // rows with no visible key would softmax to uniform, so their output is zeroed by rowValid
        float[] bias = new float[B * Tq * Tk], rowValid = new float[B * Tq];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < Tq; t++) {
                for (int j = 0; j < Tk; j++) {
                    boolean vis = j <= c.qStart + t && (m == null || m[b * Tk + j] != 0);
                    bias[(b * Tq + t) * Tk + j] = vis ? 0f : -1e9f;
                    if (vis) rowValid[b * Tq + t] = 1f;
                }
            }
        }
        try (NDManager mg = torch()) {
            NDArray biasT = mg.create(bias, new Shape(B, 1, Tq, Tk));
            NDArray validT = mg.create(rowValid, new Shape(B, Tq, 1, 1));
            float[][] lseT = new float[1][];
            TorchResult t = torchVjp(mg, new float[][] {q, k, v},
                    new Shape[] {new Shape(B, Tq, Hq, D), new Shape(B, Tk, Hkv, D), new Shape(B, Tk, Hkv, D)}, dout, in -> {
                        NDList ks = new NDList(), vs = new NDList();
                        for (int h = 0; h < Hq; h++) {   // GQA: query head h reads kv head h / group
                            ks.add(in[1].get(new NDIndex(":, :, " + (h / group))));
                            vs.add(in[2].get(new NDIndex(":, :, " + (h / group))));
                        }
                        NDArray qt = in[0].transpose(0, 2, 1, 3);                        // [B, Hq, Tq, D]
                        NDArray kt = NDArrays.stack(ks, 2).transpose(0, 2, 3, 1);        // [B, Hq, D, Tk]
                        NDArray vt = NDArrays.stack(vs, 2).transpose(0, 2, 1, 3);        // [B, Hq, Tk, D]
                        NDArray s = qt.matMul(kt).mul(scale).add(biasT);                 // [B, Hq, Tq, Tk]
                        NDArray mx = s.max(new int[] {3}, true);
                        lseT[0] = s.sub(mx).exp().sum(new int[] {3}).log().add(mx.squeeze(3)).toFloatArray();
                        NDArray o = s.softmax(3).matMul(vt).transpose(0, 2, 1, 3);      // [B, Tq, Hq, D]
                        return o.mul(validT);
                    });
            // fp32 matmuls/softmax in torch vs double in our reference: O(1) values, short sums
            assertClose("out vs torch " + c, t.out(), out, 1e-5, 1e-5);
            for (int b = 0; b < B; b++) {
                for (int h = 0; h < Hq; h++) {
                    for (int tq = 0; tq < Tq; tq++) {
                        int i = (b * Hq + h) * Tq + tq;
                        if (rowValid[b * Tq + tq] != 0) assertEquals(lseT[0][i], lse[i], 1e-5, "lse " + i + " " + c);
                        else assertEquals(Float.NEGATIVE_INFINITY, lse[i]);
                    }
                }
            }
            assertClose("dq vs torch " + c, t.grads()[0], dq, 1e-5, 1e-5);
            assertClose("dk vs torch " + c, t.grads()[1], dk, 1e-5, 1e-5);
            assertClose("dv vs torch " + c, t.grads()[2], dv, 1e-5, 1e-5);
        }
    }
}
