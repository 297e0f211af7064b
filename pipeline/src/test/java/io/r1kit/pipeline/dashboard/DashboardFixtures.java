package io.r1kit.pipeline.dashboard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Run directories as a run writes them (the layout of RunDirectory), small and deterministic:
 * a GRPO stage's metrics lines with eval lines between them, samples with think/answer parts,
 * eval files, stage markers and the resolved config; and an ablation of two variants × two seeds.
 */
final class DashboardFixtures {
    private DashboardFixtures() {}

    static final String CONFIG = """
            name: %s
            seed: 1
            stages:
            - name: pretrain
              type: pretrain
              max_steps: 4
            - name: r1_zero
              type: grpo
              max_steps: 40
            - name: final_eval
              type: eval
            """;

    /** A run whose pretraining finished and whose GRPO stage has written {@code steps} steps (not finished). */
    static Path run(Path root, String id, int steps, double offset) throws IOException {
        Path dir = root.resolve(id);
        Files.createDirectories(dir.resolve("stages"));
        Files.writeString(dir.resolve("config.yaml"), CONFIG.formatted(dir.getFileName()));
        Files.writeString(dir.resolve("stages/pretrain.json"), "{\"stage\":\"pretrain\",\"type\":\"pretrain\",\"seconds\":12.5}");
        StringBuilder m = new StringBuilder();
        for (int s = 2; s <= 4; s += 2) {
            m.append(String.format(Locale.ROOT, "{\"stage\":\"pretrain\",\"step\":%d,\"loss\":%.4f,\"wall_time\":%.3f}%n", s, 4.0 / s,
                    1_700_000_000.0 + s));
        }
        Files.writeString(dir.resolve("metrics.jsonl"), m);
        appendSteps(dir, 1, steps, offset);
        Files.createDirectories(dir.resolve("eval"));
        Files.writeString(dir.resolve("eval/pretrain.json"), "{\"train_loss\":2.0,\"steps\":4}");
        Files.writeString(dir.resolve("eval/base_eval.json"), String.format(Locale.ROOT,
                "{\"accuracy\":%.3f,\"format_rate\":0.25,\"mean_length\":41.5,\"n\":200}", 0.2 + offset));
        for (int s = 5; s <= steps; s += 5) samples(dir, s);
        return dir;
    }

    /** Appends the metrics lines of GRPO steps {@code from..to} (with an eval line every 10 steps). */
    static void appendSteps(Path dir, int from, int to, double offset) throws IOException {
        StringBuilder m = new StringBuilder();
        for (int s = from; s <= to; s++) {
            double reward = reward(s, offset);
            m.append(String.format(Locale.ROOT, "{\"step\":%d,\"stage\":\"r1_zero\",\"reward\":%.5f,\"rewards/accuracy/mean\":%.5f,"
                            + "\"rewards/format/mean\":%.5f,\"kl\":%.6f,\"entropy\":%.4f,\"completions/mean_length\":%.2f,"
                            + "\"loss\":%.5f,\"learning_rate\":0.0001,\"wall_time\":%.3f}%n",
                    s, reward, reward * 0.7, Math.min(1, 0.3 + 0.03 * s), 0.001 * s * s, 2.0 - 0.02 * s, 60 - s * 0.5, 0.01 * Math.cos(s),
                    1_700_000_100.0 + 3.5 * s));
            if (s % 10 == 0) {
                m.append(String.format(Locale.ROOT, "{\"step\":%d,\"stage\":\"r1_zero\",\"eval/accuracy\":%.3f,\"wall_time\":%.3f}%n",
                        s, 0.2 + 0.01 * s + offset, 1_700_000_101.0 + 3.5 * s));
            }
        }
        Files.writeString(dir.resolve("metrics.jsonl"), m, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** The reward at a step: a trend, an offset per run and a wiggle whose phase depends on the offset (seeds differ). */
    static double reward(int step, double offset) {
        return offset + 0.02 * step + 0.1 * Math.sin(step * 1.7 + 40 * offset);
    }

    /** Two prompts × three completions: correct with think and answer, wrong, and truncated; one has HTML in it. */
    static void samples(Path dir, int step) throws IOException {
        Path f = dir.resolve("samples/r1_zero/step-" + step + ".jsonl");
        Files.createDirectories(f.getParent());
        String[] lines = {
                line(step, 0, "what is 2+3?", "<think>2+3 is 5</think><answer>5</answer>", 1.5, 1.0, 0.5, 0.9, 14, "stop", true),
                line(step, 0, "what is 2+3?", "<think>2+3 is 6</think><answer>6</answer>", 0.5, 0.0, 0.5, -0.3, 14, "stop", false),
                line(step, 0, "what is 2+3?", "<think>let me think <b>very</b> long", 0.0, 0.0, 0.0, -0.6, 48, "length", false),
                line(step, 1, "what is 7*6?", "<think>7*6=42</think><answer>42</answer>", 1.5, 1.0, 0.5, 0.7, 12, "stop", true),
                line(step, 1, "what is 7*6?", "42", 1.0, 1.0, 0.0, 0.1, 2, "stop", true),
                line(step, 1, "what is 7*6?", "<answer>48</answer>", 0.0, 0.0, 0.0, -0.8, 6, "stop", false)};
        Files.writeString(f, String.join("\n", lines) + "\n");
    }

    private static String line(int step, int group, String prompt, String completion, double reward, double acc, double fmt, double adv,
                               int length, String finish, boolean correct) {
        return String.format(Locale.ROOT, "{\"step\":%d,\"group\":%d,\"example_id\":\"arithmetic-%d\",\"prompt\":\"user: %s\\nassistant:\","
                        + "\"completion\":\"%s\",\"reward\":%.2f,\"rewards\":{\"accuracy\":%.2f,\"format\":%.2f},\"advantage\":%.3f,"
                        + "\"length\":%d,\"finish_reason\":\"%s\",\"correct\":%b}",
                step, group, group, prompt, completion, reward, acc, fmt, adv, length, finish, correct);
    }

    /** runs/ablations/NAME/VARIANT/seed-S for two variants and two seeds (each run with {@code steps} steps). */
    static Path ablation(Path root, String name, int steps) throws IOException {
        Path a = root.resolve("ablations").resolve(name);
        Files.createDirectories(a);
        Files.writeString(a.resolve("ablation.yaml"), "base: ../quickstart.yaml\nseeds: [1, 2]\n");
        int v = 0;
        for (String variant : new String[] {"loss_type=grpo", "loss_type=dapo"}) {
            for (int seed = 1; seed <= 2; seed++) run(a, variant + "/seed-" + seed, steps, 0.1 * v + 0.03 * seed);
            v++;
        }
        return a;
    }
}
