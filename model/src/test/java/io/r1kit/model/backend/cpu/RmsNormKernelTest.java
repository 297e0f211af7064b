package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;

/** RMSNorm: fast vs scalar reference on awkward shapes, and reference vs libtorch (forward and backward). */
class RmsNormKernelTest {
    private static final int[][] SHAPES = {{1, 1}, {1, 7}, {3, 16}, {7, 33}, {33, 129}, {5, 1000}, {129, 257}, {64, 2048}};

    @Test
    void fastMatchesReference() {
        Random rnd = new Random(10);
        for (int[] s : SHAPES) {
            int N = s[0], C = s[1];
            float[] x = gaussian(rnd, N * C, 2), w = gaussian(rnd, C, 1), dout = gaussian(rnd, N * C, 1);
            float[] o1 = new float[N * C], o2 = new float[N * C], r1 = new float[N], r2 = new float[N];
            RmsNormKernel.rmsnormForward(o1, r1, x, w, N, C, 1e-6f);
            RmsNormKernel.rmsnormForwardReference(o2, r2, x, w, N, C, 1e-6f);
            String tag = " N=" + N + " C=" + C;
            // float-lane vs double sum of squares: rstd differs by a few float ulps (rel ~1e-7..1e-6)
            assertClose("rstd" + tag, r2, r1, 0, 2e-6);
            assertClose("out" + tag, o2, o1, 1e-6, 2e-6);
            // backward accumulates: start from non-zero gradients
            float[] dx1 = gaussian(rnd, N * C, 1), dx2 = dx1.clone(), dw1 = gaussian(rnd, C, 1), dw2 = dw1.clone();
            RmsNormKernel.rmsnormBackward(dx1, dw1, dout, x, w, r2, N, C);
            RmsNormKernel.rmsnormBackwardReference(dx2, dw2, dout, x, w, r2, N, C);
            // dx: float dot over C plus fma rounding vs double; dw: float partial sums over up
            // to N rows vs double. Both are O(1) sums of O(C) or O(N) terms: 1e-5 abs/rel is
            // ~10x their observed error and far below any formula mistake (O(1)).
            assertClose("dx" + tag, dx2, dx1, 1e-5, 1e-5);
            assertClose("dw" + tag, dw2, dw1, 1e-5 * Math.sqrt(N), 1e-5);
        }
    }

    @Test
    void referenceMatchesLibTorch() {
        Random rnd = new Random(11);
        int N = 13, C = 67;
        float eps = 1e-5f;
        float[] x = gaussian(rnd, N * C, 2), w = gaussian(rnd, C, 1), dout = gaussian(rnd, N * C, 1);
        float[] out = new float[N * C], rstd = new float[N];
        RmsNormKernel.rmsnormForwardReference(out, rstd, x, w, N, C, eps);
        float[] dx = new float[N * C], dw = new float[C];
        RmsNormKernel.rmsnormBackwardReference(dx, dw, dout, x, w, rstd, N, C);
        try (NDManager m = torch()) {
            TorchResult t = torchVjp(m, new float[][] {x, w}, new Shape[] {new Shape(N, C), new Shape(C)}, dout, in -> {
                NDArray xs = in[0];
                // HF LlamaRMSNorm: x * rsqrt(mean(x^2) + eps), then * w
                NDArray rs = xs.square().mean(new int[] {1}, true).add(eps).sqrt();
                return xs.div(rs).mul(in[1]);
            });
            // torch is fp32 throughout (mean, rsqrt, products), our reference double-accumulated:
            // the difference is fp32 rounding of O(1) values over C=67 terms, ~1e-6.
            assertClose("forward vs torch", t.out(), out, 1e-5, 1e-5);
            assertClose("dx vs torch", t.grads()[0], dx, 1e-5, 1e-5);
            assertClose("dw vs torch", t.grads()[1], dw, 1e-5, 1e-5);
        }
    }
}
