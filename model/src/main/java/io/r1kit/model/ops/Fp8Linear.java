package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.fp8.Fp8Blocks;
import io.r1kit.model.fp8.Fp8Gemm;
import io.r1kit.model.fp8.Fp8Recipe;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A linear layer trained in FP8 ({@code precision: fp8}, host only): x [..., K] · wᵀ with w [N, K],
 * the forward and both backward GEMMs run by {@link Fp8Gemm} on operands quantised per
 * {@link Fp8Recipe}. What backward needs of the input is kept as its FP8 codes and scales (1 byte
 * per element plus a float per 1×128 tile), and the weight as its 128×128-block FP8 copy; the
 * master weight and every gradient stay FP32.
 */
final class Fp8Linear {
    private Fp8Linear() {}

    /** Bytes of FP8 codes and scales the nodes have saved for backward since the last {@link #resetSavedBytes}. */
    private static final AtomicLong SAVED_BYTES = new AtomicLong();

    static long savedBytes() {
        return SAVED_BYTES.get();
    }

    static void resetSavedBytes() {
        SAVED_BYTES.set(0);
    }

    static Tensor linear(Tensor x, Tensor w, Fp8Recipe recipe) {
        OnDevice.requireHost("fp8 linear (precision fp8 runs on the host)", x, w);
        int[] xs = x.shape(), ws = w.shape();
        if (ws.length != 2 || xs.length < 1 || xs[xs.length - 1] != ws[1]) {
            throw new IllegalArgumentException("fp8 linear: x " + Shape.str(xs) + " and w " + Shape.str(ws) + " (expected x [..., K], w [N, K])");
        }
        int K = ws[1], N = ws[0], M = x.numel() / Math.max(K, 1);
        Fp8Blocks qx = recipe.alongRows(x.data(), M, K);
        Fp8Blocks qw = recipe.weights(w.data(), N, K);
        int[] outShape = Arrays.copyOf(xs, xs.length);
        outShape[xs.length - 1] = N;
        Tensor out = Tensor.zeros(outShape);
        Fp8Gemm.forward(Backends.current(), qx, qw, out.data());
        if (Grad.needsGrad(x, w)) {
            SAVED_BYTES.addAndGet(qx.byteSize() + qw.byteSize());
            Grad.attach(out, new Fp8LinearNode(x, w, recipe, qx, qw, M, N, K));
        }
        return out;
    }

    private static final class Fp8LinearNode extends Node {
        private final Fp8Recipe recipe;
        private final int M, N, K;
        private Fp8Blocks qx, qw;

        Fp8LinearNode(Tensor x, Tensor w, Fp8Recipe recipe, Fp8Blocks qx, Fp8Blocks qw, int M, int N, int K) {
            super("fp8_linear", x, w);
            this.recipe = recipe;
            this.qx = qx;
            this.qw = qw;
            this.M = M;
            this.N = N;
            this.K = K;
        }

        @Override
        protected void backward(float[] dy) {
            Tensor x = input(0), w = input(1);
            if (x.requiresGrad()) Fp8Gemm.inputGrad(Backends.current(), recipe.alongRows(dy, M, N), qw, x.gradBuffer());
            if (w.requiresGrad()) {
                // x from its saved FP8 copy, re-tiled along the tokens (the weight gradient's inner dimension)
                Fp8Blocks xAlongM = recipe.alongColumns(qx.dequantize(), M, K);
                Fp8Gemm.weightGrad(Backends.current(), recipe.alongColumns(dy, M, N), xAlongM, w.gradBuffer());
            }
        }

        @Override
        protected void release() {
            qx = null;
            qw = null;
            super.release();
        }
    }
}
