package io.r1kit.model.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.testing.TorchRef.Tol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.r1kit.model.testing.TorchRef.randn;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RMSNorm, RoPE, SwiGLU and causal GQA attention vs the same math composed from libtorch ops. */
class TransformerOpsTest {
    /** rsqrt of a mean over C <= 33 squares, then a product: a few float32 roundings apart; dw sums N rows. */
    static final Tol NORM = new Tol(1e-5, 1e-5, "mean of <= 33 squares + rsqrt in float32, different order; dw sums 14 rows");
    /** A rotation: two products and a sum per element, same float32 table values on both sides. */
    static final Tol ROPE = new Tol(1e-6, 1e-6, "x·cos ± y·sin in float32 (fma vs separate rounding)");
    static final Tol SWIGLU = new Tol(1e-6, 1e-5, "silu via exp in float32; libm vs torch ulp rounding");
    /**
     * Online (flash) softmax vs torch's materialised softmax: the same math, rescaled partial sums
     * in another order; gradients recompute P from lse and sum over <= 9 keys and 2 query heads per kv head.
     */
    static final Tol ATTN = new Tol(2e-5, 1e-4, "online vs direct softmax, float32 sums over <= 9 keys in different order");

    static TorchRef torch;

    @BeforeAll
    static void open() { torch = TorchRef.open(); }

    @AfterAll
    static void close() { torch.close(); }

    @Test
    void rmsNormMatchesTorch() {
        for (int C : new int[] {1, 7, 33}) {
            Tensor x = randn(1, 2, 7, C), w = randn(2, C);
            float eps = 1e-6f;
            torch.checkOp("rmsNorm C=" + C, NORM, List.of(x, w), t -> F.rmsNorm(t.get(0), t.get(1), eps),
                    t -> t.get(0).mul(t.get(0).pow(2f).mean(new int[] {2}, true).add(eps).pow(-0.5f)).mul(t.get(1)));
            torch.checkOp("rmsNorm frozen w", NORM, List.of(x, w), new boolean[] {true, false},
                    t -> F.rmsNorm(t.get(0), t.get(1), eps),
                    t -> t.get(0).mul(t.get(0).pow(2f).mean(new int[] {2}, true).add(eps).pow(-0.5f)).mul(t.get(1)));
        }
        assertThrows(IllegalArgumentException.class, () -> F.rmsNorm(Tensor.zeros(2, 4), Tensor.zeros(5), 1e-6f));
    }

    @Test
    void ropeMatchesRotateHalfInTorch() {
        int B = 2, T = 5, H = 3, D = 8, half = D / 2;
        RopeTables tables = RopeTables.build(D, 64, 10000, RopeTables.Scaling.none());
        int[] pos = {0, 1, 2, 3, 4, 7, 8, 9, 40, 63};   // second row left-padded / offset positions
        float[] c = new float[B * T * half], s = new float[B * T * half];
        for (int r = 0; r < B * T; r++)
            for (int i = 0; i < half; i++) {
                c[r * half + i] = tables.cos()[pos[r] * half + i];
                s[r * half + i] = tables.sin()[pos[r] * half + i];
            }
        Tensor x = randn(3, B, T, H, D), cos = Tensor.of(c, B, T, 1, half), sin = Tensor.of(s, B, T, 1, half);
        torch.checkOp("rope", ROPE, List.of(x, cos, sin), new boolean[] {true, false, false},
                t -> F.rope(t.get(0), pos, tables),
                t -> {
                    NDArray x1 = t.get(0).get(new NDIndex(":, :, :, 0:" + half)), x2 = t.get(0).get(new NDIndex(":, :, :, " + half + ":"));
                    NDArray co = t.get(1), si = t.get(2);
                    return NDArrays.concat(new NDList(x1.mul(co).sub(x2.mul(si)), x2.mul(co).add(x1.mul(si))), 3);
                });
        assertThrows(IndexOutOfBoundsException.class, () -> F.rope(x, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 64}, tables));
        assertThrows(IllegalArgumentException.class, () -> F.rope(x, new int[] {0, 1}, tables));
    }

    @Test
    void swigluMatchesTorch() {
        Tensor a = randn(4, 3, 37), b = randn(5, 3, 37);
        torch.checkOp("swiglu", SWIGLU, List.of(a, b), t -> F.swiglu(t.get(0), t.get(1)),
                t -> t.get(0).mul(t.get(0).neg().exp().add(1f).pow(-1f)).mul(t.get(1)));
    }

    /** Attention composed in torch: repeat kv heads, masked scores, softmax; rows that see no key are 0. */
    private NDArray torchAttention(List<NDArray> t, int B, int Tq, int Tk, int Hq, int Hkv, byte[] keyMask, int qStart, float scale) {
        NDArray q = t.get(0).swapAxes(1, 2);                                  // [B, Hq, Tq, D]
        NDArray k = t.get(1).swapAxes(1, 2).repeat(1, Hq / Hkv);              // [B, Hq, Tk, D]
        NDArray v = t.get(2).swapAxes(1, 2).repeat(1, Hq / Hkv);
        float[] add = new float[B * Tq * Tk], has = new float[B * Tq];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Tq; i++) {
                boolean any = false;
                for (int j = 0; j < Tk; j++) {
                    boolean ok = j <= qStart + i && (keyMask == null || keyMask[b * Tk + j] != 0);
                    add[(b * Tq + i) * Tk + j] = ok ? 0f : -1e9f;
                    any |= ok;
                }
                has[b * Tq + i] = any ? 1f : 0f;
                if (!any) for (int j = 0; j < Tk; j++) add[(b * Tq + i) * Tk + j] = 0f;   // keep softmax finite; zeroed below
            }
        NDArray scores = q.matMul(k.swapAxes(2, 3)).mul(scale).add(torch.nd(add, B, 1, Tq, Tk));
        NDArray out = scores.softmax(3).matMul(v).swapAxes(1, 2);            // [B, Tq, Hq, D]
        return out.mul(torch.nd(has, B, Tq, 1, 1));
    }

    @Test
    void causalGqaAttentionWithPaddingMatchesTorch() {
        int B = 2, T = 7, Hq = 4, Hkv = 2, D = 8;
        byte[] mask = new byte[B * T];
        for (int j = 0; j < T; j++) { mask[j] = 1; mask[T + j] = (byte) (j >= 3 ? 1 : 0); }   // row 1 left-padded by 3
        Tensor q = randn(6, B, T, Hq, D), k = randn(7, B, T, Hkv, D), v = randn(8, B, T, Hkv, D);
        float scale = (float) (1 / Math.sqrt(D));
        torch.checkOp("attention gqa padded", ATTN, List.of(q, k, v), t -> F.attention(t.get(0), t.get(1), t.get(2), mask),
                t -> torchAttention(t, B, T, T, Hq, Hkv, mask, 0, scale));
        torch.checkOp("attention no mask, MHA", ATTN, List.of(q, k, k), t -> F.attention(t.get(0), t.get(1), t.get(2), null),
                t -> torchAttention(t, B, T, T, Hq, Hkv, null, 0, scale));
    }

    @Test
    void longerSequenceCrossesKernelBlocks() {
        // T = 67 keys: several flash blocks plus a ragged tail; D = 64 as in real models; GQA groups of 2
        int B = 2, T = 67, Hq = 4, Hkv = 2, D = 64;
        byte[] mask = new byte[B * T];
        for (int j = 0; j < T; j++) { mask[j] = (byte) (j < 60 ? 1 : 0); mask[T + j] = (byte) (j >= 5 ? 1 : 0); }
        Tensor q = randn(12, B, T, Hq, D), k = randn(13, B, T, Hkv, D), v = randn(14, B, T, Hkv, D);
        float scale = (float) (1 / Math.sqrt(D));
        // sums over up to 67 keys and 64-dim dots: a little looser than ATTN
        Tol tol = new Tol(5e-5, 2e-4, "online vs direct softmax over 67 keys, 64-term dot products, float32");
        torch.checkOp("attention T=67 D=64", tol, List.of(q, k, v), t -> F.attention(t.get(0), t.get(1), t.get(2), mask),
                t -> torchAttention(t, B, T, T, Hq, Hkv, mask, 0, scale));
    }

    @Test
    void attentionWithQueryOffsetAndOddHeadDim() {
        int B = 1, Tq = 3, Tk = 9, Hq = 3, Hkv = 1, D = 5, qStart = 6;
        byte[] mask = {1, 1, 0, 1, 1, 1, 1, 0, 1};
        Tensor q = randn(9, B, Tq, Hq, D), k = randn(10, B, Tk, Hkv, D), v = randn(11, B, Tk, Hkv, D);
        float scale = 0.3f;
        torch.checkOp("attention qStart", ATTN, List.of(q, k, v),
                t -> F.attention(t.get(0), t.get(1), t.get(2), mask, qStart, scale),
                t -> torchAttention(t, B, Tq, Tk, Hq, Hkv, mask, qStart, scale));
        torch.checkOp("attention frozen kv", ATTN, List.of(q, k, v), new boolean[] {true, false, false},
                t -> F.attention(t.get(0), t.get(1), t.get(2), mask, qStart, scale),
                t -> torchAttention(t, B, Tq, Tk, Hq, Hkv, mask, qStart, scale));
        var e = assertThrows(IllegalArgumentException.class, () -> F.attention(q, Tensor.zeros(1, 9, 2, 5), Tensor.zeros(1, 9, 2, 5), null));
        assertTrue(e.getMessage().contains("heads"), e.getMessage());
    }
}
