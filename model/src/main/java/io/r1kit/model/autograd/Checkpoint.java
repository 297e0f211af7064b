package io.r1kit.model.autograd;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Tensor;

import java.util.function.UnaryOperator;

/**
 * Gradient checkpointing: runs a block's forward WITHOUT recording its graph (so none of its
 * activations stay alive), and re-runs the block with recording on during backward to get the
 * gradients. Trades one extra forward per block for activation memory; typical use is one
 * checkpoint per transformer block:
 * <pre>{@code
 * h = Checkpoint.run(x -> block.forward(x), h);
 * }</pre>
 * The block may use any parameters and any side inputs captured by the lambda (positions, masks);
 * its parameters receive their gradients during the recompute's backward. The block must be
 * deterministic (same inputs, same outputs), which every r1kit op is. Gradients are bit-identical
 * to running the block without checkpointing.
 */
@SuppressWarnings("try")   // scopes are opened for their side effect only
public final class Checkpoint {
    private Checkpoint() {}

    /**
     * Applies {@code block} to {@code x} with checkpointing. When recording is off (no-grad) this
     * is just {@code block.apply(x)}. Otherwise the output always requires grad, because the
     * block's parameters are unknown until it is re-run.
     */
    public static Tensor run(UnaryOperator<Tensor> block, Tensor x) {
        if (!Grad.isEnabled()) return block.apply(x);
        Tensor y;
        try (var ng = Grad.noGrad()) {
            y = block.apply(x);
        }
        // A fresh tensor object over the block's output storage (no copy), so the block's own
        // result (which could be x itself) is never turned into a graph node.
        return Grad.attach(y.view(y.shape()), new CheckpointNode(block, x));
    }

    /**
     * Re-runs the block with recording on and back-propagates the output's gradient through it,
     * then adds the input's gradient. The recompute passes the same host index arrays (ids,
     * positions, key mask) as the forward, which a device reuses from its upload cache, so
     * checkpointing adds compute but no transfers.
     */
    private static final class CheckpointNode extends Node {
        private UnaryOperator<Tensor> block;

        CheckpointNode(UnaryOperator<Tensor> block, Tensor x) {
            super("checkpoint", x);
            this.block = block;
        }

        @Override
        protected void backward(float[] gradOut) {
            backwardDevice(Backends.HOST.array(gradOut));
        }

        @Override
        protected void backwardDevice(DeviceArray gradOut) {
            Tensor x = input(0);
            DeviceBackend dev = x.backend();
            Tensor xd = x.detach().requiresGrad(x.requiresGrad());
            Tensor y;
            try (var g = Grad.enableGrad()) {
                y = block.apply(xd);
            }
            if (y.requiresGrad()) Backward.runFrom(y, gradOut);
            DeviceArray gx = xd.deviceGrad();
            if (x.requiresGrad() && gx != null) dev.axpy(1f, gx, x.deviceGradBuffer(), x.numel());
        }

        @Override
        protected void release() {
            block = null;
            super.release();
        }
    }
}
