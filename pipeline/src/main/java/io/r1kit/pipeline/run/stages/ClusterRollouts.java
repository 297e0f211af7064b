package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.rollout.RolloutGenerator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.hf.DType;
import io.r1kit.pipeline.cluster.ClusterEngine;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.RunRecipe;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * GRPO and PPO rollouts on the run's cluster: before the first rollout of a step whose policy changed,
 * the policy's weights are saved (f32, exact) and shipped to the executors (broadcast, or by path when
 * larger than {@code cluster.broadcast_max_bytes}); the step's prompts are split into slices of
 * {@code cluster.rollout_prompts_per_task}, one Spark task each, every slice sampled with the step's
 * seed from its first prompt's index, so the samples are those the trainer would draw in-process.
 * Training stays on the driver.
 */
final class ClusterRollouts implements RolloutGenerator {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterRollouts.class);

    private final ClusterEngine engine;
    private final RunRecipe recipe;
    private final String stage;
    private final Rollouts rollouts;
    private final CausalLM model;
    private final Path snapshots;
    private final long broadcastMaxBytes;
    private final int promptsPerTask;
    private final String job = UUID.randomUUID().toString();

    private ModelShipment shipment;
    private Path shippedDir;
    private long shippedStep = -1;
    private final Map<String, Object> stepMetrics = new LinkedHashMap<>();
    private long metricsStep = -1;
    // for the summary in the run log when the stage ends
    private final TreeSet<Long> allPids = new TreeSet<>();
    private int jobs, ships;
    private long shippedBytes;
    private double shipSeconds, rolloutSeconds;

    private ClusterRollouts(RunContext ctx, StageSpec s, Rollouts rollouts, Generator generator) {
        this.engine = ctx.cluster().engine();
        this.recipe = RunRecipe.of(ctx, s);
        this.stage = s.name();
        this.rollouts = rollouts;
        this.model = generator.model();
        this.snapshots = ctx.dir().stageDir(s.name()).resolve("rollout-policy");
        this.broadcastMaxBytes = ctx.cluster().config().broadcastMaxBytes();
        this.promptsPerTask = ctx.cluster().config().rolloutPromptsPerTask();
    }

    /** The factory a GRPO or PPO stage hands its trainer's builder when the run has a cluster. */
    /**
     * Refuses, before any work, what cluster rollouts cannot do yet: LoRA adapters (executors are shipped
     * full checkpoints, and a model with adapters saves only the adapters).
     */
    static void validate(RunContext ctx, StageSpec s) {
        if (ctx.cluster().enabled() && s.lora() != null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": stage '" + s.name() + "' has lora: and the run has a cluster: "
                    + "section; rollouts on executors are shipped full weights and do not take adapters yet. Run the stage without "
                    + "cluster:, or train it without lora:");
        }
    }

    static Factory factory(RunContext ctx, StageSpec s) {
        return (rollouts, generator) -> {
            ClusterRollouts r = new ClusterRollouts(ctx, s, rollouts, generator);
            LOG.info("{}: rollouts on the cluster ({}), {} prompt(s) per task", s.name(), r.engine.describe(), r.promptsPerTask);
            return r;
        };
    }

    @Override
    public List<Rollouts.Sample> sampleAndScore(long step, List<Rollouts.Prompt> prompts, int n, SamplingParams params, long[] nanos) {
        if (metricsStep != step) {
            stepMetrics.clear();
            metricsStep = step;
        }
        if (shippedStep != step) ship(step);
        List<RolloutChunkTask.Slice> slices = new ArrayList<>();
        for (int p0 = 0; p0 < prompts.size(); p0 += promptsPerTask) {
            ArrayList<RolloutChunkTask.ShippedPrompt> ps = new ArrayList<>();
            for (Rollouts.Prompt p : prompts.subList(p0, Math.min(prompts.size(), p0 + promptsPerTask))) ps.add(RolloutChunkTask.ShippedPrompt.of(p));
            slices.add(new RolloutChunkTask.Slice(p0, ps));
        }
        RolloutChunkTask task = new RolloutChunkTask(job + "-" + step, recipe, rollouts.accuracyRewardName(), rollouts.formatRewardName(),
                rollouts.correctThreshold(), shipment, n, RolloutChunkTask.Sampling.of(params));
        long t0 = System.nanoTime();
        List<RolloutChunkTask.Scored> results = engine.map(stage + ": rollouts of step " + (step + 1), slices, task, (done, total) -> { });
        long t1 = System.nanoTime();
        List<Rollouts.Sample> out = new ArrayList<>(prompts.size() * n);
        TreeSet<Long> pids = new TreeSet<>();
        for (RolloutChunkTask.Scored r : results) {
            pids.add(r.pid());
            for (EvalChunkTask.ScoredSample x : r.samples()) {
                int group = x.group() + r.start();
                out.add(new Rollouts.Sample(group, prompts.get(group), x.tokens(), x.sampleLogprobs(), x.text(), x.finishReason(), x.reward(),
                        x.rewardValues(), x.correct(), x.formatted()));
            }
        }
        allPids.addAll(pids);
        jobs++;
        rolloutSeconds += (t1 - t0) / 1e9;
        if (out.size() != prompts.size() * n) {
            throw new IllegalStateException(stage + ": the cluster returned " + out.size() + " rollouts for " + prompts.size() + " prompts x " + n);
        }
        // sampling and scoring both ran in the tasks: their wall time is the rollout time, scoring time is not separable
        if (nanos != null) nanos[0] += t1 - t0;
        stepMetrics.merge("cluster/tasks", slices.size(), (a, b) -> ((Number) a).intValue() + ((Number) b).intValue());
        stepMetrics.put("cluster/executors", pids.size());
        LOG.debug("{}: step {}: {} rollouts from {} task(s) in {} s on executors {}", stage, step + 1, out.size(), slices.size(),
                String.format("%.2f", (t1 - t0) / 1e9), pids);
        return out;
    }

    /** The policy's weights changed: the next rollouts ship them first. */
    @Override
    public void policyUpdated(long step) {
        shippedStep = -1;
    }

    @Override
    public Map<String, Object> stepMetrics() {
        return Map.copyOf(stepMetrics);
    }

    /** Saves the policy as it is at {@code step} and ships it, freeing the previous step's shipment. */
    private void ship(long step) {
        long t0 = System.nanoTime();
        Path dir = snapshots.resolve("step-" + step);
        try {
            deleteTree(dir);
            model.save(dir, DType.F32);
            ModelShipment next = engine.ship(dir, broadcastMaxBytes);
            releasePrevious();
            shipment = next;
            if (next.how().equals("broadcast")) deleteTree(dir);   // its bytes travel with the job
            else shippedDir = dir;
        } catch (IOException e) {
            throw new UncheckedIOException(stage + ": cannot ship the policy of step " + step + " to the cluster (" + dir + ")", e);
        }
        shippedStep = step;
        double seconds = (System.nanoTime() - t0) / 1e9;
        ships++;
        shippedBytes += shipment.bytes();
        shipSeconds += seconds;
        stepMetrics.put("cluster/ship_seconds", seconds);
        stepMetrics.put("cluster/shipped_bytes", shipment.bytes());
        LOG.debug("{}: step {}: policy shipped by {} ({} bytes) in {} s", stage, step + 1, shipment.how(), shipment.bytes(),
                String.format("%.2f", seconds));
    }

    private void releasePrevious() throws IOException {
        if (shipment != null) shipment.release();
        if (shippedDir != null) deleteTree(shippedDir);
        shipment = null;
        shippedDir = null;
    }

    @Override
    public void close() {
        LOG.info("{}: cluster rollouts: {} job(s) in {} s, policy shipped {} time(s) by {} ({} bytes in {} s), on executors {}", stage, jobs,
                String.format("%.1f", rolloutSeconds), ships, shipment == null ? "-" : shipment.how(), shippedBytes,
                String.format("%.1f", shipSeconds), allPids);
        try {
            releasePrevious();
            deleteTree(snapshots);
        } catch (IOException e) {
            LOG.warn("{}: cannot remove the shipped policy snapshots in {}: {}", stage, snapshots, e.getMessage());
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
