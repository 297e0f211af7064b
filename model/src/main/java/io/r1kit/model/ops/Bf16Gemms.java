package io.r1kit.model.ops;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The mixed-precision GEMMs of one matmul forward or backward: every operand goes to
 * {@link DeviceBackend#gemmBf16} as BF16. Operands already stored in bf16 (a parameter's bf16
 * copy, an activation saved with {@code storeAsBf16}) are used as they are; an F32 operand (the
 * output gradient in backward, an activation not stored in bf16) is cast once per call of this
 * object — backward's loops reuse the cast — and the casts are freed on {@link #close}. The
 * results (C) stay F32.
 */
final class Bf16Gemms implements MatMul.Gemms<DeviceArray>, AutoCloseable {
    private final DeviceBackend dev;
    private final Map<DeviceArray, DeviceArray> casts = new IdentityHashMap<>();

    Bf16Gemms(DeviceBackend dev) {
        this.dev = dev;
    }

    private DeviceArray bf16(DeviceArray x) {
        if (x.type() == ElementType.BF16) return x;
        return casts.computeIfAbsent(x, a -> dev.castToBf16(a, 0, a.length()));
    }

    @Override public void gemm(boolean tA, boolean tB, int M, int N, int K, float alpha, DeviceArray A, int aOff, DeviceArray B,
                               int bOff, float beta, DeviceArray C, int cOff) {
        dev.gemmBf16(tA, tB, 1, M, N, K, alpha, bf16(A), aOff, 0, bf16(B), bOff, 0, beta, C, cOff, 0);
    }

    @Override public void gemmBatched(boolean tA, boolean tB, int batch, int M, int N, int K, float alpha, DeviceArray A,
                                      int aOff, int sA, DeviceArray B, int bOff, int sB, float beta, DeviceArray C, int cOff, int sC) {
        dev.gemmBf16(tA, tB, batch, M, N, K, alpha, bf16(A), aOff, sA, bf16(B), bOff, sB, beta, C, cOff, sC);
    }

    @Override public void close() {
        // safe to free now: every GEMM reading these casts is already enqueued (one stream)
        casts.values().forEach(DeviceArray::close);
        casts.clear();
    }
}
