package io.r1kit.pipeline.plan;

import java.util.Comparator;
import java.util.List;

/**
 * The memory one stage needs on its device.
 *
 * @param stage        stage name
 * @param type         stage type as written in YAML
 * @param model        the model's shape in words
 * @param items        what is held at the stage's peak (the fit check adds these up)
 * @param alternatives figures shown beside the plan but not added up (activations with the other
 *                     gradient-checkpointing setting)
 */
public record StagePlan(String stage, String type, String model, List<MemoryItem> items, List<MemoryItem> alternatives) {
    public long total() {
        return items.stream().mapToLong(MemoryItem::bytes).sum();
    }

    public MemoryItem largest() {
        return items.stream().max(Comparator.comparingLong(MemoryItem::bytes)).orElseThrow();
    }
}
