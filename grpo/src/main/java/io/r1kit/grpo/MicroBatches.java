package io.r1kit.grpo;

import io.r1kit.model.arch.Batch;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The inputs of one GRPO step's micro-batches, built once per step and reused by the old- and
 * reference-policy scoring and by every pass: the {@link Batch} (the same index arrays each time,
 * so a device uploads them once), the completion mask with truncated completions zeroed, its sum,
 * and the micro-batch's advantages. With the policy on a device the mask is uploaded once per
 * micro-batch and the step's advantages once, as [n, 1], and each micro-batch's rows are a device
 * slice of them (micro-batches are contiguous runs of the step's completions). Per-token advantages
 * (REINFORCE++ with the KL in the reward) are laid out [rows, T] per micro-batch, under the mask.
 */
final class MicroBatches {
    private final DeviceBackend device;
    private final Map<int[], Batch> batches = new IdentityHashMap<>();
    private final Map<int[], Tensor> masks = new IdentityHashMap<>();
    private final Map<int[], Double> active = new IdentityHashMap<>();
    private final Map<int[], float[]> hostMasks = new IdentityHashMap<>();
    private final float[] adv;
    private Tensor advOnDevice;
    private float[][] tokenAdv;
    private final Map<int[], Tensor> tokenAdvs = new IdentityHashMap<>();

    MicroBatches(DeviceBackend device, List<List<int[]>> plan, List<int[]> prompts, List<int[]> completions, boolean[] masked,
                 float[] adv) {
        this.device = device;
        this.adv = adv;
        for (List<int[]> mini : plan) {
            for (int[] m : mini) {
                List<int[]> ps = new ArrayList<>(m.length), cs = new ArrayList<>(m.length);
                for (int i : m) {
                    ps.add(prompts.get(i));
                    cs.add(completions.get(i));
                }
                Batch b = Batch.of(ps, cs);
                float[] md = b.completionMask().data();
                for (int row = 0; row < m.length; row++)
                    if (masked[m[row]]) Arrays.fill(md, row * b.T(), (row + 1) * b.T(), 0f);
                double sum = GrpoLoss.sum(md);
                Tensor mask = Tensor.wrap(md, b.B(), b.T());
                batches.put(m, b);
                active.put(m, sum);
                hostMasks.put(m, md);
                masks.put(m, device == null ? mask : mask.toDevice(device, "grpo completion mask " + b.B() + "x" + b.T()));
            }
        }
    }

    Batch batch(int[] micro) { return batches.get(micro); }

    /** [rows, T], where the policy lives. */
    Tensor mask(int[] micro) { return masks.get(micro); }

    /** [rows · T] row-major, the mask on the host. */
    float[] hostMask(int[] micro) { return hostMasks.get(micro); }

    /** Σ mask, known on the host. */
    double activeTokens(int[] micro) { return active.get(micro); }

    /**
     * Per-token advantages, one array per completion over its tokens, used instead of the
     * per-completion ones from now on.
     */
    void useTokenAdvantages(float[][] perCompletion) {
        if (perCompletion.length != adv.length) {
            throw new IllegalArgumentException("grpo: " + perCompletion.length + " per-token advantage rows for " + adv.length + " completions");
        }
        tokenAdv = perCompletion;
        tokenAdvs.clear();
    }

    /** [rows, 1], or [rows, T] with per-token advantages, where the policy lives. */
    Tensor advantages(int[] micro) {
        if (tokenAdv != null) return tokenAdvs.computeIfAbsent(micro, this::tokenAdvantages);
        if (device == null) {
            float[] a = new float[micro.length];
            for (int row = 0; row < micro.length; row++) a[row] = adv[micro[row]];
            return Tensor.wrap(a, micro.length, 1);
        }
        if (advOnDevice == null) advOnDevice = Tensor.of(adv, adv.length, 1).toDevice(device, "grpo advantages [" + adv.length + "]");
        for (int row = 1; row < micro.length; row++)
            if (micro[row] != micro[0] + row) throw new IllegalStateException("grpo: micro-batch rows are not contiguous");
        return F.slice(advOnDevice, 0, micro[0], micro[0] + micro.length);
    }

    private Tensor tokenAdvantages(int[] micro) {
        Batch b = batches.get(micro);
        List<float[]> rows = new ArrayList<>(micro.length);
        for (int i : micro) rows.add(tokenAdv[i]);
        Tensor a = b.completionTensor(rows);
        return device == null ? a : a.toDevice(device, "grpo per-token advantages " + b.B() + "x" + b.T());
    }
}
