package io.r1kit.model.lora;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;

/**
 * The adapters of one decoder block: for each targeted projection y = x·Wᵀ (+ b), the low-rank
 * term y += (dropout(x)·Aᵀ)·Bᵀ · lora_alpha / r, with A [r, in] and B [out, r] (PEFT's
 * {@code lora_A} / {@code lora_B}). The block calls {@link #apply} after each projection.
 */
public final class LoraLayer {
    private final LoraAdapters owner;
    private final int layer;
    private final String[] modules;
    private final Parameter[] base, a, b;

    LoraLayer(LoraAdapters owner, int layer, String[] modules, Parameter[] base, Parameter[] a, Parameter[] b) {
        this.owner = owner;
        this.layer = layer;
        this.modules = modules;
        this.base = base;
        this.a = a;
        this.b = b;
    }

    /**
     * The projection output {@code y} of weight {@code w} applied to {@code x}, plus the adapter term
     * when {@code w} is targeted and the adapters are active (not disabled, not merged into the weights).
     */
    public Tensor apply(Parameter w, Tensor x, Tensor y) {
        if (!owner.active()) return y;
        for (int i = 0; i < base.length; i++) {
            if (base[i] != w) continue;
            Tensor in = owner.dropout(x, layer, i);
            Tensor delta = F.linear(F.linear(in, a[i]), b[i]);
            return F.add(y, F.scale(delta, (float) owner.config().scaling()));
        }
        return y;
    }

    int size() {
        return base.length;
    }

    String module(int i) {
        return modules[i];
    }

    Parameter base(int i) {
        return base[i];
    }

    Parameter loraA(int i) {
        return a[i];
    }

    Parameter loraB(int i) {
        return b[i];
    }
}
