package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Several sums over the active elements of a mask (mask ≠ 0), and one-element values such as a
 * loss, read back to the host together: a loss and the metrics made of it. Each sum is given in
 * two forms with the same meaning, and the one for where the mask lives runs:
 * <ul>
 *   <li>on the host, a per-element contribution in double ({@link Contribution}) from the host
 *       values of the term's inputs, added up in one pass over the active elements in index order;
 *   <li>on a device, a one-element tensor (typically {@link F#maskedSum}); every term's tensor is
 *       gathered into one small vector and read back in ONE copy labelled {@code what [n]} (one
 *       synchronisation), so no [N, T] tensor crosses.
 * </ul>
 * The device results are fp32 (a reduction in double rounded when read), the host sums double.
 */
public final class MaskedSums {
    /** The contribution of the active element {@code k} with mask value {@code m}, from the inputs' host values. */
    @FunctionalInterface
    public interface Contribution {
        double at(int k, double m, float[][] values);
    }

    private record Term(Tensor value, Tensor[] inputs, Contribution host, Supplier<Tensor> device) {}

    private final Tensor mask;
    private final String what;
    private final List<Term> terms = new ArrayList<>();

    private MaskedSums(Tensor mask, String what) {
        this.mask = mask;
        this.what = what;
    }

    /** Sums over the active elements of {@code mask}; {@code what} labels the device read-back. */
    public static MaskedSums over(Tensor mask, String what) {
        return new MaskedSums(mask, what);
    }

    /** A one-element tensor's value (on the host {@code item()}; on a device read with the sums). */
    public MaskedSums value(Tensor scalar) {
        if (scalar.numel() != 1) throw new IllegalArgumentException(what + ": a value term needs one element, got " + scalar);
        terms.add(new Term(scalar, null, null, null));
        return this;
    }

    /**
     * A sum: on the host Σ over active k of {@code host.at(k, mask[k], values of inputs)}; on a device
     * the one-element tensor {@code device} makes (built without a graph, only on a device).
     */
    public MaskedSums sum(Contribution host, Supplier<Tensor> device, Tensor... inputs) {
        terms.add(new Term(null, inputs.clone(), host, device));
        return this;
    }

    /** The terms' values, in the order they were added. */
    public double[] read() {
        // two forms: the host's double sums would be rounded to fp32 by the device form (see the class comment)
        return mask.isOnDevice() ? readOnDevice() : readOnHost();
    }

    private double[] readOnHost() {
        int n = terms.size();
        double[] out = new double[n];
        float[][][] values = new float[n][][];
        for (int j = 0; j < n; j++) {
            Term term = terms.get(j);
            if (term.value() != null) {
                out[j] = term.value().item();
                continue;
            }
            values[j] = new float[term.inputs().length][];
            for (int i = 0; i < values[j].length; i++) values[j][i] = term.inputs()[i].data();
        }
        float[] m = mask.data();
        for (int k = 0; k < m.length; k++) {
            if (m[k] == 0) continue;
            double w = m[k];
            for (int j = 0; j < n; j++) if (values[j] != null) out[j] += terms.get(j).host().at(k, w, values[j]);
        }
        return out;
    }

    private double[] readOnDevice() {
        try (var ng = Grad.noGrad()) {
            List<Tensor> parts = new ArrayList<>(terms.size());
            for (Term term : terms) {
                Tensor t = term.value() != null ? term.value().detach() : term.device().get();
                parts.add(F.reshape(t, 1));
            }
            Tensor all = F.concat(parts, 0);
            float[] v = new float[parts.size()];
            all.device().read(all.deviceArray(what), 0, v, 0, v.length, what + " [" + v.length + "]");
            double[] out = new double[v.length];
            for (int j = 0; j < v.length; j++) out[j] = v[j];
            return out;
        }
    }
}
