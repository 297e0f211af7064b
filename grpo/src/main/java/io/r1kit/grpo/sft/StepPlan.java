package io.r1kit.grpo.sft;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Which examples each optimizer step trains on: a pure function of the examples' lengths, the config
 * and the step number, so a resumed run recomputes exactly the batches the uninterrupted run saw.
 *
 * <p>Sequences are the examples themselves, or with {@code packing} the bins of
 * {@link SequencePacker} (packed once). Epoch e visits the sequences in a Fisher–Yates order seeded
 * with {@code seed + e}; step s of the epoch takes sequences {@code [s·k, (s+1)·k)} of that order,
 * k = {@code batch_size × gradient_accumulation_steps} (the last step of an epoch may be short, as
 * with {@code drop_last=False}). Past the last epoch (when {@code max_steps} asks for more) the
 * epochs simply continue.
 */
public final class StepPlan {
    private final List<int[]> sequences;
    private final int perStep;
    private final long seed;
    private final int stepsPerEpoch;
    private final long totalSteps;
    private int cachedEpoch = -1;
    private int[] cachedOrder;

    public StepPlan(int[] exampleLengths, SftConfig c) {
        if (exampleLengths.length == 0) throw new IllegalArgumentException("SFT: the train set is empty (after encoding)");
        if (c.packing()) {
            sequences = SequencePacker.pack(exampleLengths, c.maxSeqLength());
        } else {
            sequences = new ArrayList<>(exampleLengths.length);
            for (int i = 0; i < exampleLengths.length; i++) sequences.add(new int[] {i});
        }
        perStep = c.sequencesPerStep();
        seed = c.seed();
        stepsPerEpoch = (sequences.size() + perStep - 1) / perStep;
        totalSteps = c.maxSteps() > 0 ? c.maxSteps() : (long) c.numTrainEpochs() * stepsPerEpoch;
    }

    public int numSequences() {
        return sequences.size();
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** The (0-based) epoch that step {@code step} belongs to. */
    public int epochOf(long step) {
        return (int) (step / stepsPerEpoch);
    }

    /** Example indices of step {@code step} (0-based), sequence by sequence. */
    public int[] examplesOf(long step) {
        int epoch = epochOf(step);
        if (epoch != cachedEpoch) {
            cachedOrder = order(sequences.size(), seed + epoch);
            cachedEpoch = epoch;
        }
        int from = (int) (step % stepsPerEpoch) * perStep, to = Math.min(sequences.size(), from + perStep);
        int n = 0;
        for (int i = from; i < to; i++) n += sequences.get(cachedOrder[i]).length;
        int[] out = new int[n];
        int k = 0;
        for (int i = from; i < to; i++) for (int ex : sequences.get(cachedOrder[i])) out[k++] = ex;
        return out;
    }

    static int[] order(int n, long seed) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
