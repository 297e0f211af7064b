package io.r1kit.grpo.sft;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.gen.GeneratorParams;
import io.r1kit.data.gen.Generators;
import io.r1kit.data.gen.TaskGenerator;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.generate.Generator;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardRegistry;
import io.r1kit.rewards.RewardSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Not a test (no @Test): pretrains a toy base model and measures what R1-Zero would start from.
 * Run by hand, e.g.
 * <pre>
 *   java -cp ... io.r1kit.grpo.sft.ToyBaseModelExperiment docs=90000 hidden=96 layers=4 heads=4 ffn=256 lr=4e-3
 * </pre>
 * It prints tokens/s of pretraining, then greedy and sampled (T=1, 4 per prompt) accuracy and
 * format rate on 200 held-out arithmetic problems (part=test) with the toy template, scored by the
 * rewards module's {@code accuracy} and {@code format}.
 */
public final class ToyBaseModelExperiment {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (String s : args) a.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        ToyBaseModel.Recipe r = ToyBaseModel.Recipe.quickstart();
        int hidden = Integer.parseInt(a.getOrDefault("hidden", "" + r.hidden()));
        int layers = Integer.parseInt(a.getOrDefault("layers", "" + r.layers()));
        int heads = Integer.parseInt(a.getOrDefault("heads", "" + r.heads()));
        int ffn = Integer.parseInt(a.getOrDefault("ffn", "" + r.ffn()));
        r = r.withSize(hidden, layers, heads, ffn).withDocuments(Integer.parseInt(a.getOrDefault("docs", "" + r.documents())));
        Map<String, Object> over = new LinkedHashMap<>();
        if (a.containsKey("epochs")) over.put("num_train_epochs", Integer.parseInt(a.get("epochs")));
        if (a.containsKey("steps")) over.put("max_steps", Integer.parseInt(a.get("steps")));
        if (a.containsKey("lr")) over.put("learning_rate", Double.parseDouble(a.get("lr")));
        if (a.containsKey("batch")) over.put("batch_size", Integer.parseInt(a.get("batch")));
        if (a.containsKey("budget")) over.put("max_tokens_per_forward", Integer.parseInt(a.get("budget")));
        r = r.withSft(r.sft().with(over));
        Path out = a.containsKey("out") ? Path.of(a.get("out")) : null;
        System.out.printf("recipe %s%n", r);
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long t0 = System.nanoTime(), c0 = os.getProcessCpuTime();
        ToyBaseModel.Built b = ToyBaseModel.pretrain(r, out);
        double secs = (System.nanoTime() - t0) / 1e9, cpu = (os.getProcessCpuTime() - c0) / 1e9;
        // the machine is shared: tokens per CPU-second is the number that carries over to an idle 2-core box (× ~2)
        System.out.printf("cpu %.1f s (%.2f cores busy on average): %.0f tokens per cpu-second, load average %.1f%n", cpu, cpu / secs,
                b.result().numTokens() / cpu, os.getSystemLoadAverage());
        System.out.printf("pretrained %s in %.1f s: %d tokens, %.0f tokens/s overall, last window %.0f tokens/s, final loss %.4f%n",
                b.model(), secs, b.result().numTokens(), b.result().numTokens() / secs, b.result().tokensPerSecond(), b.result().trainLoss());

        int nEval = Integer.parseInt(a.getOrDefault("eval", "200"));
        TaskGenerator g = Generators.create("arithmetic", 12345, new GeneratorParams(Map.of("part", "test")));
        List<Example> ex = new ArrayList<>();
        for (int i = 0; i < nEval; i++) ex.add(g.example(i));
        Dataset evalSet = new Dataset(ex);
        try (CompositeReward rewards = CompositeReward.fromSpecs(List.of(RewardSpec.named("accuracy", 1.0), RewardSpec.named("format", 1.0)),
                RewardRegistry.builtins(), CompositeReward.DEFAULT_TIMEOUT);
             Rollouts ro = new Rollouts(b.tokenizer(), PromptTemplates.byName("toy"), rewards, 128, true, null, null, 1.0)) {
            Generator gen = new Generator(b.model(), b.tokenizer());
            long e0 = System.nanoTime();
            Evaluator.Result greedy = Evaluator.run(gen, ro, evalSet, new Evaluator.Options(1, 0.0, 0, 1.0, 160, 0, 7));
            System.out.printf("greedy  (%.1f s): %s%n", (System.nanoTime() - e0) / 1e9, greedy.metrics());
            e0 = System.nanoTime();
            Evaluator.Result sampled = Evaluator.run(gen, ro, evalSet, new Evaluator.Options(4, 1.0, 0, 1.0, 160, 0, 7));
            System.out.printf("T=1 x4  (%.1f s): %s%n", (System.nanoTime() - e0) / 1e9, sampled.metrics());
            for (int i = 0; i < 8; i++) {
                Rollouts.Sample s = sampled.samples().get(i * 4);
                System.out.printf("  [%s] %s => %s | answer %s correct=%s format=%s%n", s.prompt().example().id(),
                        s.prompt().example().getString("prompt"), s.text().replace("\n", "\\n"), s.prompt().example().get("answer"),
                        s.correct(), s.formatted());
            }
        }
    }
}
