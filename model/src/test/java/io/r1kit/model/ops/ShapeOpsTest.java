package io.r1kit.model.ops;

import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.testing.TorchRef.Tol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.List;

import static io.r1kit.model.testing.TorchRef.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** reshape, transpose, slice, concat, indexSelect and embedding (with its sparse gradient) vs libtorch. */
class ShapeOpsTest {
    /** Pure data movement: values must be bit-identical; gradients are sums of at most a few copies. */
    static final Tol EXACT = new Tol(1e-6, 1e-6, "data movement only; repeated-index gradient sums of <= 4 terms");

    static TorchRef torch;

    @BeforeAll
    static void open() { torch = TorchRef.open(); }

    @AfterAll
    static void close() { torch.close(); }

    @Test
    void reshapeIsAViewWithGradient() {
        Tensor x = randn(1, 2, 3, 4);
        torch.checkOp("reshape", EXACT, List.of(x), t -> F.reshape(t.get(0), 6, -1), t -> t.get(0).reshape(6, 4));
        Tensor v = F.reshape(x, 4, 6);
        assertSame(x.data(), v.data(), "reshape shares storage");
        assertThrows(IllegalArgumentException.class, () -> F.reshape(x, 5, -1));
        assertThrows(IllegalArgumentException.class, () -> F.reshape(x, 7, 3));
    }

    @Test
    void transposeEveryPairOfDims() {
        Tensor x = randn(2, 2, 3, 5, 7);
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++) {
                int d0 = a, d1 = b;
                torch.checkOp("transpose " + a + "," + b, EXACT, List.of(x), t -> F.transpose(t.get(0), d0, d1),
                        t -> t.get(0).swapAxes(d0, d1));
            }
        torch.checkOp("transpose 2-D", EXACT, List.of(randn(3, 7, 33)), t -> F.transpose(t.get(0), 0, -1),
                t -> t.get(0).transpose());
    }

    @Test
    void sliceAlongEachDim() {
        Tensor x = randn(4, 3, 7, 5);
        torch.checkOp("slice 0", EXACT, List.of(x), t -> F.slice(t.get(0), 0, 1, 3), t -> t.get(0).get(new NDIndex("1:3")));
        torch.checkOp("slice 1", EXACT, List.of(x), t -> F.slice(t.get(0), 1, 2, 7), t -> t.get(0).get(new NDIndex(":, 2:7")));
        torch.checkOp("slice -1", EXACT, List.of(x), t -> F.slice(t.get(0), -1, 4, 5), t -> t.get(0).get(new NDIndex(":, :, 4:5")));
        assertThrows(IllegalArgumentException.class, () -> F.slice(x, 1, 3, 8));
    }

    @Test
    void concatAlongEachDim() {
        Tensor a = randn(5, 2, 3, 4), b = randn(6, 2, 1, 4), c = randn(7, 2, 5, 4);
        torch.checkOp("concat 1", EXACT, List.of(a, b, c), t -> F.concat(t, 1), t -> NDArrays.concat(new NDList(t), 1));
        Tensor d = randn(8, 3, 3, 4);
        torch.checkOp("concat 0", EXACT, List.of(a, d), t -> F.concat(t, 0), t -> NDArrays.concat(new NDList(t), 0));
        Tensor e = randn(9, 2, 3, 1);
        torch.checkOp("concat -1", EXACT, List.of(a, e), t -> F.concat(t, -1), t -> NDArrays.concat(new NDList(t), 2));
        assertThrows(IllegalArgumentException.class, () -> F.concat(List.of(a, e), 1));
    }

    @Test
    void indexSelectAndEmbeddingMatchOneHotMatmul() {
        int V = 11, C = 6;
        Tensor table = randn(10, V, C);
        int[] ids = {3, 0, 10, 3, 7, 3};   // repeated ids accumulate
        float[] onehot = new float[ids.length * V];
        for (int i = 0; i < ids.length; i++) onehot[i * V + ids[i]] = 1f;
        Tensor oh = Tensor.of(onehot, ids.length, V);
        boolean[] diff = {true, false};
        torch.checkOp("indexSelect", EXACT, List.of(table, oh), diff, t -> F.indexSelect(t.get(0), ids),
                t -> t.get(1).matMul(t.get(0)));
        torch.checkOp("embedding [2,3]", EXACT, List.of(table, oh), diff, t -> F.embedding(t.get(0), ids, 2, 3),
                t -> t.get(1).matMul(t.get(0)).reshape(2, 3, C));
        assertThrows(IndexOutOfBoundsException.class, () -> F.embedding(table, new int[] {11}));
        assertThrows(IllegalArgumentException.class, () -> F.embedding(table, ids, 4, 2));
    }

    @Test
    void embeddingGradientIsSparseAndZeroGradClearsOnlyTouchedRows() {
        Parameter table = Parameter.randn("embed", new java.util.SplittableRandom(1), 1f, 50, 4);
        F.sum(F.embedding(table, new int[] {2, 9, 2})).backward();
        BitSet rows = table.sparseGradRows();
        assertEquals(BitSet.valueOf(new long[] {(1L << 2) | (1L << 9)}), rows);
        assertEquals(2f, table.grad().get(2, 0));
        assertEquals(1f, table.grad().get(9, 3));
        assertEquals(0f, table.grad().get(3, 0));
        table.zeroGrad();
        assertArrayEquals(new float[50 * 4], table.gradData());
        // a dense use (tied lm_head) makes the gradient dense: zeroGrad then clears everything
        F.sum(F.linear(Tensor.ones(1, 4), table)).backward();
        assertEquals(null, table.sparseGradRows());
        table.zeroGrad();
        assertArrayEquals(new float[50 * 4], table.gradData());
    }
}
