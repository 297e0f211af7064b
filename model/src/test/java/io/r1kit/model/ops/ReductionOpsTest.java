package io.r1kit.model.ops;

import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.testing.TorchRef.Tol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.r1kit.model.testing.TorchRef.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** sum / mean (all, per dim, keepdim) and masked sums / means (global and per row) vs libtorch. */
class ReductionOpsTest {
    /** We accumulate in double, torch in float32 (pairwise): sums of <= 1000 N(0,1) terms differ by ~1e-5. */
    static final Tol SUM = new Tol(3e-5, 1e-5, "float32 (torch) vs double (ours) accumulation of <= 1000 terms");

    static TorchRef torch;

    @BeforeAll
    static void open() { torch = TorchRef.open(); }

    @AfterAll
    static void close() { torch.close(); }

    @Test
    void sumAndMeanOverAllAndEachDim() {
        Tensor x = randn(1, 3, 7, 33);
        torch.checkOp("sum", SUM, List.of(x), t -> F.sum(t.get(0)), t -> t.get(0).sum());
        torch.checkOp("mean", SUM, List.of(x), t -> F.mean(t.get(0)), t -> t.get(0).mean());
        for (int d = -3; d < 3; d++)
            for (boolean keep : new boolean[] {false, true}) {
                int dim = d;
                torch.checkOp("sum dim " + d + " keep " + keep, SUM, List.of(x), t -> F.sum(t.get(0), dim, keep),
                        t -> t.get(0).sum(new int[] {dim < 0 ? dim + 3 : dim}, keep));
                torch.checkOp("mean dim " + d + " keep " + keep, SUM, List.of(x), t -> F.mean(t.get(0), dim, keep),
                        t -> t.get(0).mean(new int[] {dim < 0 ? dim + 3 : dim}, keep));
            }
        assertEquals(0, F.sum(Tensor.ones(2, 3)).rank(), "sum of all is 0-d like torch");
    }

    @Test
    void maskedSumAndMeanGlobalAndPerRow() {
        Tensor x = randn(2, 5, 17), m = TorchRef.mask(3, 0.6, 5, 17);
        boolean[] diff = {true, false};
        torch.checkOp("maskedSum", SUM, List.of(x, m), diff, t -> F.maskedSum(t.get(0), t.get(1)),
                t -> t.get(0).mul(t.get(1)).sum());
        torch.checkOp("maskedMean", SUM, List.of(x, m), diff, t -> F.maskedMean(t.get(0), t.get(1)),
                t -> t.get(0).mul(t.get(1)).sum().div(t.get(1).sum()));
        torch.checkOp("maskedSum per row", SUM, List.of(x, m), diff, t -> F.maskedSum(t.get(0), t.get(1), 1),
                t -> t.get(0).mul(t.get(1)).sum(new int[] {1}));
        torch.checkOp("maskedMean per row", SUM, List.of(x, m), diff, t -> F.maskedMean(t.get(0), t.get(1), 1),
                t -> t.get(0).mul(t.get(1)).sum(new int[] {1}).div(t.get(1).sum(new int[] {1})));
        torch.checkOp("maskedMean over dim 0", SUM, List.of(x, m), diff, t -> F.maskedMean(t.get(0), t.get(1), 0),
                t -> t.get(0).mul(t.get(1)).sum(new int[] {0}).div(t.get(1).sum(new int[] {0})));
    }

    @Test
    void allZeroMaskRowGivesZeroNotNaN() {
        Tensor x = randn(4, 2, 3).requiresGrad(true);
        Tensor m = Tensor.of(new float[] {1, 1, 0, 0, 0, 0}, 2, 3);
        Tensor r = F.maskedMean(x, m, 1);
        assertEquals(0f, r.get(1));
        assertEquals((x.get(0, 0) + x.get(0, 1)) / 2, r.get(0), 1e-6f);
        F.sum(r).backward();
        assertEquals(0.5f, x.grad().get(0, 0));
        assertEquals(0f, x.grad().get(0, 2));
        assertEquals(0f, x.grad().get(1, 1));
        assertEquals(0f, F.maskedMean(x, Tensor.zeros(2, 3)).item());
        assertThrows(IllegalArgumentException.class, () -> F.maskedMean(x, Tensor.zeros(3, 2)));
    }
}
