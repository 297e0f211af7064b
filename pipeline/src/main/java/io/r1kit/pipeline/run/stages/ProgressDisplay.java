package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.train.TrainerListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.Locale;
import java.util.Map;

/** The console progress bar of a training stage: step, reward, accuracy, KL, length and ETA. */
final class ProgressDisplay implements TrainerListener, AutoCloseable {
    private final String stage;
    private ProgressBar bar;

    ProgressDisplay(String stage) {
        this.stage = stage;
    }

    void total(long steps) {
        bar = new ProgressBarBuilder().setTaskName(stage).setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(1000).continuousUpdate().build();
    }

    @Override
    public void onStep(long step, Map<String, Object> m) {
        if (bar == null) return;
        bar.stepTo(step);
        bar.setExtraMessage(message(m));
    }

    /** The bar's metrics; one with no value (no KL without a reference model, no accuracy reward) is left out. */
    static String message(Map<String, Object> m) {
        StringBuilder b = new StringBuilder();
        append(b, "reward", m.get("reward"));
        append(b, "acc", m.get("rewards/accuracy/mean"));
        append(b, "kl", m.get("kl"));
        append(b, "len", m.get("completions/mean_length"));
        return b.toString();
    }

    private static void append(StringBuilder b, String label, Object v) {
        if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
            b.append(' ').append(label).append(' ').append(String.format(Locale.ROOT, "%.3f", n.doubleValue()));
        }
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
