package io.r1kit.model.ops;

import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import io.r1kit.model.tensor.DeviceStorage;

import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * How ops decide where to run, and the helpers they share. An op whose tensor inputs all live on
 * one backend runs there ({@link #backendOf}: a device, or the host as a device); mixing host and
 * device inputs, or two devices, is an error naming the input (never a silent copy). An op without a device
 * implementation calls {@link #requireHost} first, so a device tensor reaching it fails loudly
 * instead of being copied to the host through {@code data()}.
 *
 * <p>Host index arrays the ops take as {@code int[]}/{@code byte[]} (token ids, positions,
 * targets, key masks) and the RoPE tables are uploaded once and reused while the same array is
 * passed again: an int/byte array is reused when it is the same object with the same contents
 * (compared on the host, no transfer); a float table when it is the same object (RopeTables never
 * change after they are built).
 */
public final class OnDevice {
    private OnDevice() {}

    /**
     * Where an op on these tensors runs: the backend all non-null tensors live on (the host as a
     * device, {@link Backends#HOST}, when they all live on the host; also when there are none).
     * An op starts here (or at {@link #safePoint}), so unreachable device arrays are freed first.
     */
    public static DeviceBackend backendOf(String op, Tensor... xs) {
        DeviceBackend dev = null;
        for (Tensor t : xs) {
            if (t == null) continue;
            DeviceBackend b = t.backend();
            if (dev == null) dev = b;
            else if (b != dev) throw mixed(op, xs, dev, b);
        }
        return safePoint(dev == null ? Backends.HOST : dev);
    }

    /** The device all non-null tensors live on, or null when they all live on the host ({@link #backendOf} otherwise). */
    public static DeviceBackend deviceOf(String op, Tensor... xs) {
        DeviceBackend dev = backendOf(op, xs);
        return dev == Backends.HOST ? null : dev;
    }

    private static IllegalArgumentException mixed(String op, Tensor[] xs, DeviceBackend a, DeviceBackend b) {
        if (a != Backends.HOST && b != Backends.HOST)
            return new IllegalArgumentException(op + ": inputs live on two devices, " + a.name() + " and " + b.name());
        DeviceBackend dev = a == Backends.HOST ? b : a;
        StringBuilder where = new StringBuilder();
        for (int i = 0; i < xs.length; i++)
            if (xs[i] != null) where.append(i == 0 ? "" : ", ").append("input ").append(i).append(' ')
                    .append(Shape.str(xs[i].shape())).append(xs[i].backend() == Backends.HOST ? " on the host" : " on " + dev.name());
        return new IllegalArgumentException(op + ": inputs mix host and device tensors (" + where
                + "); move the host ones with toDevice() (or Parameter.moveTo) first");
    }

    /** Marks the start of a device op on {@code dev}: frees the arrays of unreachable device tensors (see DeviceStorage). */
    public static DeviceBackend safePoint(DeviceBackend dev) {
        DeviceStorage.releaseUnreachable(dev);
        return dev;
    }

    /** Throws when any input lives on a device: {@code op} has no device implementation yet. */
    public static void requireHost(String op, Tensor... xs) {
        for (Tensor t : xs)
            if (t != null && t.backend() != Backends.HOST)
                throw new UnsupportedOperationException(op + " has no device implementation yet (input " + Shape.str(t.shape())
                        + " lives on " + t.backend().name() + "); copy explicitly with toHost() if that is what you want");
    }

    // ------------------------------------------------------------------ device memory held by nodes

    /** A device array freed (at a safe point) when this holder becomes unreachable: saved rstd / lse, uploaded ids. */
    static final class Ref {
        final DeviceArray array;

        Ref(DeviceBackend dev, DeviceArray array) {
            this.array = array;
            DeviceStorage.freeWhenUnreachable(this, dev, array);
        }
    }

    /** A zeroed F32 array of n elements for an op's saved state. */
    static Ref scratch(DeviceBackend dev, long n) {
        return new Ref(dev, dev.alloc(ElementType.F32, Math.max(1, n)));
    }

    /** A new zeroed F32 tensor on dev. */
    static Tensor zeros(DeviceBackend dev, int... shape) {
        return Tensor.zerosOn(dev, shape);
    }

    /** A node whose backward runs on the device (gradients arrive as device arrays). */
    abstract static class DeviceNode extends Node {
        private List<DeviceArray> scratch;

        DeviceNode(String name, Tensor... inputs) {
            super(name, inputs);
        }

        /** A host gradient: the node's inputs live on the host, so its backward runs on the host device. */
        @Override
        protected final void backward(float[] gradOut) {
            backwardDevice(Backends.HOST.array(gradOut));
        }

        /** The backward on the device; scratch from {@link #gradOrScratch} is freed after it (its kernels are enqueued by then). */
        abstract void backwardOn(DeviceArray gradOut);

        @Override
        protected final void backwardDevice(DeviceArray gradOut) {
            try {
                backwardOn(gradOut);
            } finally {
                if (scratch != null) scratch.forEach(DeviceArray::close);
                scratch = null;
            }
        }

        /** Input i's device gradient to accumulate into, or a scratch array when it needs none (kernels write both). */
        DeviceArray gradOrScratch(int i) {
            Tensor t = input(i);
            if (t.requiresGrad()) return t.deviceGradBuffer();
            if (scratch == null) scratch = new ArrayList<>();
            DeviceArray a = t.backend().alloc(ElementType.F32, t.numel());
            scratch.add(a);
            return a;
        }
    }

    // ------------------------------------------------------------------ uploads of host index arrays and tables

    /** Per device: the last index uploads, newest first (bounded), and the tables (kept while their array lives). */
    private static final Map<DeviceBackend, ArrayDeque<Cached>> INDEX_CACHE = new IdentityHashMap<>();
    private static final Map<DeviceBackend, ArrayDeque<Cached>> TABLE_CACHE = new IdentityHashMap<>();
    private static final Map<DeviceBackend, ArrayDeque<Cached>> ROW_MASK_CACHE = new IdentityHashMap<>();
    private static final int INDEX_ENTRIES = 32;

    private record Cached(WeakReference<Object> key, Object snapshot, Ref ref) {}

    /** ids as an I32 device array (uploaded once per distinct array, see the class comment; on the host a copy per call). */
    static Ref ints(DeviceBackend dev, int[] ids, String what) {
        if (dev == Backends.HOST) return new Ref(dev, dev.upload(ids, what));   // a copy costs what a lookup does, without the lock
        return cached(INDEX_CACHE, dev, ids, () -> dev.upload(ids, what), (a, b) -> Arrays.equals((int[]) a, (int[]) b), ids.clone());
    }

    /**
     * The F32 row mask (1 where targets[i] >= 0, else 0) of a target array, uploaded once per
     * distinct array like {@link #ints} (its own cache: the same array may also be uploaded as I32).
     */
    static Ref rowMask(DeviceBackend dev, int[] targets, String what) {
        if (dev == Backends.HOST) return new Ref(dev, dev.upload(rowMaskOf(targets), 0, targets.length, what));
        return cached(ROW_MASK_CACHE, dev, targets, () -> dev.upload(rowMaskOf(targets), 0, targets.length, what),
                (a, b) -> Arrays.equals((int[]) a, (int[]) b), targets.clone());
    }

    private static float[] rowMaskOf(int[] targets) {
        float[] m = new float[targets.length];
        for (int i = 0; i < m.length; i++) m[i] = targets[i] >= 0 ? 1f : 0f;
        return m;
    }

    /** A key mask as a U8 device array, or null. */
    static Ref bytes(DeviceBackend dev, byte[] mask, String what) {
        if (mask == null) return null;
        if (dev == Backends.HOST) return new Ref(dev, dev.upload(mask, what));
        return cached(INDEX_CACHE, dev, mask, () -> dev.upload(mask, what), (a, b) -> Arrays.equals((byte[]) a, (byte[]) b), mask.clone());
    }

    /** A constant float table (RoPE cos/sin) as an F32 device array, keyed by identity (on the host: the table itself). */
    static Ref table(DeviceBackend dev, float[] table, String what) {
        if (dev == Backends.HOST) return new Ref(dev, Backends.HOST.array(table));
        return cached(TABLE_CACHE, dev, table, () -> dev.upload(table, 0, table.length, what), (a, b) -> true, null);
    }

    private interface Upload { DeviceArray run(); }

    private interface Same { boolean test(Object key, Object snapshot); }

    private static synchronized Ref cached(Map<DeviceBackend, ArrayDeque<Cached>> cache, DeviceBackend dev, Object key,
                                           Upload upload, Same same, Object snapshot) {
        ArrayDeque<Cached> entries = cache.computeIfAbsent(dev, d -> new ArrayDeque<>());
        for (Iterator<Cached> it = entries.iterator(); it.hasNext(); ) {
            Cached c = it.next();
            Object k = c.key().get();
            if (k == null) { it.remove(); continue; }
            if (k == key && same.test(key, c.snapshot())) return c.ref();
        }
        Ref ref = new Ref(dev, upload.run());
        entries.addFirst(new Cached(new WeakReference<>(key), snapshot, ref));
        while (cache != TABLE_CACHE && entries.size() > INDEX_ENTRIES) entries.removeLast();   // nodes still holding the Ref keep it alive
        return ref;
    }
}
