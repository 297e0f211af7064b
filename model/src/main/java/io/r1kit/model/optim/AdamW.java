package io.r1kit.model.optim;

import io.r1kit.model.backend.Backend;
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
        float[] m, v;
        long step;
    }

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

    /** One update of every parameter that has a gradient. */
    public void step() {
        Backend be = Backends.current();
        double b1 = config.beta1(), b2 = config.beta2();
        for (ParamGroup g : groups)
            for (Parameter p : g.params()) {
                float[] grad = p.gradData();
                if (grad == null) continue;
                Slot s = slots.get(p);
                if (s.m == null) {
                    s.m = new float[p.numel()];
                    s.v = new float[p.numel()];
                }
                s.step++;
                float bc1 = (float) (1 - Math.pow(b1, s.step));
                float bc2 = (float) (1 - Math.pow(b2, s.step));
                be.adamw(p.data(), grad, s.m, s.v, p.numel(), lr, config.beta1(), config.beta2(), config.eps(),
                        g.weightDecay(), bc1, bc2);
            }
    }

    /** Zeroes every parameter's gradient (keeps the storage; sparse gradients clear only touched rows). */
    public void zeroGrad() {
        for (ParamGroup g : groups) for (Parameter p : g.params()) p.zeroGrad();
    }

    /** A deep copy of the state, for checkpointing. */
    public State exportState() {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("lr", (double) lr);
        slots.forEach((p, s) -> {
            scalars.put(p.name() + ".step", (double) s.step);
            if (s.m != null) {
                tensors.put(p.name() + ".m", s.m.clone());
                tensors.put(p.name() + ".v", s.v.clone());
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
            s.m = m == null ? null : m.clone();
            s.v = v == null ? null : v.clone();
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
