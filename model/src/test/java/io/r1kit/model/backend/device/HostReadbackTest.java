package io.r1kit.model.backend.device;

import io.r1kit.model.backend.device.Transfers.Direction;
import io.r1kit.model.ops.F;
import io.r1kit.model.ops.HostSums;
import io.r1kit.model.ops.MaskedSums;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device-neutral read-backs code above model/ uses instead of asking where a tensor lives
 * ({@link HostSums}, {@link MaskedSums}, {@link Tensor#hostValues}, {@link Tensor#toDeviceOf},
 * {@link Parameter#snapshot}): the host forms against sums written out here in double (exact), the
 * device forms against the host ones within fp32 rounding of the read value (1e-6 relative: one
 * rounding of a double sum), and on the device only the named few bytes cross.
 */
class HostReadbackTest {
    private final EmulatedDevice emu = new EmulatedDevice();
    private static final int N = 3, T = 7;

    private static float[] values(long seed, int n, boolean mask) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = mask ? (r.nextInt(3) == 0 ? 0f : (float) r.nextDouble(0.25, 1)) : (float) r.nextGaussian();
        return v;
    }

    private long down() {
        return emu.transfers().count(Direction.TO_HOST);
    }

    @Test
    void hostSumsOnTheHostAreTheDoubleLoopsAndOnTheDeviceOneReductionEach() {
        float[] x = values(1, N * T, false), m = values(2, N * T, true);
        Tensor hx = Tensor.of(x, N, T), hm = Tensor.of(m, N, T);
        double masked = 0, all = 0;
        double[] rows = new double[N];
        for (int k = 0; k < x.length; k++) {
            if (m[k] != 0) masked += x[k] * m[k];
            all += x[k];
            rows[k / T] -= x[k];
        }
        assertEquals(masked, HostSums.maskedSum(hx, hm, "masked"));
        assertEquals(all, HostSums.sum(hx, "sum"));
        assertArrayEquals(rows, HostSums.negatedRowSums(hx));

        Tensor dx = hx.toDevice(emu), dm = hm.toDevice(emu);
        emu.transfers().reset();
        assertEquals(masked, HostSums.maskedSum(dx, dm, "masked"), 1e-6 * Math.abs(masked) + 1e-7);
        assertEquals(all, HostSums.sum(dx, "sum"), 1e-6 * Math.abs(all) + 1e-7);
        double[] dRows = HostSums.negatedRowSums(dx);
        for (int b = 0; b < N; b++) assertEquals(rows[b], dRows[b], 1e-6 * Math.abs(rows[b]) + 1e-7);
        assertEquals(List.of("4 masked", "4 sum", "12 data() of [3]"), emu.transfers().log().stream().map(t -> t.bytes() + " " + t.what()).toList());
    }

    @Test
    void maskedSumsReadTheValuesAndSumsTogether() {
        float[] x = values(3, N * T, false), m = values(4, N * T, true);
        Tensor hx = Tensor.of(x, N, T), hm = Tensor.of(m, N, T), loss = Tensor.scalar(2.5f);
        double weighted = 0, positive = 0;
        for (int k = 0; k < x.length; k++) {
            if (m[k] == 0) continue;
            weighted += m[k] * (double) x[k];
            if (x[k] > 0) positive += m[k];
        }
        double[] host = sums(hm, loss, hx);
        assertArrayEquals(new double[] {2.5, weighted, positive}, host);

        Tensor dx = hx.toDevice(emu), dm = hm.toDevice(emu), dLoss = loss.toDevice(emu);
        emu.transfers().reset();
        double[] dev = sums(dm, dLoss, dx);
        assertEquals(2.5, dev[0]);
        assertEquals(weighted, dev[1], 1e-6 * Math.abs(weighted) + 1e-7);
        assertEquals(positive, dev[2], 1e-6 * positive);
        assertEquals(1, down(), "one copy for the loss and both sums: " + emu.transfers());
        assertEquals("metrics [3]", emu.transfers().log().get(0).what());
        assertEquals(12, emu.transfers().log().get(0).bytes());
    }

    private static double[] sums(Tensor mask, Tensor loss, Tensor x) {
        return MaskedSums.over(mask, "metrics")
                .value(loss)
                .sum((k, m, v) -> m * v[0][k], () -> F.maskedSum(x, mask), x)
                .sum((k, m, v) -> v[0][k] > 0 ? m : 0, () -> F.maskedSum(F.greaterThan(x, 0f), mask), x)
                .read();
    }

    @Test
    void hostValuesAndToDeviceOfFollowTheTensor() {
        float[] x = values(5, 6, false);
        Tensor h = Tensor.wrap(x, 2, 3);
        assertSame(x, h.hostValues("x"), "a host tensor's values are its storage, not a copy");
        Tensor a = Tensor.vector(1, 2);
        assertSame(a, a.toDeviceOf(h, "a"), "next to a host tensor: stays");

        Tensor d = h.toDevice(emu);
        emu.transfers().reset();
        assertArrayEquals(x, d.hostValues("x back"));
        Tensor ad = a.toDeviceOf(d, "a up");
        assertSame(emu, ad.device());
        assertArrayEquals(new float[] {1, 2}, ad.data());
        assertEquals("x back", emu.transfers().log().get(0).what());
        assertEquals("a up", emu.transfers().log().get(1).what());
    }

    @Test
    void aSnapshotPutsTheWeightsBackWhereTheyLive() {
        for (boolean onDevice : new boolean[] {false, true}) {
            Parameter p = new Parameter("w", values(6, 6, false), 2, 3);
            float[] before = p.toArray();
            if (onDevice) p.moveTo(emu);
            Tensor snap = p.snapshot();
            emu.transfers().reset();
            p.copyFrom(new float[] {1, 2, 3, 4, 5, 6});
            p.restore(snap);
            assertArrayEquals(before, p.toArray(), onDevice ? "device" : "host");
            if (onDevice) assertEquals(1, down(), "restoring is a device copy (the one read is toArray)");
            Parameter smaller = new Parameter("v", new float[4], 4);
            assertThrows(IllegalArgumentException.class, () -> smaller.restore(snap), "another size");
            if (onDevice) {
                Parameter onHost = new Parameter("h", new float[6], 2, 3);
                assertThrows(IllegalArgumentException.class, () -> onHost.restore(snap), "a device snapshot into a host parameter");
            }
        }
    }

    @Test
    void weightsAreFiniteUntilOneIsNot() {
        for (boolean onDevice : new boolean[] {false, true}) {
            Parameter a = new Parameter("a", values(7, 4, false), 4), b = new Parameter("b", values(8, 3, false), 3);
            if (onDevice) {
                a.moveTo(emu);
                b.moveTo(emu);
            }
            assertTrue(Parameter.allFinite(List.of(a, b)));
            b.copyFrom(new float[] {0, Float.NaN, 1});
            assertFalse(Parameter.allFinite(List.of(a, b)));
            b.copyFrom(new float[] {0, Float.POSITIVE_INFINITY, 1});
            assertFalse(Parameter.allFinite(List.of(a, b)));
        }
    }

    @Test
    void backwardFromALeafAccumulatesIntoItsOwnGradient() {
        Tensor x = Tensor.vector(3f).requiresGrad(true);
        x.backward();
        x.backward();
        assertArrayEquals(new float[] {2f}, x.gradData());
        assertThrows(IllegalStateException.class, () -> Tensor.vector(1f).backward(), "no grad required");
        Tensor d = Tensor.vector(1f, 2f).toDevice(emu).requiresGrad(true);
        d.backward(Tensor.vector(0.5f, -1f).toDevice(emu));
        assertArrayEquals(new float[] {0.5f, -1f}, d.gradData());
    }
}
