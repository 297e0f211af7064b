package io.r1kit.model.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.testing.TorchRef.Tol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.r1kit.model.testing.TorchRef.randn;
import static io.r1kit.model.testing.TorchRef.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broadcasting binary ops, unary ops, clamp, minimum/maximum and where vs libtorch autograd. */
class ElementwiseOpsTest {
    /** Same float32 formula on both sides; only exp/log/pow last-ulp rounding of libm vs torch differs. */
    static final Tol POINTWISE = new Tol(1e-6, 2e-6, "single float32 op per element; libm vs torch ulp rounding");
    /** Broadcast gradients are sums over the broadcast dims (up to 33 terms) in different orders. */
    static final Tol REDUCED = new Tol(2e-6, 1e-5, "broadcast-reduced gradient: float sums of <= 33 terms, order differs");

    static TorchRef torch;

    @BeforeAll
    static void open() { torch = TorchRef.open(); }

    @AfterAll
    static void close() { torch.close(); }

    /** Shape pairs exercising: equal, trailing (bias), leading 1s, both sides broadcast, scalar, 0-d. */
    static final int[][][] SHAPES = {
            {{3, 7}, {3, 7}},
            {{2, 5, 33}, {33}},
            {{2, 5, 33}, {1, 5, 1}},
            {{4, 1, 6}, {1, 3, 1}},
            {{7}, {1}},
            {{2, 3}, {}},
            {{1}, {2, 1, 3}},
    };

    @Test
    void broadcastingBinaryOpsMatchTorch() {
        for (int[][] s : SHAPES) {
            String tag = java.util.Arrays.toString(s[0]) + "∘" + java.util.Arrays.toString(s[1]);
            Tensor a = randn(1, s[0]), b = randn(2, s[1]);
            Tensor bPos = uniform(3, 0.5f, 2f, s[1]);   // divisor away from 0
            torch.checkOp("add " + tag, REDUCED, List.of(a, b), x -> F.add(x.get(0), x.get(1)), x -> x.get(0).add(x.get(1)));
            torch.checkOp("sub " + tag, REDUCED, List.of(a, b), x -> F.sub(x.get(0), x.get(1)), x -> x.get(0).sub(x.get(1)));
            torch.checkOp("mul " + tag, REDUCED, List.of(a, b), x -> F.mul(x.get(0), x.get(1)), x -> x.get(0).mul(x.get(1)));
            torch.checkOp("div " + tag, REDUCED, List.of(a, bPos), x -> F.div(x.get(0), x.get(1)), x -> x.get(0).div(x.get(1)));
        }
    }

    @Test
    void minimumMaximumSplitTiesLikeTorch() {
        Tensor a = randn(4, 3, 11), b = randn(5, 3, 11);
        for (int i = 0; i < 33; i += 4) b.data()[i] = a.data()[i];   // exact ties: torch gives each side half
        torch.checkOp("minimum", POINTWISE, List.of(a, b), x -> F.minimum(x.get(0), x.get(1)), x -> x.get(0).minimum(x.get(1)));
        torch.checkOp("maximum", POINTWISE, List.of(a, b), x -> F.maximum(x.get(0), x.get(1)), x -> x.get(0).maximum(x.get(1)));
        Tensor c = randn(6, 11);
        torch.checkOp("maximum bcast", REDUCED, List.of(a, c), x -> F.maximum(x.get(0), x.get(1)), x -> x.get(0).maximum(x.get(1)));
    }

    @Test
    void unaryOpsMatchTorch() {
        Tensor x = randn(7, 5, 13);
        Tensor pos = uniform(8, 0.1f, 3f, 5, 13);
        torch.checkOp("neg", POINTWISE, List.of(x), t -> F.neg(t.get(0)), t -> t.get(0).neg());
        torch.checkOp("scale", POINTWISE, List.of(x), t -> F.scale(t.get(0), -0.37f), t -> t.get(0).mul(-0.37f));
        torch.checkOp("addScalar", POINTWISE, List.of(x), t -> F.addScalar(t.get(0), 1.5f), t -> t.get(0).add(1.5f));
        torch.checkOp("exp", POINTWISE, List.of(x), t -> F.exp(t.get(0)), t -> t.get(0).exp());
        torch.checkOp("log", POINTWISE, List.of(pos), t -> F.log(t.get(0)), t -> t.get(0).log());
        torch.checkOp("sqrt", POINTWISE, List.of(pos), t -> F.sqrt(t.get(0)), t -> t.get(0).sqrt());
        torch.checkOp("pow", POINTWISE, List.of(pos), t -> F.pow(t.get(0), 2.5f), t -> t.get(0).pow(2.5f));
        torch.checkOp("sigmoid", POINTWISE, List.of(x), t -> F.sigmoid(t.get(0)),
                t -> t.get(0).neg().exp().add(1f).pow(-1f));
        Tensor wide = F.scale(randn(16, 4, 9), 30f);   // large |x|: the naive log(sigmoid) would give -inf
        torch.checkOp("logSigmoid", POINTWISE, List.of(wide), t -> F.logSigmoid(t.get(0)),
                t -> t.get(0).minimum(0f).sub(t.get(0).abs().neg().exp().add(1f).log()));
        torch.checkOp("abs", POINTWISE, List.of(x), t -> F.abs(t.get(0)), t -> t.get(0).abs());
    }

    @Test
    void clampPassesGradientOnInclusiveBounds() {
        Tensor x = randn(9, 4, 9);
        x.data()[0] = -0.5f;   // exactly on the bounds: torch lets the gradient through
        x.data()[1] = 0.8f;
        torch.checkOp("clamp", POINTWISE, List.of(x), t -> F.clamp(t.get(0), -0.5f, 0.8f), t -> t.get(0).clip(-0.5f, 0.8f));
        torch.checkOp("clamp one-sided", POINTWISE, List.of(x), t -> F.clamp(t.get(0), 0.1f, Float.POSITIVE_INFINITY),
                t -> t.get(0).maximum(0.1f));
        assertThrows(IllegalArgumentException.class, () -> F.clamp(x, 1f, 0f));
    }

    @Test
    void whereRoutesGradientByCondition() {
        Tensor cond = TorchRef.mask(10, 0.5, 3, 8);
        Tensor a = randn(11, 3, 8), b = randn(12, 8);
        boolean[] diff = {false, true, true};
        torch.checkOp("where", REDUCED, List.of(cond, a, b), diff, t -> F.where(t.get(0), t.get(1), t.get(2)),
                t -> NDArrays.where(t.get(0).neq(0f), t.get(1), t.get(2).broadcast(3, 8)));
    }

    @Test
    void compositeGrpoClippedObjective() {
        // min(r·A, clamp(r, 1-ε, 1+ε)·A) with r = exp(logp - oldLogp): the PPO/GRPO surrogate
        Tensor logp = F.scale(randn(13, 4, 9), 0.2f), old = F.scale(randn(14, 4, 9), 0.2f), adv = randn(15, 4, 1);
        boolean[] diff = {true, false, false};
        torch.checkOp("grpo surrogate", REDUCED, List.of(logp, old, adv), diff, t -> {
            Tensor r = F.exp(F.sub(t.get(0), t.get(1)));
            return F.minimum(F.mul(r, t.get(2)), F.mul(F.clamp(r, 0.8f, 1.2f), t.get(2)));
        }, t -> {
            NDArray r = t.get(0).sub(t.get(1)).exp();
            return r.mul(t.get(2)).minimum(r.clip(0.8f, 1.2f).mul(t.get(2)));
        });
    }

    @Test
    void shapeMismatchErrorNamesOpAndShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> F.add(Tensor.zeros(2, 3), Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
        assertEquals(0, F.mul(Tensor.zeros(0, 3), Tensor.zeros(3)).numel());
    }
}
