package io.r1kit.model.optim;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.hf.FloatFormats;
import io.r1kit.model.tensor.DeviceStorage;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AdamW (Loshchilov and Hutter) as torch.optim.AdamW: decoupled weight decay
 * {@code p -= lr·wd·p}, then Adam with bias correction,
 * {@code p -= lr · m̂ / (sqrt(v̂) + eps)}. The update itself is the backend's adamw kernel.
 *
 * <p>Like torch, each parameter keeps its own step count, and a parameter with no gradient
 * (never reached by backward) is skipped entirely. The learning rate is set from outside
 * ({@link #setLr}, usually from an {@link LrSchedule}) before each {@link #step()}.
 *
 * <p>State (per parameter name: m, v, step) can be exported and imported for checkpoints; a
 * restore followed by steps is bit-identical to an uninterrupted run.
 *
 * <p>Parameters on a device ({@link Parameter#moveTo}) are updated there: fp32 master weights and
 * fp32 moments live on the device and the step transfers nothing. With {@link #keepBf16Copy} the
 * step is the mixed-precision one ({@code adamwBf16}: gradients rounded to bf16, fp32 master and
 * moments, and a bf16 weight copy written by the same kernel, see {@link #bf16Weights}); parameters
 * that read their bf16 copy in the forward ({@link Parameter#readBf16Copy}) always take that step.
 * Exporting / importing the state of device parameters copies the moments (checkpoint edges).
 */
public final class AdamW {
    /** Hyper-parameters (torch defaults: betas 0.9/0.999, eps 1e-8, wd 0.01). */
    public record Config(float lr, float beta1, float beta2, float eps, float weightDecay) {
        public Config {
            if (!(lr >= 0)) throw new IllegalArgumentException("lr must be >= 0, got " + lr);
            if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
            if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
            if (!(eps >= 0)) throw new IllegalArgumentException("eps must be >= 0, got " + eps);
        }

        public static Config defaults(float lr) {
            return new Config(lr, 0.9f, 0.999f, 1e-8f, 0.01f);
        }

        public Config withWeightDecay(float wd) {
            return new Config(lr, beta1, beta2, eps, wd);
        }
    }

    /**
     * Exportable optimizer state: {@code tensors} maps "name.m" and "name.v" to the moment
     * arrays; {@code scalars} maps "name.step" (and "lr") to numbers.
     */
    public record State(Map<String, float[]> tensors, Map<String, Double> scalars) {}

    private final Config config;
    private final List<ParamGroup> groups;
    private final Map<Parameter, Slot> slots = new LinkedHashMap<>();
    private float lr;

    private static final class Slot {
        DeviceStorage m, v;           // the moments, where the parameter last stepped (or on the host after an import)
        boolean bf16Stepped;          // a mixed-precision step wrote the parameter's bf16 copy
        long step;
    }

    private boolean bf16Copy;
    private boolean bf16Moments; // host moments stored as bf16 values (momentsBf16)

    /** One group: every parameter decays with {@code config.weightDecay()}. */
    public AdamW(List<Parameter> params, Config config) {
        this(config, List.of(new ParamGroup(params, config.weightDecay())));
    }

    /** Several groups with their own weight decay (the config's weightDecay is then unused). */
    public AdamW(Config config, List<ParamGroup> groups) {
        this.config = config;
        this.groups = List.copyOf(groups);
        this.lr = config.lr();
        Set<String> names = new HashSet<>();
        for (ParamGroup g : this.groups)
            for (Parameter p : g.params()) {
                if (!names.add(p.name()))
                    throw new IllegalArgumentException("AdamW: parameter name " + p.name() + " appears twice");
                slots.put(p, new Slot());
            }
    }

    public Config config() {
        return config;
    }

    public float lr() {
        return lr;
    }

    /** Sets the learning rate used by the next steps. */
    public void setLr(float lr) {
        this.lr = lr;
    }

    /** All parameters, group by group. */
    public List<Parameter> params() {
        List<Parameter> all = new ArrayList<>();
        for (ParamGroup g : groups) all.addAll(g.params());
        return all;
    }

    /**
     * Device parameters: take the mixed-precision step (bf16 gradients, fp32 master weights and
     * moments) and keep a bf16 copy of each weight, written by the update kernel. Host parameters
     * are unaffected. Returns this.
     */
    public AdamW keepBf16Copy(boolean on) {
        this.bf16Copy = on;
        return this;
    }

    /**
     * Host parameters: keep both moments in bf16 as DeepSeek-V3 does (each step computes in fp32
     * from the stored moments and stores them rounded to nearest-even bf16, exactly what bf16
     * storage holds; saved and resumed state are those bf16 values). Device parameters refuse it.
     */
    public AdamW momentsBf16(boolean on) {
        this.bf16Moments = on;
        return this;
    }

    /** The bf16 weight copy of a device parameter (a BF16 device tensor), or null before its first bf16 step. */
    public Tensor bf16Weights(Parameter p) {
        Slot s = slots.get(p);
        if (s == null) throw new IllegalArgumentException("AdamW: parameter " + p.name() + " is not optimised by this AdamW");
        return s.bf16Stepped && p.backend() != Backends.HOST ? Tensor.onDevice(p.bf16Copy(), p.shape()) : null;
    }

    /** One update of every parameter that has a gradient. */
    public void step() {
        for (ParamGroup g : groups)
            for (Parameter p : g.params()) step(p, slots.get(p), g.weightDecay());
    }

    /**
     * The step of one parameter where it lives, on its backend's adamw kernel: no transfer
     * (moments created zeroed there, or moved there once when the parameter moved or the state was
     * imported).
     */
    private void step(Parameter p, Slot s, float weightDecay) {
        DeviceBackend dev = p.backend();
        boolean host = dev == Backends.HOST;
        if (bf16Moments && !host) throw new IllegalStateException("AdamW: bf16 moments are for host parameters; " + p.name() + " is on a device");
        DeviceArray grad = p.deviceGrad();
        if (grad == null) return;
        DeviceStorage.releaseUnreachable(dev);   // a safe point between two parameters' updates
        int n = p.numel();
        if (s.m == null) {
            s.m = DeviceStorage.zeros(dev, ElementType.F32, n);
            s.v = DeviceStorage.zeros(dev, ElementType.F32, n);
        } else if (s.m.device() != dev) {   // stepped (or imported) elsewhere: bring the moments along
            s.m = moveTo(dev, s.m, n, "AdamW m of " + p.name());
            s.v = moveTo(dev, s.v, n, "AdamW v of " + p.name());
        }
        s.step++;
        float bc1 = (float) (1 - Math.pow(config.beta1(), s.step));
        float bc2 = (float) (1 - Math.pow(config.beta2(), s.step));
        DeviceArray w = p.deviceArray("AdamW " + p.name());
        if (host || !bf16Copy && !p.readsBf16Copy()) {   // the mixed step and its bf16 weight copy are the devices'
            dev.adamw(w, grad, s.m.array(), s.v.array(), n, lr, config.beta1(), config.beta2(), config.eps(), weightDecay, bc1, bc2);
            if (bf16Moments) {
                float[] m = Backends.HOST.floats(s.m.array(), "m"), v = Backends.HOST.floats(s.v.array(), "v");
                for (int i = 0; i < n; i++) {
                    m[i] = FloatFormats.roundToBf16(m[i]);
                    v[i] = FloatFormats.roundToBf16(v[i]);
                }
            }
            p.bf16CopyStale();
            return;
        }
        // the mixed step: the same kernel updates the fp32 master and rewrites the bf16 copy the forward reads
        DeviceStorage p16 = p.bf16CopyToOverwrite();
        s.bf16Stepped = true;
        try (DeviceArray g16 = dev.castToBf16(grad, 0, n)) {
            dev.adamwBf16(w, g16, s.m.array(), s.v.array(), p16.array(), n, lr, config.beta1(), config.beta2(), config.eps(),
                    weightDecay, bc1, bc2, 1f);
        }
    }

    /** Moments of n elements on {@code dev}, copied from another backend (through the host). */
    private static DeviceStorage moveTo(DeviceBackend dev, DeviceStorage src, int n, String what) {
        DeviceStorage out = DeviceStorage.zeros(dev, ElementType.F32, n);
        float[] values = hostCopy(src, n, what);
        dev.write(out.array(), 0, values, 0, n, what);
        return out;
    }

    /** A host copy of n elements of {@code src} (from a device: one device→host copy). */
    private static float[] hostCopy(DeviceStorage src, int n, String what) {
        float[] out = new float[n];
        src.device().read(src.array(), 0, out, 0, n, what);
        return out;
    }

    /** Zeroes every parameter's gradient (keeps the storage; sparse gradients clear only touched rows). */
    public void zeroGrad() {
        for (ParamGroup g : groups) for (Parameter p : g.params()) p.zeroGrad();
    }

    /**
     * The moments, step counts and learning rate at one moment, kept where the moments live (device
     * moments are copied device to device: no host transfer), so updates can be undone with
     * {@link #restore}. A snapshot restores once: the optimizer takes over its copies.
     */
    public static final class Snapshot {
        private final float lr;
        private final Map<Parameter, Slot> slots = new LinkedHashMap<>();
        private boolean used;

        private Snapshot(float lr) {
            this.lr = lr;
        }
    }

    /** See {@link Snapshot}. */
    public Snapshot snapshot() {
        Snapshot snap = new Snapshot(lr);
        slots.forEach((p, s) -> {
            Slot c = new Slot();
            c.step = s.step;
            c.bf16Stepped = s.bf16Stepped;
            if (s.m != null) {
                c.m = copy(s.m, p.numel());
                c.v = copy(s.v, p.numel());
            }
            snap.slots.put(p, c);
        });
        return snap;
    }

    /** Puts the state of {@code snap} back (the parameters' values are the caller's to restore). */
    public void restore(Snapshot snap) {
        if (snap.used) throw new IllegalStateException("AdamW: a snapshot restores once");
        if (!snap.slots.keySet().equals(slots.keySet())) throw new IllegalArgumentException("AdamW: the snapshot is of another optimizer");
        snap.used = true;
        lr = snap.lr;
        snap.slots.forEach(slots::put);
    }

    /** A copy of n elements where src lives (on a device: device to device, times 1, which is exact). */
    private static DeviceStorage copy(DeviceStorage src, int n) {
        DeviceBackend dev = src.device();
        DeviceStorage out = DeviceStorage.zeros(dev, ElementType.F32, n);
        dev.scale(out.array(), src.array(), 1f, n);
        return out;
    }

    /** A deep copy of the state, for checkpointing. */
    public State exportState() {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("lr", (double) lr);
        slots.forEach((p, s) -> {
            scalars.put(p.name() + ".step", (double) s.step);
            if (s.m != null) {   // device moments are copied out (a checkpoint edge)
                tensors.put(p.name() + ".m", hostCopy(s.m, p.numel(), "AdamW m of " + p.name()));
                tensors.put(p.name() + ".v", hostCopy(s.v, p.numel(), "AdamW v of " + p.name()));
            }
        });
        return new State(tensors, scalars);
    }

    /**
     * Restores a state written by {@link #exportState()} for the same parameter names and shapes.
     * Parameters absent from the state start fresh; unknown names are an error.
     */
    public void importState(State state) {
        Map<String, Parameter> byName = new HashMap<>();
        for (Parameter p : slots.keySet()) byName.put(p.name(), p);
        for (String key : state.tensors().keySet()) requireKnown(byName, key, ".m", ".v");
        for (String key : state.scalars().keySet()) if (!key.equals("lr")) requireKnown(byName, key, ".step");
        Double savedLr = state.scalars().get("lr");
        if (savedLr != null) lr = savedLr.floatValue();
        slots.forEach((p, s) -> {
            float[] m = state.tensors().get(p.name() + ".m"), v = state.tensors().get(p.name() + ".v");
            if ((m == null) != (v == null))
                throw new IllegalArgumentException("AdamW state: parameter " + p.name() + " has only one of m and v");
            if (m != null && (m.length != p.numel() || v.length != p.numel()))
                throw new IllegalArgumentException("AdamW state: moments for " + p.name() + " have " + m.length
                        + " elements, parameter " + Shape.str(p.shape()) + " has " + p.numel());
            // on the host: a device parameter uploads them on its next step
            s.m = m == null ? null : new DeviceStorage(Backends.HOST, Backends.HOST.array(m.clone()));
            s.v = v == null ? null : new DeviceStorage(Backends.HOST, Backends.HOST.array(v.clone()));
            Double step = state.scalars().get(p.name() + ".step");
            s.step = step == null ? 0 : step.longValue();
        });
    }

    private static void requireKnown(Map<String, Parameter> byName, String key, String... suffixes) {
        for (String suf : suffixes)
            if (key.endsWith(suf) && byName.containsKey(key.substring(0, key.length() - suf.length()))) return;
        throw new IllegalArgumentException("AdamW state: key " + key + " names no parameter of this optimizer");
    }
}
