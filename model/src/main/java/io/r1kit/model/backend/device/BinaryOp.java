package io.r1kit.model.backend.device;

/**
 * The broadcasting binary ops ({@code F.add} ... {@code F.maximum}) with their host formulas,
 * shared by the CPU path ({@code ops.Broadcast}) and {@link EmulatedDevice} (same bits).
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MIN, MAX;

    public float apply(float x, float y) {
        return switch (this) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MIN -> Math.min(x, y);
            case MAX -> Math.max(x, y);
        };
    }

    /** g · ∂op/∂x at (x, y); ties of min / max split the gradient evenly between the operands, as torch does. */
    public float gradA(float g, float x, float y) {
        return switch (this) {
            case ADD, SUB -> g;
            case MUL -> g * y;
            case DIV -> g / y;
            case MIN -> x < y ? g : x == y ? 0.5f * g : 0f;
            case MAX -> x > y ? g : x == y ? 0.5f * g : 0f;
        };
    }

    /** g · ∂op/∂y at (x, y). */
    public float gradB(float g, float x, float y) {
        return switch (this) {
            case ADD -> g;
            case SUB -> -g;
            case MUL -> g * x;
            case DIV -> -g * x / (y * y);
            case MIN -> y < x ? g : x == y ? 0.5f * g : 0f;
            case MAX -> y > x ? g : x == y ? 0.5f * g : 0f;
        };
    }
}
