package io.r1kit.model.autograd;

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
        if (x.isOnDevice()) return DeviceCheckpoint.run(block, x);
        Tensor y;
        try (var ng = Grad.noGrad()) {
            y = block.apply(x);
        }
        // A fresh tensor object over the block's output storage, so the block's own result
        // (which could be x itself) is never turned into a graph node.
        Tensor out = Tensor.wrap(y.data(), y.shape());
        return Grad.attach(out, new CheckpointNode(block, x));
    }

    private static final class CheckpointNode extends Node {
        private UnaryOperator<Tensor> block;

        CheckpointNode(UnaryOperator<Tensor> block, Tensor x) {
            super("checkpoint", x);
            this.block = block;
        }

        @Override
        protected void backward(float[] gradOut) {
            Tensor x = input(0);
            Tensor xd = x.detach().requiresGrad(x.requiresGrad());
            Tensor y;
            try (var g = Grad.enableGrad()) {
                y = block.apply(xd);
            }
            if (y.requiresGrad()) Backward.run(y, gradOut);
            float[] gx = xd.gradData();
            if (x.requiresGrad() && gx != null) {
                float[] dst = x.gradBuffer();
                for (int i = 0; i < gx.length; i++) dst[i] += gx[i];
            }
        }

        @Override
        protected void release() {
            block = null;
            super.release();
        }
    }
}
