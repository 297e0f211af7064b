package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;

/** SwiGLU: fast vs reference (incl. saturated inputs), reference vs libtorch forward and backward. */
class SwiGluKernelTest {

    @Test
    void fastMatchesReference() {
        Random rnd = new Random(30);
        for (int n : new int[] {0, 1, 7, 16, 33, 129, 20_011}) {
            float[] a = gaussian(rnd, n, 3), b = gaussian(rnd, n, 1), dout = gaussian(rnd, n, 1);
            if (n > 4) { a[0] = 90f; a[1] = -90f; a[2] = 1e-30f; a[3] = -30f; }   // exp overflow/underflow edges
            float[] o1 = new float[n], o2 = new float[n];
            SwiGluKernel.swigluForward(o1, a, b, n);
            SwiGluKernel.swigluForwardReference(o2, a, b, n);
            // vector exp (a few ulps) + float sigmoid vs double: relative ~1e-6
            assertClose("forward n=" + n, o2, o1, 1e-6, 3e-6);
            float[] da1 = gaussian(rnd, n, 1), da2 = da1.clone(), db1 = gaussian(rnd, n, 1), db2 = db1.clone();
            SwiGluKernel.swigluBackward(da1, db1, dout, a, b, n);
            SwiGluKernel.swigluBackwardReference(da2, db2, dout, a, b, n);
            // silu'(a) = sig + silu (1 - sig) cancels to 0 near a = -1.28, so da's error there is
            // absolute: a few ulps of |dout * b| * sig (<~1e-6 for these O(1..10) products)
            assertClose("da (accumulated) n=" + n, da2, da1, 4e-6, 3e-6);
            assertClose("db (accumulated) n=" + n, db2, db1, 1e-6, 3e-6);
        }
    }

    @Test
    void referenceMatchesLibTorch() {
        Random rnd = new Random(31);
        int n = 301;
        float[] a = gaussian(rnd, n, 3), b = gaussian(rnd, n, 1), dout = gaussian(rnd, n, 1);
        float[] out = new float[n], da = new float[n], db = new float[n];
        SwiGluKernel.swigluForwardReference(out, a, b, n);
        SwiGluKernel.swigluBackwardReference(da, db, dout, a, b, n);
        try (NDManager m = torch()) {
            TorchResult t = torchVjp(m, new float[][] {a, b}, new Shape[] {new Shape(n), new Shape(n)}, dout, in -> {
                NDArray sig = in[0].neg().exp().add(1).pow(-1);
                return in[0].mul(sig).mul(in[1]);   // silu(a) * b
            });
            // torch fp32 exp/divide vs our double: a few float ulps of O(1..10) values
            assertClose("forward vs torch", t.out(), out, 1e-6, 2e-6);
            assertClose("da vs torch", t.grads()[0], da, 1e-6, 2e-6);
            assertClose("db vs torch", t.grads()[1], db, 1e-6, 2e-6);
        }
    }
}
