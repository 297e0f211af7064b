package io.r1kit.grpo.sft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Best-fit-decreasing bin packing of whole examples into sequences of at most {@code capacity}
 * tokens (TRL's {@code packing_strategy="bfd"}): examples are taken longest first, each goes into the
 * open bin with the least room that still fits it, or opens a new bin. No example is ever split.
 * Deterministic: ties are broken by example index.
 */
public final class SequencePacker {
    private SequencePacker() {}

    /** Bins of example indices (into {@code lengths}); each bin's lengths sum to ≤ capacity. */
    public static List<int[]> pack(int[] lengths, int capacity) {
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) {
            if (lengths[i] > capacity)
                throw new IllegalArgumentException("packing: example " + i + " has " + lengths[i] + " tokens, more than the bin size " + capacity);
            if (lengths[i] <= 0) throw new IllegalArgumentException("packing: example " + i + " is empty");
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -lengths[i]).thenComparingInt(i -> i));
        List<List<Integer>> bins = new ArrayList<>();
        // room left -> bins with exactly that room (oldest first)
        TreeMap<Integer, ArrayDeque<Integer>> byRoom = new TreeMap<>();
        int[] room = new int[lengths.length];
        for (int idx : order) {
            int len = lengths[idx];
            Map.Entry<Integer, ArrayDeque<Integer>> fit = byRoom.ceilingEntry(len);
            int bin;
            if (fit == null) {
                bin = bins.size();
                bins.add(new ArrayList<>());
                room[bin] = capacity;
            } else {
                bin = fit.getValue().pollFirst();
                if (fit.getValue().isEmpty()) byRoom.remove(fit.getKey());
            }
            bins.get(bin).add(idx);
            room[bin] -= len;
            if (room[bin] > 0) byRoom.computeIfAbsent(room[bin], k -> new ArrayDeque<>()).addLast(bin);
        }
        List<int[]> out = new ArrayList<>(bins.size());
        for (List<Integer> b : bins) out.add(b.stream().mapToInt(Integer::intValue).toArray());
        return out;
    }
}
