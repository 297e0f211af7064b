package io.r1kit.model.tensor;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.backend.device.HostDevice;

import java.lang.ref.Cleaner;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Where a device tensor's values live: an array on a {@link DeviceBackend}, F32 or BF16 (the bf16
 * weight copy of mixed precision). Shared by views (reshape, detach).
 *
 * <p>Freeing: when the last tensor holding this storage becomes unreachable, a Cleaner queues its
 * array, and the queue is emptied (arrays returned to the device's allocator) only at a <em>safe
 * point</em>, {@link #releaseUnreachable}, which device ops call when they start. An op may drop
 * the last reference to an input while it is still launching kernels on that input's array; a
 * release at that moment could hand the block to a temporary the same op allocates next (a bf16
 * cast, say) before the kernel reading it ran. Between ops everything of the previous op is
 * enqueued on the device's single stream, so reusing the block afterwards is ordered behind it.
 * This is GC-driven: the GC does not see device memory pressure (see the README's GPU section).
 */
public final class DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Map<DeviceBackend, Queue<DeviceArray>> UNREACHABLE = new ConcurrentHashMap<>();

    private final DeviceBackend device;
    private final DeviceArray array;

    public DeviceStorage(DeviceBackend device, DeviceArray array) {
        if (array.type() != ElementType.F32 && array.type() != ElementType.BF16)
            throw new IllegalArgumentException("tensor storage must be F32 or BF16, got " + array.type());
        this.device = device;
        this.array = array;
        freeWhenUnreachable(this, device, array);
    }

    /** A zero-filled storage of n elements. */
    public static DeviceStorage zeros(DeviceBackend device, ElementType type, long n) {
        return new DeviceStorage(device, device.alloc(type, n));
    }

    /**
     * Queues {@code array} for release once {@code owner} is unreachable (the action holds the
     * array and the device, never the owner); freed at the device's next safe point.
     */
    public static void freeWhenUnreachable(Object owner, DeviceBackend device, DeviceArray array) {
        if (device instanceof HostDevice) return;   // host memory: the GC frees it, nothing to return
        Queue<DeviceArray> q = UNREACHABLE.computeIfAbsent(device, d -> new ConcurrentLinkedQueue<>());
        CLEANER.register(owner, () -> q.add(array));
    }

    /** The safe point: returns every queued array of {@code device} to its allocator. Call between ops only. */
    public static void releaseUnreachable(DeviceBackend device) {
        Queue<DeviceArray> q = UNREACHABLE.get(device);
        if (q == null) return;
        for (DeviceArray a; (a = q.poll()) != null; ) a.close();
    }

    public DeviceBackend device() { return device; }

    public DeviceArray array() { return array; }

    public ElementType dtype() { return array.type(); }
}
