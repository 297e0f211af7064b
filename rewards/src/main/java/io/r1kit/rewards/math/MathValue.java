package io.r1kit.rewards.math;

import java.util.List;

/** A parsed final answer: a scalar, or one of the structured forms answers take. */
public sealed interface MathValue {

    /** A scalar expression (number, fraction, irrational, symbolic). */
    record Scalar(Expr expr) implements MathValue { }

    /** Free text that is not math (a name, a multiple-choice letter, a base-n numeral). */
    record Text(String text) implements MathValue { }

    /** Ordered tuple / point / vector: {@code (1, 2)}. An open interval {@code (a, b)} is read as a 2-tuple. */
    record Tuple(List<MathValue> items) implements MathValue { }

    /** Unordered collection: {@code \{1, 2\}}, a bare list of roots {@code 1, -2}, or {@code a \pm b}. */
    record SetOf(List<MathValue> items) implements MathValue { }

    /** An interval with at least one closed end; {@code (a, b)} is a {@link Tuple}. */
    record Interval(Expr low, Expr high, boolean lowClosed, boolean highClosed) implements MathValue { }

    /** A union of intervals and sets. */
    record Union(List<MathValue> parts) implements MathValue { }

    /** A matrix, row major; a column vector is n x 1. */
    record Matrix(List<List<Expr>> rows) implements MathValue { }

    /**
     * A chain of relations {@code e0 op0 e1 op1 e2 ...}; ops are "=", "<", "<=", ">", ">=", "!=".
     * An equation or inequality is a chain of two expressions.
     */
    record Relation(List<Expr> terms, List<String> ops) implements MathValue { }
}
