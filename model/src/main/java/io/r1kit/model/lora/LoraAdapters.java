package io.r1kit.model.lora;

import io.r1kit.model.arch.DecoderLayer;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The LoRA adapters of a model's decoder blocks, created as PEFT creates them: A [r, in] drawn
 * Kaiming-uniform with a = √5 (i.e. uniform(−1/√in, 1/√in)), B [out, r] zeros, so the adapted model
 * starts equal to the base. Parameter names are the keys PEFT saves in adapter_model.safetensors
 * ({@code base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight}), which also key the
 * optimizer state.
 *
 * <p>States: active (the default: targeted projections add the adapter term), {@link #disabled()}
 * (the frozen base alone, e.g. the KL reference) and {@link #merged()} (W + B·A·alpha/r written into
 * the base weights for code that reads the weights directly, such as cached decoding; the exact base
 * values are put back when the scope closes).
 */
public final class LoraAdapters {
    /** Prefix PEFT's PeftModel adds to the wrapped model's parameter names. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private final LoraConfig config;
    private final long seed;
    private final List<LoraLayer> layers = new ArrayList<>();
    private boolean disabled, merged;

    private LoraAdapters(LoraConfig config, long seed) {
        this.config = config;
        this.seed = seed;
    }

    /** Adapters for every targeted projection of {@code blocks}, initialised from {@code seed}. */
    public static LoraAdapters create(List<DecoderLayer> blocks, LoraConfig config, long seed) {
        LoraAdapters ad = new LoraAdapters(config, seed);
        SplittableRandom rng = new SplittableRandom(seed);
        for (DecoderLayer l : blocks) {
            List<String> mods = new ArrayList<>();
            List<Parameter> base = new ArrayList<>(), as = new ArrayList<>(), bs = new ArrayList<>();
            for (String m : config.targetModules()) {
                Parameter w = projection(l, m);
                int out = w.dim(0), in = w.dim(1);
                String prefix = PEFT_PREFIX + w.name().substring(0, w.name().length() - ".weight".length());
                float bound = (float) (1 / Math.sqrt(in));
                float[] av = new float[config.r() * in];
                for (int i = 0; i < av.length; i++) av[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                mods.add(m);
                base.add(w);
                as.add(new Parameter(prefix + ".lora_A.weight", av, config.r(), in));
                bs.add(Parameter.zeros(prefix + ".lora_B.weight", out, config.r()));
            }
            ad.layers.add(new LoraLayer(ad, l.index(), mods.toArray(String[]::new), base.toArray(Parameter[]::new),
                    as.toArray(Parameter[]::new), bs.toArray(Parameter[]::new)));
        }
        return ad;
    }

    /** The weight of projection {@code module} of a block. */
    static Parameter projection(DecoderLayer l, String module) {
        return switch (module) {
            case "q_proj" -> l.qProj();
            case "k_proj" -> l.kProj();
            case "v_proj" -> l.vProj();
            case "o_proj" -> l.oProj();
            case "gate_proj" -> l.gateProj();
            case "up_proj" -> l.upProj();
            case "down_proj" -> l.downProj();
            default -> throw new IllegalArgumentException("lora: unknown projection " + module);
        };
    }

    public LoraConfig config() {
        return config;
    }

    /** The adapters of block {@code i}. */
    public LoraLayer layer(int i) {
        return layers.get(i);
    }

    /** Every adapter parameter, block by block, A before B, projections in {@link LoraConfig#MODULES} order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (LoraLayer l : layers) {
            for (int i = 0; i < l.size(); i++) {
                ps.add(l.loraA(i));
                ps.add(l.loraB(i));
            }
        }
        return ps;
    }

    /** True when the forward adds the adapter terms (neither disabled nor merged). */
    boolean active() {
        return !disabled && !merged;
    }

    /**
     * The adapter branch's input: {@code x} itself, or while recording gradients with lora_dropout p
     * &gt; 0, x times a mask of 0 and 1/(1−p). The mask is drawn from the seed, the block, the projection
     * and the values of x, so a recomputation of the same input (gradient checkpointing, a resumed
     * run) draws the same mask.
     */
    Tensor dropout(Tensor x, int layer, int module) {
        double p = config.loraDropout();
        if (p == 0 || !Grad.isEnabled()) return x;
        if (x.isOnDevice())
            throw new UnsupportedOperationException("lora: lora_dropout > 0 runs on the host only; set lora_dropout: 0 for a device run");
        float[] xs = x.data();
        long h = seed * 0x9E3779B97F4A7C15L + (layer * 8L + module) * 0xC2B2AE3D27D4EB4FL + Arrays.hashCode(xs);
        SplittableRandom rng = new SplittableRandom(h);
        float keep = (float) (1 / (1 - p));
        float[] mask = new float[xs.length];
        for (int i = 0; i < mask.length; i++) mask[i] = rng.nextDouble() < p ? 0f : keep;
        return F.mul(x, Tensor.wrap(mask, x.shape()));
    }

    /** Turns the adapters off until the returned scope is closed: the forward is the frozen base model's. */
    public Scope disabled() {
        boolean was = disabled;
        disabled = true;
        return () -> disabled = was;
    }

    /** Runs {@code body} with the adapters off (see {@link #disabled()}). */
    public <T> T withDisabled(java.util.function.Supplier<T> body) {
        try (Scope s = disabled()) {
            return body.get();
        }
    }

    /**
     * Writes W + B·A·alpha/r into every targeted base weight until the returned scope closes, which
     * puts back the base values exactly (a copy is kept meanwhile). While merged the forward adds no
     * adapter term, so it computes the same function with the merged weights alone.
     */
    public Scope merged() {
        if (merged) return () -> { };
        if (disabled) throw new IllegalStateException("lora: cannot merge adapters while they are disabled");
        List<Parameter> ws = new ArrayList<>();
        List<Tensor> saved = new ArrayList<>();
        try (Grad.Scope ng = Grad.noGrad()) {
            for (LoraLayer l : layers) {
                for (int i = 0; i < l.size(); i++) {
                    Parameter w = l.base(i);
                    ws.add(w);
                    saved.add(w.snapshot());
                    addDelta(l, i);
                }
            }
        }
        merged = true;
        return () -> {
            for (int i = 0; i < ws.size(); i++) ws.get(i).restore(saved.get(i));
            merged = false;
        };
    }

    /** Merges the adapters into the base weights for good (PEFT's merge_and_unload); the adapters stop contributing. */
    public void mergeForGood() {
        if (merged) throw new IllegalStateException("lora: the adapters are already merged");
        try (Grad.Scope ng = Grad.noGrad()) {
            for (LoraLayer l : layers) for (int i = 0; i < l.size(); i++) addDelta(l, i);
        }
        merged = true;
    }

    /**
     * W += B·A·alpha/r for adapter i of block l (grad off): on the host in place, w[j] += s·(B·A)[j]
     * (one r-deep GEMM and one pass over W); on a device through a device add and copy.
     */
    private void addDelta(LoraLayer l, int i) {
        Parameter w = l.base(i);
        Tensor ba = F.matmul(l.loraB(i), l.loraA(i));
        float s = (float) config.scaling();
        if (w.isOnDevice()) {
            w.restore(F.add(w, F.scale(ba, s)));
            return;
        }
        float[] wv = w.data(), d = ba.data();
        for (int j = 0; j < wv.length; j++) wv[j] += s * d[j];
        w.bf16CopyStale();
    }

    /** A state change that {@code close()} undoes. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
