package io.r1kit.model.autograd;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.tensor.DeviceStorage;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The reverse-mode engine. From the root it orders every tensor that requires grad
 * topologically (iterative DFS, so deep graphs do not overflow the stack), then visits them
 * from the root down: each node receives its output's accumulated gradient and accumulates into
 * its inputs. An intermediate's gradient is freed right after its node ran, and each node is
 * released (saved activations dropped) as soon as it ran, so memory falls during backward and
 * nothing of the step survives it except the leaves' gradients.
 */
public final class Backward {
    private Backward() {}

    /**
     * Runs backward from {@code root} seeded with {@code gradOutput} (a tensor of root's shape
     * where root lives) or, when null, with 1 for a one-element root, written where root lives
     * (on a device: no transfer).
     */
    public static void run(Tensor root, Tensor gradOutput) {
        root.requireBackwardRoot();
        List<Tensor> order = topologicalOrder(root);   // root last
        root.seedGrad(gradOutput);
        propagate(order);
    }

    /** {@link #run} seeded with the array {@code seed} (root's size, on root's backend), e.g. a checkpointed block's output gradient. */
    public static void runFrom(Tensor root, DeviceArray seed) {
        root.requireBackwardRoot();
        List<Tensor> order = topologicalOrder(root);
        root.backend().axpy(1f, seed, root.deviceGradBuffer(), root.numel());
        propagate(order);
    }

    /** Visits the tensors from the root down: each node gets its output's gradient, then is released. */
    private static void propagate(List<Tensor> order) {
        for (int i = order.size() - 1; i >= 0; i--) {
            Tensor t = order.get(i);
            Node fn = (Node) t.gradFn();               // only Grad.attach records functions, and they are nodes
            if (fn == null) continue;                  // leaf: keeps its accumulated grad
            DeviceStorage.releaseUnreachable(t.backend());   // between two nodes: a safe point (see DeviceStorage)
            DeviceArray gradOut = t.deviceGrad();
            if (gradOut != null) fn.runBackwardDevice(gradOut);   // null: no gradient reached this tensor
            fn.releaseAll();
            boolean keep = t.retainsGrad();            // evaluated before the gradFn is dropped
            t.releaseGradFn();
            if (!keep) t.clearGrad();
        }
    }

    /** Tensors reachable from root through grad-requiring inputs, each after all its inputs (root last). */
    static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>();   // {tensor, next input index}
        visited.add(root);
        stack.push(new Object[] {root, 0});
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Tensor t = (Tensor) top[0];
            Node fn = (Node) t.gradFn();
            Tensor[] ins = fn == null ? new Tensor[0] : fn.inputs();
            int next = (Integer) top[1];
            while (next < ins.length && (ins[next] == null || !ins[next].requiresGrad() || visited.contains(ins[next])))
                next++;
            if (next < ins.length) {
                if (ins[next].graphReleased())
                    throw new IllegalStateException("backward: input " + next + " of " + fn.name() + " (shape "
                            + Shape.str(ins[next].shape()) + ") was produced by a graph already released by an earlier"
                            + " backward(); sum the losses and call backward once");
                top[1] = next + 1;
                visited.add(ins[next]);
                stack.push(new Object[] {ins[next], 0});
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
