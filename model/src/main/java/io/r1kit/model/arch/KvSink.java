package io.r1kit.model.arch;

/**
 * Receives each layer's keys (after RoPE and q/k norm) and values during a prefill forward, so a
 * generator can fill its KV cache from the same code path training uses.
 */
@FunctionalInterface
public interface KvSink {
    /** k, v: [B, T, Hkv, D] row-major, only valid during the call (copy what you keep). */
    void accept(int layer, float[] k, float[] v, int B, int T);
}
