package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** Embedding lookup and scatter-add backward: fast vs reference (repeated ids), reference vs libtorch. */
class EmbeddingKernelTest {

    @Test
    void fastMatchesReferenceBitExact() {
        Random rnd = new Random(40);
        int[][] shapes = {{1, 1, 1}, {7, 5, 7}, {33, 3, 33}, {129, 50, 129}, {1000, 17, 64}, {64, 9, 4099}};
        for (int[] s : shapes) {
            int N = s[0], vocab = s[1], C = s[2];
            float[] table = gaussian(rnd, vocab * C, 1), dout = gaussian(rnd, N * C, 1);
            int[] ids = new int[N];
            for (int n = 0; n < N; n++) ids[n] = rnd.nextInt(vocab);   // many repeats when N > vocab
            float[] o1 = new float[N * C], o2 = new float[N * C];
            EmbeddingKernel.embeddingForward(o1, table, ids, N, C);
            EmbeddingKernel.embeddingForwardReference(o2, table, ids, N, C);
            assertArrayEquals(o2, o1, "forward N=" + N + " C=" + C);
            // accumulate into a pre-filled gradient; the fast kernel adds each column's
            // contributions in token order like the reference, so the sums are bit-identical
            float[] d1 = gaussian(rnd, vocab * C, 1), d2 = d1.clone();
            EmbeddingKernel.embeddingBackward(d1, dout, ids, N, C);
            EmbeddingKernel.embeddingBackwardReference(d2, dout, ids, N, C);
            assertArrayEquals(d2, d1, "backward N=" + N + " C=" + C);
        }
    }

    @Test
    void outOfRangeIdFailsClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EmbeddingKernel.embeddingForward(new float[4], new float[8], new int[] {1, 4}, 2, 2));   // vocab = 8 / 2 = 4
        assertTrue(e.getMessage().contains("ids[1]=4") && e.getMessage().contains("vocab=4"), e.getMessage());
    }

    @Test
    void referenceMatchesLibTorch() {
        Random rnd = new Random(41);
        int N = 23, vocab = 11, C = 19;
        float[] table = gaussian(rnd, vocab * C, 1), dout = gaussian(rnd, N * C, 1);
        int[] ids = new int[N];
        for (int n = 0; n < N; n++) ids[n] = rnd.nextInt(vocab);
        float[] out = new float[N * C], dtable = new float[vocab * C];
        EmbeddingKernel.embeddingForwardReference(out, table, ids, N, C);
        EmbeddingKernel.embeddingBackwardReference(dtable, dout, ids, N, C);
        try (NDManager m = torch()) {
            var oneHot = m.create(ids).oneHot(vocab, DataType.FLOAT32);   // [N, vocab]
            TorchResult t = torchVjp(m, new float[][] {table}, new Shape[] {new Shape(vocab, C)}, dout,
                    in -> oneHot.matMul(in[0]));
            // one-hot matmul: each output is one table entry (+ exact zeros): exact in fp32
            assertClose("forward vs torch", t.out(), out, 0, 0);
            // the gradient sums the same dout rows, possibly in another order: fp32 reordering
            assertClose("dtable vs torch", t.grads()[0], dtable, 1e-6, 1e-6);
        }
    }
}
