package io.r1kit.model.tensor;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;

import java.util.Arrays;
import java.util.BitSet;
import java.util.random.RandomGenerator;
import java.util.SplittableRandom;

/**
 * A float32 tensor: a shape and contiguous row-major storage, plus what reverse-mode autodiff
 * needs (a requires-grad flag, a lazily allocated gradient and the {@link GradFn} that produced it).
 *
 * <p>Tensors are created by the static factories ({@link #zeros}, {@link #of}, {@link #randn}, ...)
 * and by ops ({@code ops.F}: this package knows no op and no autograd engine, only the
 * {@link GradFn} interface through which {@link #backward()} starts the reverse pass). Ops never
 * modify their inputs. Storage is either a host {@code float[]} ({@link #data()}, the CPU path)
 * or a {@link DeviceStorage} ({@link #toDevice}, {@link #isOnDevice()}): ops on device tensors run
 * on their {@link DeviceBackend} and their outputs and gradients stay on the device; values
 * reach the host only through {@link #data()} / {@link #item()} / {@link #toHost()}, which copy.
 *
 * <p>Gradients: {@link #backward()} on a scalar loss accumulates d loss / d leaf into every leaf
 * that requires grad (read with {@link #grad()}); intermediate gradients are freed as soon as
 * they have been propagated, and the graph is released when backward ends.
 */
public class Tensor {
    private final int[] shape;
    private final int numel;
    private float[] data;              // host storage, or null when on a device
    private DeviceStorage storage;     // device storage, or null when on the host
    private boolean requiresGrad;
    private float[] grad;
    private DeviceStorage deviceGrad;  // the gradient of a device tensor (always F32, on the same device)
    private GradFn gradFn;
    private boolean retainGrad;
    private boolean graphReleased;
    // Sparse-gradient bookkeeping: while only row-scatter ops (embedding) wrote into grad,
    // gradRows lists the touched rows so zeroGrad clears just those.
    private boolean gradDense;
    private BitSet gradRows;
    private int gradRowSize;

    /** Wraps {@code data} (no copy) as a tensor of the given shape. Prefer the factories. */
    protected Tensor(float[] data, int[] shape) {
        int n = Shape.numel(shape);
        if (data.length != n)
            throw new IllegalArgumentException("data length " + data.length + " does not match shape "
                    + Shape.str(shape) + " (" + n + " elements)");
        this.shape = shape.clone();
        this.numel = n;
        this.data = data;
    }

    /**
     * A tensor over device storage (no copy); the storage must hold exactly numel(shape) elements.
     * F32 storage of the host device ({@link Backends#HOST}) makes a host tensor over its array.
     */
    protected Tensor(DeviceStorage storage, int[] shape) {
        int n = Shape.numel(shape);
        if (storage.array().length() != n)
            throw new IllegalArgumentException("device storage of " + storage.array().length() + " elements does not match shape "
                    + Shape.str(shape) + " (" + n + " elements)");
        this.shape = shape.clone();
        this.numel = n;
        if (storage.device() == Backends.HOST && storage.dtype() == ElementType.F32) this.data = Backends.HOST.floats(storage.array(), "storage");
        else this.storage = storage;
    }

    // ------------------------------------------------------------------ factories

    /** A tensor over {@code data} without copying it (the caller gives up the array). */
    public static Tensor wrap(float[] data, int... shape) {
        return new Tensor(data, shape);
    }

    /** A tensor over device storage without copying it (for ops and loaders). */
    public static Tensor onDevice(DeviceStorage storage, int... shape) {
        return new Tensor(storage, shape);
    }

    /** A zero tensor of F32 storage on {@code device} (on {@link Backends#HOST}: a host tensor, as {@link #zeros}). */
    public static Tensor zerosOn(DeviceBackend device, int... shape) {
        if (device == Backends.HOST) return zeros(shape);
        return new Tensor(DeviceStorage.zeros(device, ElementType.F32, Shape.numel(shape)), shape);
    }

    /** A tensor holding a copy of {@code data}. */
    public static Tensor of(float[] data, int... shape) {
        return new Tensor(data.clone(), shape);
    }

    /** A 1-D tensor of the given values. */
    public static Tensor vector(float... values) {
        return new Tensor(values.clone(), new int[] {values.length});
    }

    /** A 0-d (scalar) tensor. */
    public static Tensor scalar(float value) {
        return new Tensor(new float[] {value}, new int[0]);
    }

    public static Tensor zeros(int... shape) {
        return new Tensor(new float[Shape.numel(shape)], shape);
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    public static Tensor full(float value, int... shape) {
        float[] d = new float[Shape.numel(shape)];
        Arrays.fill(d, value);
        return new Tensor(d, shape);
    }

    /** 0, 1, ..., n-1 as floats. */
    public static Tensor arange(int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return new Tensor(d, new int[] {n});
    }

    /** Standard normal entries times {@code std}, drawn from {@code rng} (reproducible for a seeded generator). */
    public static Tensor randn(RandomGenerator rng, float std, int... shape) {
        float[] d = new float[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) (rng.nextGaussian() * std);
        return new Tensor(d, shape);
    }

    /** Standard normal entries from a {@link SplittableRandom} seeded with {@code seed}. */
    public static Tensor randn(long seed, int... shape) {
        return randn(new SplittableRandom(seed), 1f, shape);
    }

    /** Uniform entries in [lo, hi). */
    public static Tensor uniform(RandomGenerator rng, float lo, float hi, int... shape) {
        float[] d = new float[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.nextFloat();
        return new Tensor(d, shape);
    }

    /** A zero tensor with the same shape as this one, where this one lives. */
    public Tensor zerosLike() {
        return newZeros(shape);
    }

    /** A zero tensor of {@code shape} where this one lives (torch's {@code new_zeros}): on its device, or on the host. */
    public Tensor newZeros(int... shape) {
        return storage != null ? zerosOn(storage.device(), shape) : zeros(shape);
    }

    // ------------------------------------------------------------------ host / device

    /** True when the values live on a device (see {@link #device()}). */
    public boolean isOnDevice() {
        return storage != null;
    }

    /** The device holding the values, or null for a host tensor. */
    public DeviceBackend device() {
        return storage == null ? null : storage.device();
    }

    /** Where ops on this tensor run: its device, or the host as a device ({@link Backends#HOST}) for a host tensor. */
    public DeviceBackend backend() {
        return storage == null ? Backends.HOST : storage.device();
    }

    /** The device storage, or null for a host tensor. */
    public DeviceStorage storage() {
        return storage;
    }

    /**
     * The F32 array of this tensor on its {@link #backend()}, for ops ({@code op} names the caller in
     * errors); of a host tensor, its live storage wrapped for {@link Backends#HOST} (no copy).
     */
    public DeviceArray deviceArray(String op) {
        if (storage == null) return Backends.HOST.array(data);
        if (storage.dtype() != ElementType.F32)
            throw new IllegalArgumentException(op + ": tensor " + Shape.str(shape) + " on " + storage.device().name() + " is "
                    + storage.dtype() + "; this op needs F32 (the bf16 copy only feeds bf16 GEMMs)");
        return storage.array();
    }

    /**
     * The array behind this tensor on its {@link #backend()}, F32 or BF16 (an activation stored in
     * bf16), for GEMMs that read either; of a host tensor, its storage wrapped (no copy).
     */
    public DeviceArray array() {
        return storage == null ? Backends.HOST.array(data) : storage.array();
    }

    /**
     * Mixed precision: replaces this device activation's F32 storage, in place, by its bf16 rounding
     * (one cast on the device, no transfer), keeping its place in the graph and its F32 gradient.
     * For activations read only by GEMMs afterwards (the inputs of linear layers), which then save
     * the 2-byte copy for backward; the F32 array is freed once unreachable (a Cleaner, see
     * {@link DeviceStorage}). An op that needs F32 values and meets it fails loudly (deviceArray).
     * Views made earlier (reshape) keep the F32 storage. Already BF16: returns this.
     */
    public Tensor storeAsBf16() {
        if (storage == null) throw new IllegalStateException("storeAsBf16: tensor " + Shape.str(shape) + " lives on the host");
        if (this instanceof Parameter)
            throw new IllegalArgumentException("storeAsBf16: " + this + " is a parameter; its bf16 copy is Parameter.readBf16Copy");
        if (storage.dtype() == ElementType.BF16) return this;
        DeviceBackend dev = storage.device();
        storage = new DeviceStorage(dev, dev.castToBf16(storage.array(), 0, numel));
        return this;
    }

    /**
     * A leaf copy of this tensor on {@code device} (one host→device copy), or this tensor when it
     * already lives there. Use {@link Parameter#moveTo} for parameters (in place).
     */
    public Tensor toDevice(DeviceBackend device) {
        if (storage != null) {
            if (storage.device() == device) return this;
            throw new IllegalArgumentException("toDevice: tensor " + Shape.str(shape) + " lives on " + storage.device().name()
                    + "; copy it to the host first (toHost()) to move it to " + device.name());
        }
        return new Tensor(new DeviceStorage(device, device.upload(data, 0, numel, "tensor " + Shape.str(shape))), shape);
    }

    /** {@link #toDevice} with the upload labelled {@code what} (an edge copy a trainer makes on purpose). */
    public Tensor toDevice(DeviceBackend device, String what) {
        if (storage != null) return toDevice(device);
        return new Tensor(new DeviceStorage(device, device.upload(data, 0, numel, what)), shape);
    }

    /**
     * This tensor where {@code other} lives: a leaf copy uploaded to other's device (labelled
     * {@code what}) when other is a device tensor, else this host tensor itself.
     */
    public Tensor toDeviceOf(Tensor other, String what) {
        return other.storage == null ? toHost() : toDevice(other.storage.device(), what);
    }

    /** A host leaf copy of a device tensor (one device→host copy), or this tensor when it is on the host. */
    public Tensor toHost() {
        return storage == null ? this : new Tensor(data(), shape);
    }

    /** For {@link Parameter}: replaces the storage (exactly one of the two is non-null) and drops the gradient. */
    void replaceStorage(float[] host, DeviceStorage device) {
        this.data = host;
        this.storage = device;
        this.grad = null;
        this.deviceGrad = null;
        this.gradDense = false;
        this.gradRows = null;
    }

    // ------------------------------------------------------------------ shape and data

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code d} (negative counts from the end). */
    public int dim(int d) {
        return shape[Shape.dim("dim", d, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return numel;
    }

    /**
     * The live row-major CPU storage (not a copy): kernels read and write it, loaders fill it.
     * Writing into it after the tensor was used by an op that saved it for backward corrupts that
     * op's gradient. On a DEVICE tensor this is a fresh host copy (one counted device→host copy);
     * writing into that copy changes nothing on the device.
     */
    public float[] data() {
        if (storage == null) return data;
        float[] host = new float[numel];
        storage.device().read(deviceArray("data()"), 0, host, 0, numel, "data() of " + Shape.str(shape));
        return host;
    }

    /**
     * The values on the host: a host tensor's live storage (as {@link #data()}, not a copy), or a
     * device tensor's values in one device→host copy labelled {@code what} in the transfer log.
     */
    public float[] hostValues(String what) {
        if (storage == null) return data;
        float[] host = new float[numel];
        storage.device().read(deviceArray(what), 0, host, 0, numel, what);
        return host;
    }

    /** The single value of a one-element tensor (on a device: one 4-byte device→host copy). */
    public float item() {
        if (numel != 1)
            throw new IllegalStateException("item() needs a one-element tensor, got shape " + Shape.str(shape));
        return storage == null ? data[0] : data()[0];
    }

    /** {@link #item()} with the transfer labelled {@code what} on a device (metrics read back by name). */
    public float item(String what) {
        if (numel != 1)
            throw new IllegalStateException("item() needs a one-element tensor, got shape " + Shape.str(shape));
        if (storage == null) return data[0];
        float[] one = new float[1];
        storage.device().read(deviceArray(what), 0, one, 0, 1, what);
        return one[0];
    }

    /** A copy of the storage. */
    public float[] toArray() {
        return storage == null ? data.clone() : data();
    }

    /** The element at the given full index (on a device: a one-element copy). */
    public float get(int... index) {
        int i = flatIndex(index);
        if (storage == null) return data[i];
        float[] one = new float[1];
        storage.device().read(deviceArray("get"), i, one, 0, 1, "get" + java.util.Arrays.toString(index));
        return one[0];
    }

    /** Sets the element at the given full index (for building inputs; not recorded by autograd). Host tensors only. */
    public void set(float value, int... index) {
        if (storage != null)
            throw new IllegalStateException("set: tensor " + Shape.str(shape) + " lives on " + storage.device().name()
                    + "; build inputs on the host, then toDevice()");
        data[flatIndex(index)] = value;
    }

    private int flatIndex(int[] index) {
        if (index.length != shape.length)
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has rank " + index.length
                    + " but tensor has shape " + Shape.str(shape));
        int f = 0;
        for (int i = 0; i < shape.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i])
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for shape "
                        + Shape.str(shape));
            f = f * shape[i] + index[i];
        }
        return f;
    }

    // ------------------------------------------------------------------ autograd state

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor as requiring (or not) gradients; returns this. */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null)
            throw new IllegalStateException("requiresGrad can only be set on leaf tensors; this one was produced by "
                    + gradFn.name() + " (use detach())");
        this.requiresGrad = value;
        return this;
    }

    /** True when the tensor was not produced by a recorded op (user-created, parameters, detached). */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** The node that produced this tensor, or null for leaves and after the graph was released. */
    public GradFn gradFn() {
        return gradFn;
    }

    /**
     * For ops: makes this tensor the output of {@code node} (sets requiresGrad). Use via
     * {@code autograd.Grad.attach}, which records the engine's nodes (the only functions it runs).
     */
    public void attachGradFn(GradFn node) {
        this.gradFn = node;
        this.requiresGrad = true;
    }

    /** For the backward engine: the node has run and was released. */
    public void releaseGradFn() {
        this.gradFn = null;
        this.graphReleased = true;
    }

    /** True once a backward pass through this (non-leaf) tensor has released its graph. */
    public boolean graphReleased() {
        return graphReleased;
    }

    /** Keep this non-leaf tensor's gradient after backward (like torch retain_grad); returns this. */
    public Tensor retainGrad() {
        this.retainGrad = true;
        return this;
    }

    public boolean retainsGrad() {
        return retainGrad || gradFn == null;
    }

    /** The accumulated gradient as a tensor sharing the gradient storage (on the tensor's device), or null if none yet. */
    public Tensor grad() {
        if (storage != null) return deviceGrad == null ? null : new Tensor(deviceGrad, shape);
        return grad == null ? null : new Tensor(grad, shape);
    }

    /** The raw gradient storage, or null if none was allocated (on a device tensor: a host copy, see {@link #data()}). */
    public float[] gradData() {
        if (storage != null) return deviceGrad == null ? null : new Tensor(deviceGrad, shape).data();
        return grad;
    }

    /** The gradient array on {@link #backend()} (of a host tensor: its gradient wrapped), or null when no gradient reached it yet. */
    public DeviceArray deviceGrad() {
        if (storage == null) return grad == null ? null : Backends.HOST.array(grad);
        return deviceGrad == null ? null : deviceGrad.array();
    }

    /**
     * For ops' backward on {@link #backend()}: the F32 gradient to ACCUMULATE into (allocated zeroed
     * on first use; of a host tensor, {@link #gradBuffer()} wrapped).
     */
    public DeviceArray deviceGradBuffer() {
        if (storage == null) return Backends.HOST.array(gradBuffer());
        if (deviceGrad == null) deviceGrad = DeviceStorage.zeros(storage.device(), ElementType.F32, numel);
        return deviceGrad.array();
    }

    /**
     * {@link #deviceGradBuffer()} for a row-scatter backward (embedding) writing only {@code rows}:
     * a host tensor records them as {@link #gradBufferForRows} does; a device gradient is dense
     * (a device memset clears it cheaply).
     */
    public DeviceArray deviceGradBufferForRows(int[] rows, int rowSize) {
        if (storage == null) return Backends.HOST.array(gradBufferForRows(rows, rowSize));
        return deviceGradBuffer();
    }

    private void requireHost(String op) {
        if (storage != null)
            throw new IllegalStateException(op + ": tensor " + Shape.str(shape) + " lives on " + storage.device().name()
                    + "; a device op must use deviceGradBuffer() (host gradients of device tensors do not exist)");
    }

    /**
     * For ops' backward: the gradient storage to ACCUMULATE into (allocated zeroed on first use).
     * Marks the gradient as dense, so {@link #zeroGrad()} clears all of it.
     */
    public float[] gradBuffer() {
        requireHost("gradBuffer");
        if (grad == null) grad = new float[data.length];
        gradDense = true;
        return grad;
    }

    /**
     * For row-scatter backward passes (embedding): the gradient storage, recording that only
     * {@code rows} (rows of {@code rowSize} elements) are written, so zeroing stays cheap.
     */
    public float[] gradBufferForRows(int[] rows, int rowSize) {
        requireHost("gradBufferForRows");
        if (grad == null) grad = new float[data.length];
        if (!gradDense) {
            if (gradRows == null) gradRows = new BitSet();
            gradRowSize = rowSize;
            for (int r : rows) if (r >= 0) gradRows.set(r);
        }
        return grad;
    }

    /** Rows written by sparse backward passes since the last zeroGrad, or null if the gradient is dense. */
    public BitSet sparseGradRows() {
        return gradDense || gradRows == null ? null : (BitSet) gradRows.clone();
    }

    /** Sets the gradient to zero, keeping its storage (only touched rows for sparse gradients). */
    public void zeroGrad() {
        if (deviceGrad != null) {
            storage.device().fill(deviceGrad.array(), 0f, numel);   // a device memset, no transfer
            return;
        }
        if (grad == null) return;
        if (gradDense || gradRows == null) {
            Arrays.fill(grad, 0f);
        } else {
            for (int r = gradRows.nextSetBit(0); r >= 0; r = gradRows.nextSetBit(r + 1))
                Arrays.fill(grad, r * gradRowSize, (r + 1) * gradRowSize, 0f);
        }
        gradDense = false;
        if (gradRows != null) gradRows.clear();
    }

    /** Drops the gradient storage entirely (frees memory; the next backward reallocates). */
    public void clearGrad() {
        grad = null;
        deviceGrad = null;     // the Cleaner returns the array once no grad() view holds it
        gradDense = false;
        gradRows = null;
    }

    /** Backward from a one-element tensor (the loss): accumulates gradients into all leaves. */
    public void backward() {
        if (numel != 1)
            throw new IllegalStateException("backward() without an upstream gradient needs a scalar loss, got shape "
                    + Shape.str(shape) + "; use backward(gradOutput)");
        backpropagate(null);
    }

    /** Backward with an explicit upstream gradient of this tensor's shape (where this tensor lives). */
    public void backward(Tensor gradOutput) {
        Shape.requireEqual("backward(gradOutput)", shape, gradOutput.shape);
        if (gradOutput.backend() != backend())
            throw new IllegalArgumentException("backward(gradOutput): gradOutput lives on " + gradOutput.where() + ", the tensor on "
                    + where());
        backpropagate(gradOutput);
    }

    /** "the host" or the device's name, for messages. */
    private String where() {
        return storage == null ? "the host" : storage.device().name();
    }

    /** The reverse pass (seed: a tensor where this one lives, or null for 1): through the function that produced it, or into a leaf's own gradient. */
    private void backpropagate(Tensor gradOutput) {
        if (gradFn != null) {
            gradFn.backpropagateFrom(this, gradOutput);
            return;
        }
        requireBackwardRoot();
        seedGrad(gradOutput);
    }

    /** For the backward engine: fails unless a reverse pass can start at this tensor (it requires grad, its graph is intact). */
    public void requireBackwardRoot() {
        if (graphReleased)
            throw new IllegalStateException("backward: the graph of this tensor was already released by an earlier backward()");
        if (!requiresGrad) {
            throw new IllegalStateException("backward: tensor " + Shape.str(shape) + " does not require grad (no input"
                    + " requires grad, or it was computed under Grad.noGrad())");
        }
    }

    /**
     * For the backward engine: accumulates {@code gradOutput} (this tensor's shape, where this
     * tensor lives) into the gradient or, when null, 1 into a one-element tensor's, written where
     * the tensor lives (on a device: no transfer).
     */
    public void seedGrad(Tensor gradOutput) {
        DeviceBackend dev = backend();
        DeviceArray g = deviceGradBuffer();
        if (gradOutput != null) {
            dev.axpy(1f, gradOutput.deviceArray("backward(gradOutput)"), g, numel);
        } else {
            try (DeviceArray one = dev.alloc(ElementType.F32, 1)) {
                dev.fill(one, 1f, 1);
                dev.axpy(1f, one, g, 1);
            }
        }
    }

    /** A leaf tensor of {@code shape} (numel unchanged) sharing this storage: reshape's output. */
    public Tensor view(int... shape) {
        return storage != null ? new Tensor(storage, shape) : new Tensor(data, shape);
    }

    /** A leaf tensor sharing this storage, with no gradient history. */
    public Tensor detach() {
        return storage != null ? new Tensor(storage, shape) : new Tensor(data, shape);
    }

    /** A leaf tensor holding a copy of the data (a device-to-device copy for device tensors). */
    public Tensor copy() {
        if (storage == null) return new Tensor(data.clone(), shape);
        Tensor out = zerosOn(storage.device(), shape);
        storage.device().axpy(1f, deviceArray("copy"), out.deviceArray("copy"), numel);
        return out;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append(Shape.str(shape));
        if (gradFn != null) sb.append(" grad_fn=").append(gradFn.name());
        else if (requiresGrad) sb.append(" requiresGrad");
        if (storage != null) return sb.append(" on ").append(storage.device().name()).append(' ').append(storage.dtype()).toString();
        sb.append(" [");
        int n = Math.min(data.length, 6);
        for (int i = 0; i < n; i++) sb.append(i > 0 ? ", " : "").append(data[i]);
        if (data.length > n) sb.append(", ...");
        return sb.append(']').toString();
    }
}
