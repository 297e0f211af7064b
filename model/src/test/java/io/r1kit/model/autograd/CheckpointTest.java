package io.r1kit.model.autograd;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Checkpointed blocks give bit-identical gradients to the plain run and keep no graph inside. */
@SuppressWarnings("try")
class CheckpointTest {
    static final int B = 2, T = 5, C = 8, H = 2, D = 4, FF = 12;

    /** A small pre-norm transformer block with its own parameters. */
    static final class Block {
        final Parameter norm1, wq, wk, wv, wo, norm2, wg, wu, wd;
        final RopeTables rope = RopeTables.build(D, 16, 10000, RopeTables.Scaling.none());
        final int[] pos = F.positions(B, T);

        Block(int seed) {
            SplittableRandom r = new SplittableRandom(seed);
            norm1 = new Parameter("n1." + seed, Tensor.uniform(r, 0.5f, 1.5f, C));
            norm2 = new Parameter("n2." + seed, Tensor.uniform(r, 0.5f, 1.5f, C));
            wq = Parameter.randn("q." + seed, r, 0.3f, H * D, C);
            wk = Parameter.randn("k." + seed, r, 0.3f, H * D, C);
            wv = Parameter.randn("v." + seed, r, 0.3f, H * D, C);
            wo = Parameter.randn("o." + seed, r, 0.3f, C, H * D);
            wg = Parameter.randn("g." + seed, r, 0.3f, FF, C);
            wu = Parameter.randn("u." + seed, r, 0.3f, FF, C);
            wd = Parameter.randn("d." + seed, r, 0.3f, C, FF);
        }

        List<Parameter> params() { return List.of(norm1, wq, wk, wv, wo, norm2, wg, wu, wd); }

        Tensor forward(Tensor x) {
            Tensor h = F.rmsNorm(x, norm1, 1e-6f);
            Tensor q = F.rope(F.reshape(F.linear(h, wq), B, T, H, D), pos, rope);
            Tensor k = F.rope(F.reshape(F.linear(h, wk), B, T, H, D), pos, rope);
            Tensor v = F.reshape(F.linear(h, wv), B, T, H, D);
            x = F.add(x, F.linear(F.reshape(F.attention(q, k, v, null), B, T, H * D), wo));
            Tensor m = F.rmsNorm(x, norm2, 1e-6f);
            return F.add(x, F.linear(F.swiglu(F.linear(m, wg), F.linear(m, wu)), wd));
        }
    }

    private static List<float[]> run(List<Block> blocks, Tensor input, boolean checkpoint) {
        for (Block b : blocks) for (Parameter p : b.params()) p.clearGrad();
        Tensor x = input.copy().requiresGrad(true);
        Tensor h = x;
        for (Block b : blocks) {
            UnaryOperator<Tensor> f = b::forward;
            h = checkpoint ? Checkpoint.run(f, h) : f.apply(h);
        }
        F.sum(F.mul(h, h)).backward();
        List<float[]> grads = new ArrayList<>();
        grads.add(x.gradData().clone());
        for (Block b : blocks) for (Parameter p : b.params()) grads.add(p.gradData().clone());
        return grads;
    }

    @Test
    void checkpointedGradientsAreBitIdentical() {
        List<Block> blocks = List.of(new Block(1), new Block(2), new Block(3));
        Tensor input = Tensor.randn(42L, B, T, C);
        List<float[]> plain = run(blocks, input, false);
        List<float[]> ckpt = run(blocks, input, true);
        for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), ckpt.get(i), "gradient " + i);
    }

    @Test
    void parametersGetGradientsWhenTheInputNeedsNone() {
        Block b = new Block(5);
        Tensor x = Tensor.randn(6L, B, T, C);   // e.g. the embedding output of a frozen table
        F.sum(b.forward(x)).backward();
        List<float[]> plain = new ArrayList<>();
        for (Parameter p : b.params()) { plain.add(p.gradData().clone()); p.clearGrad(); }
        F.sum(Checkpoint.run(b::forward, x)).backward();
        for (int i = 0; i < plain.size(); i++) assertArrayEquals(plain.get(i), b.params().get(i).gradData(), "param " + i);
        assertNull(x.gradData());
    }

    @Test
    void checkpointKeepsNoInnerGraph() {
        Block b = new Block(4);
        Tensor x = Tensor.randn(5L, B, T, C).requiresGrad(true);
        Tensor y = Checkpoint.run(b::forward, x);
        // the only recorded node is the checkpoint itself, whose single input is x
        assertArrayEquals(new Tensor[] {x}, y.gradFn().inputs());
        try (var ng = Grad.noGrad()) {
            Tensor z = Checkpoint.run(b::forward, x);
            assertNull(z.gradFn());
            assertFalse(z.requiresGrad());
        }
    }
}
