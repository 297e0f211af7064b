package io.r1kit.model.autograd;

import io.r1kit.model.tensor.Tensor;

/**
 * Gradient-recording mode. Recording is on by default; inside
 * {@code try (var ng = Grad.noGrad()) { ... }} no op records a graph node or keeps activations
 * (use it for inference, rollouts, reference-model log-probs). The mode is PER THREAD, like
 * torch.no_grad: a rollout thread in no-grad does not affect a training thread.
 */
public final class Grad {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private Grad() {}

    /** True when ops on this thread record the graph. */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording on this thread until the returned scope is closed. */
    public static Scope noGrad() {
        return setEnabled(false);
    }

    /** Enables recording on this thread until the scope is closed (e.g. inside a no-grad region). */
    public static Scope enableGrad() {
        return setEnabled(true);
    }

    private static Scope setEnabled(boolean value) {
        boolean[] flag = ENABLED.get();
        boolean prev = flag[0];
        flag[0] = value;
        return new Scope(flag, prev);
    }

    /** True when recording is on and at least one of the tensors requires grad: the op must record a node. */
    public static boolean needsGrad(Tensor... inputs) {
        if (!isEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    /** Makes {@code out} the output of {@code node}; returns {@code out}. Call only when {@link #needsGrad} was true. */
    public static Tensor attach(Tensor out, Node node) {
        out.attachGradFn(node);
        return out;
    }

    /** Restores the previous mode on close. Close on the thread that opened it. */
    public static final class Scope implements AutoCloseable {
        private final boolean[] flag;
        private final boolean previous;

        private Scope(boolean[] flag, boolean previous) {
            this.flag = flag;
            this.previous = previous;
        }

        @Override
        public void close() {
            flag[0] = previous;
        }
    }
}
