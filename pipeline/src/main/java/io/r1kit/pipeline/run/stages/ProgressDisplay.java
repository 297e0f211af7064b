package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.GrpoTrainer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.Locale;
import java.util.Map;

/** The console progress bar of a training stage: step, reward, accuracy, KL, length and ETA. */
final class ProgressDisplay implements GrpoTrainer.Listener, AutoCloseable {
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
        bar.setExtraMessage(String.format(Locale.ROOT, " reward %s acc %s kl %s len %s",
                fmt(m.get("reward")), fmt(m.get("rewards/accuracy/mean")), fmt(m.get("kl")), fmt(m.get("completions/mean_length"))));
    }

    private static String fmt(Object v) {
        return v instanceof Number n ? String.format(Locale.ROOT, "%.3f", n.doubleValue()) : "-";
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
