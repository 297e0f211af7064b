package io.r1kit.model.backend.device;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ops the GRPO and SFT losses are built from, on an {@link EmulatedDevice} against the same op
 * on the CPU: forward values and the gradients of every differentiable input, with the transfer log
 * showing NO copy during forward + backward (inputs are moved first; host index arrays are made
 * resident by a first, discarded run — they are uploaded once per array, see OnDevice).
 *
 * <p>Tolerances, unless a case says otherwise: the emulated device runs the CPU kernels, so the
 * elementwise ops give the CPU's bits (checked at 1e-7 relative, i.e. 1 ulp, + 1e-7 absolute);
 * the fused lm-head ops compute all rows in one GEMM where the host gathers the valid rows into
 * chunks, and the reductions on the device accumulate in double like the host but may scale by a
 * float reciprocal where the host divides in double — a few ulp, so 1e-5 relative + 1e-6 absolute.
 */
class DeviceLossOpsTest {
    final EmulatedDevice emu = new EmulatedDevice();

    /** One case: differentiable inputs, constant inputs (masks), the expression over (params ++ constants). */
    void check(String name, double rel, double abs, List<Tensor> params, List<Tensor> consts, Function<List<Tensor>, Tensor> expr) {
        List<Tensor> hostIn = new ArrayList<>(), devIn = new ArrayList<>();
        for (Tensor p : params) {
            hostIn.add(Tensor.of(p.data().clone(), p.shape()).requiresGrad(true));
            devIn.add(Tensor.of(p.data().clone(), p.shape()).toDevice(emu).requiresGrad(true));
        }
        for (Tensor c : consts) {
            hostIn.add(c);
            devIn.add(c.toDevice(emu));
        }
        Tensor hostOut = expr.apply(hostIn);
        Tensor w = Tensor.randn(99, hostOut.shape());          // a weighted sum: every output gets its own gradient
        F.sum(F.mul(hostOut, w)).backward();
        Tensor wd = w.toDevice(emu);
        expr.apply(devIn);                                      // warm-up: index arrays become resident
        emu.transfers().reset();
        Tensor devOut = expr.apply(devIn);
        F.sum(F.mul(devOut, wd)).backward();
        assertEquals(0, emu.transfers().log().size(), name + ": forward + backward copied: " + emu.transfers().log());
        assertTrue(devOut.isOnDevice(), name + ": result left the device");
        close(name + " value", hostOut.data(), devOut.data(), rel, abs);
        for (int i = 0; i < params.size(); i++)
            close(name + " grad of input " + i, hostIn.get(i).gradData(), devIn.get(i).gradData(), rel, abs);
    }

    static void close(String what, float[] want, float[] got, double rel, double abs) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++)
            if (!(Math.abs(want[i] - got[i]) <= abs + rel * Math.abs(want[i])) && !(Float.compare(want[i], got[i]) == 0))
                throw new AssertionError(what + "[" + i + "]: cpu " + want[i] + ", device " + got[i]);
    }

    static final int[] TARGETS = {3, -1, 0, 6, -1, 2};   // rows [2, 3] of h; -1 = prompt / padding

    @Test
    void fusedLmHeadTokenLogProbs() {
        check("linearTokenLogProbs", 1e-5, 1e-6, List.of(Tensor.randn(1, 2, 3, 5), Tensor.randn(2, 7, 5)), List.of(),
                x -> F.linearTokenLogProbs(x.get(0), x.get(1), TARGETS));
        check("linearTokenLogProbs, 2-row chunks on the host", 1e-5, 1e-6, List.of(Tensor.randn(3, 2, 3, 5), Tensor.randn(4, 7, 5)),
                List.of(), x -> F.linearTokenLogProbs(x.get(0), x.get(1), TARGETS, 2));
    }

    @Test
    void fusedLmHeadEntropy() {
        check("linearEntropy", 1e-5, 1e-6, List.of(Tensor.randn(5, 2, 3, 5), Tensor.randn(6, 7, 5)), List.of(),
                x -> F.linearEntropy(x.get(0), x.get(1), TARGETS));
    }
}
