package io.r1kit.model.backend.device;

/**
 * The unary elementwise ops ({@code F.exp}, {@code F.clamp}, ...) with their host formulas: the
 * CPU path ({@code ops.Pointwise}) and {@link EmulatedDevice} both run these loops, so the emulated
 * device gives the CPU's bits. p, q: the op's scalars (scale / add-scalar / exponent: p; clamp: p =
 * min, q = max; the comparisons: p = the threshold).
 */
public enum UnaryOp {
    SCALE, ADD_SCALAR, NEG, EXP, LOG, SQRT, POW, CLAMP, SIGMOID, LOG_SIGMOID, ABS,
    /** 1 where x &lt; p, else 0 (no gradient): counts on the device, e.g. GRPO's clip metrics, without reading x back. */
    LESS_THAN,
    /** 1 where x &gt; p, else 0 (no gradient). */
    GREATER_THAN;

    /** Y[0, n) = op(X[0, n)). */
    public void forward(float[] X, float[] Y, int n, float p, float q) {
        switch (this) {
            case SCALE -> { for (int i = 0; i < n; i++) Y[i] = p * X[i]; }
            case ADD_SCALAR -> { for (int i = 0; i < n; i++) Y[i] = X[i] + p; }
            case NEG -> { for (int i = 0; i < n; i++) Y[i] = -X[i]; }
            case EXP -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.exp(X[i]); }
            case LOG -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.log(X[i]); }
            case SQRT -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.sqrt(X[i]); }
            case POW -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.pow(X[i], p); }
            case CLAMP -> { for (int i = 0; i < n; i++) Y[i] = Math.min(Math.max(X[i], p), q); }
            case SIGMOID -> { for (int i = 0; i < n; i++) Y[i] = (float) (1.0 / (1.0 + Math.exp(-X[i]))); }
            // log σ(x) = min(x, 0) - log1p(exp(-|x|)): no overflow for large |x|
            case LOG_SIGMOID -> { for (int i = 0; i < n; i++) Y[i] = (float) (Math.min(X[i], 0.0) - Math.log1p(Math.exp(-Math.abs(X[i])))); }
            case ABS -> { for (int i = 0; i < n; i++) Y[i] = Math.abs(X[i]); }
            case LESS_THAN -> { for (int i = 0; i < n; i++) Y[i] = X[i] < p ? 1f : 0f; }
            case GREATER_THAN -> { for (int i = 0; i < n; i++) Y[i] = X[i] > p ? 1f : 0f; }
        }
    }

    /** dX[0, n) += g · op'(x), reading x (X) and/or the forward's output (Y). */
    public void backward(float[] g, float[] X, float[] Y, float[] dX, int n, float p, float q) {
        switch (this) {
            case SCALE -> { for (int i = 0; i < n; i++) dX[i] = Math.fma(p, g[i], dX[i]); }   // as Backend.axpy
            case ADD_SCALAR -> { for (int i = 0; i < n; i++) dX[i] += g[i]; }
            case NEG -> { for (int i = 0; i < n; i++) dX[i] -= g[i]; }
            case EXP -> { for (int i = 0; i < n; i++) dX[i] += g[i] * Y[i]; }
            case LOG -> { for (int i = 0; i < n; i++) dX[i] += g[i] / X[i]; }
            case SQRT -> { for (int i = 0; i < n; i++) dX[i] += g[i] * 0.5f / Y[i]; }
            case POW -> { for (int i = 0; i < n; i++) dX[i] += g[i] * p * (float) Math.pow(X[i], p - 1); }
            // gradient flows where min <= x <= max (bounds inclusive, as in torch)
            case CLAMP -> { for (int i = 0; i < n; i++) if (X[i] >= p && X[i] <= q) dX[i] += g[i]; }
            case SIGMOID -> { for (int i = 0; i < n; i++) dX[i] += g[i] * Y[i] * (1f - Y[i]); }
            // d/dx log σ(x) = σ(-x)
            case LOG_SIGMOID -> { for (int i = 0; i < n; i++) dX[i] += g[i] * (float) (1.0 / (1.0 + Math.exp(X[i]))); }
            case ABS -> { for (int i = 0; i < n; i++) dX[i] += g[i] * Math.signum(X[i]); }   // 0 at 0, as torch
            case LESS_THAN, GREATER_THAN -> { }   // a step function: zero gradient almost everywhere
        }
    }
}
