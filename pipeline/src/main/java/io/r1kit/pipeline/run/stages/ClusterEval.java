package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.metrics.ReflectionRate;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.pipeline.cluster.ClusterEngine;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.RunRecipe;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * {@link Evaluator#run} with the sampling and scoring on the cluster: one task per chunk of
 * {@link EvalChunkTask#CHUNK} prompts, each the in-process chunk (same prompts, same seed), and the
 * metrics computed here from all samples, as in-process.
 */
final class ClusterEval {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterEval.class);

    private ClusterEval() {}

    /**
     * Evaluates {@code modelDir} on {@code data}; {@code rollouts} is the driver's (the same template,
     * rewards and prompt length as the executors'), used to render the prompts of the result.
     */
    static Evaluator.Result run(RunContext ctx, StageSpec s, Path modelDir, Rollouts rollouts, Dataset data, Evaluator.Options o,
                                int maxPromptLength, String accuracyReward, String formatReward, double correctThreshold) throws Exception {
        List<Example> examples = EvalChunkTask.prompts(data, o);
        if (examples.isEmpty()) throw new IllegalArgumentException("eval set is empty");
        ClusterEngine engine = ctx.cluster().engine();
        long t0 = System.nanoTime();
        ModelShipment model = engine.ship(modelDir, ctx.cluster().config().broadcastMaxBytes());
        LOG.info("{}: cluster eval: model {} shipped by {} ({} bytes) in {} s", s.name(), modelDir, model.how(), model.bytes(),
                String.format("%.2f", (System.nanoTime() - t0) / 1e9));
        EvalChunkTask task = new EvalChunkTask(UUID.randomUUID().toString(), RunRecipe.of(ctx, s), EvalChunkTask.EvalOptions.of(o),
                maxPromptLength, accuracyReward, formatReward, correctThreshold, model);
        List<EvalChunkTask.Chunk> chunks = new ArrayList<>();
        for (int p0 = 0; p0 < examples.size(); p0 += EvalChunkTask.CHUNK) {
            List<SamplingChunkTask.ShippedExample> ps = new ArrayList<>();
            for (Example e : examples.subList(p0, Math.min(examples.size(), p0 + EvalChunkTask.CHUNK))) ps.add(SamplingChunkTask.ShippedExample.of(e));
            chunks.add(new EvalChunkTask.Chunk(p0, ps));
        }
        long t1 = System.nanoTime();
        List<EvalChunkTask.Scored> results = engine.map(s.name() + ": eval of " + examples.size() + " prompts", chunks, task,
                (done, total) -> LOG.info("{}: cluster eval: tasks {}/{} done", s.name(), done, total));
        double seconds = (System.nanoTime() - t1) / 1e9;
        List<Rollouts.Sample> all = new ArrayList<>();
        TreeSet<Long> pids = new TreeSet<>();
        for (EvalChunkTask.Scored r : results) {
            pids.add(r.pid());
            for (EvalChunkTask.ScoredSample x : r.samples()) {
                int group = x.group() + r.start();
                all.add(x.sample(rollouts.prompt(examples.get(group))));
            }
        }
        LOG.info("{}: cluster eval: {} samples in {} s ({} samples/s) on executors {}", s.name(), all.size(), String.format("%.1f", seconds),
                String.format("%.2f", all.size() / Math.max(seconds, 1e-9)), pids);
        Map<String, Double> m = Evaluator.metrics(all, o.numSamples(), rollouts.rewardNames());
        if (!o.reflectionWords().isEmpty()) m.put(ReflectionRate.METRIC, ReflectionRate.of(all.stream().map(Rollouts.Sample::text).toList(), o.reflectionWords()));
        return new Evaluator.Result(m, all);
    }
}
