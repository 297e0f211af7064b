package io.r1kit.model.backend.device;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tensor.DeviceStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Device storage of {@link Tensor}: the edges (toDevice / data / toHost) and the ops that refuse device tensors. */
class DeviceTensorTest {
    final EmulatedDevice emu = new EmulatedDevice();

    private long up() { return emu.transfers().count(Transfers.Direction.TO_DEVICE); }

    private long down() { return emu.transfers().count(Transfers.Direction.TO_HOST); }

    @Test
    void valuesCrossOnlyThroughCountedCopies() {
        Tensor h = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor d = h.toDevice(emu);
        assertTrue(d.isOnDevice());
        assertSame(emu, d.device());
        assertSame(d, d.toDevice(emu), "already there: no copy");
        assertEquals(1, up());
        assertEquals(24, emu.transfers().bytes(Transfers.Direction.TO_DEVICE));
        Tensor r = F.scale(F.reshape(d, 3, 2), 2f);   // a view and an op: no transfer
        assertEquals(1, up());
        assertEquals(0, down());
        assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, r.data());
        assertEquals(1, down(), "data() of a device tensor is one copy");
        float[] copy = r.data();
        copy[0] = 99;                          // a copy: the device is unchanged
        assertEquals(2f, r.get(0, 0));
        assertEquals(12f, r.toHost().get(2, 1));
        assertFalse(r.toHost().isOnDevice());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.set(1f, 0, 0));
        assertTrue(e.getMessage().contains("lives on emu"), e.getMessage());
    }

    @Test
    void parameterMovesInPlaceAndBackwardStaysOnDevice() {
        Parameter p = new Parameter("w", Tensor.of(new float[] {1, -2, 3}, 3));
        p.moveTo(emu);
        assertTrue(p.isOnDevice());
        emu.transfers().reset();
        Tensor loss = F.sum(F.mul(p, p));       // sum p², dp = 2p
        loss.backward();
        assertEquals(0, up() + down(), "forward + backward transfer nothing: " + emu.transfers().log());
        assertTrue(p.grad().isOnDevice());
        assertArrayEquals(new float[] {2, -4, 6}, p.gradData());
        p.zeroGrad();
        assertArrayEquals(new float[] {0, 0, 0}, p.gradData());
        p.copyFrom(new float[] {5, 6, 7});
        assertArrayEquals(new float[] {5, 6, 7}, p.moveToHost().data());
        assertFalse(p.isOnDevice());
    }

    /** Unreachable device tensors give their arrays back only at a safe point (the start of a device op), never mid-op. */
    @Test
    void unreachableStorageIsFreedAtTheNextDeviceOpOnly() throws InterruptedException {
        Tensor keep = Tensor.ones(4).toDevice(emu);
        Tensor t = Tensor.ones(8).toDevice(emu);
        HostArray a = (HostArray) t.deviceArray("test");
        java.lang.ref.WeakReference<Tensor> ref = new java.lang.ref.WeakReference<>(t);
        t = null;
        for (int i = 0; i < 200 && ref.get() != null; i++) { System.gc(); Thread.sleep(5); }
        Thread.sleep(100);                          // the Cleaner thread queues the array
        assertFalse(a.closed(), "no release outside a safe point");
        for (int i = 0; i < 200 && !a.closed(); i++) { F.scale(keep, 1f); Thread.sleep(5); }
        assertTrue(a.closed(), "released by the next device op");
    }

    @Test
    void mixingHostAndDeviceInputsIsAnErrorNamingTheInputs() {
        Tensor d = Tensor.ones(4).toDevice(emu), h = Tensor.ones(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.add(d, h));
        assertTrue(e.getMessage().contains("input 1 [4] on the host"), e.getMessage());
        EmulatedDevice other = new EmulatedDevice();
        e = assertThrows(IllegalArgumentException.class, () -> F.matmul(Tensor.ones(2, 2).toDevice(emu), Tensor.ones(2, 2).toDevice(other)));
        assertTrue(e.getMessage().contains("two devices"), e.getMessage());
    }

    @Test
    void bf16StorageIsRefusedByF32Ops() {
        DeviceArray x = emu.alloc(ElementType.F32, 4);
        Tensor bf = Tensor.onDevice(new DeviceStorage(emu, emu.castToBf16(x, 0, 4)), 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.scale(bf, 2f));
        assertTrue(e.getMessage().contains("BF16"), e.getMessage());
    }

    /**
     * The ops WITHOUT a device implementation yet: each must refuse a device tensor (never copy it
     * to the host behind the caller's back). This list is the documented gap (README, GPU section).
     */
    @Test
    void opsWithoutDeviceImplementationFailLoudlyAndCopyNothing() {
        Tensor x = Tensor.randn(1, 2, 3).toDevice(emu), m = Tensor.ones(2, 3).toDevice(emu);
        Map<String, Executable> unsupported = new LinkedHashMap<>();
        unsupported.put("keyMask", () -> F.keyMask(m));   // returns host bytes: by definition a read of the tensor
        emu.transfers().reset();
        for (var e : unsupported.entrySet()) {
            try {
                e.getValue().execute();
                fail(e.getKey() + " ran on a device tensor; add it to the device ops or keep it refused");
            } catch (UnsupportedOperationException | IllegalArgumentException expected) {
                // refused
            } catch (Throwable t) {
                fail(e.getKey() + " failed with " + t, t);
            }
        }
        long ups = emu.transfers().log().stream().filter(t -> !t.what().startsWith("tensor ")).count();
        assertEquals(0, ups + down(), "refusing ops copied something: " + emu.transfers().log());
    }
}
