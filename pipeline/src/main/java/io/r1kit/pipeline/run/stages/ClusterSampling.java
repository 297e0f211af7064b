package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Example;
import io.r1kit.grpo.rejection.Candidate;
import io.r1kit.grpo.rejection.CandidateSource;
import io.r1kit.grpo.rejection.Judge;
import io.r1kit.grpo.rejection.Judgement;
import io.r1kit.grpo.rejection.RejectionConfig;
import io.r1kit.pipeline.cluster.ClusterEngine;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.RunRecipe;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The driver's side of distributed sampling. The {@code RejectionSampler} runs on the driver as it
 * does in-process, with this object as its candidate source and its judge: when the sampler asks for the
 * chunk starting at prompt {@code k}, one Spark job samples and judges that chunk and the next ones
 * ({@code cluster.chunks_per_job}), one task per chunk ({@link SamplingChunkTask}); the sampler then
 * filters, deduplicates, caps and writes as it always does. Each task reproduces the in-process
 * chunk exactly (same prompts, same chunk start, hence the same seeds and generation batch), so the
 * files, {@code progress.jsonl} and {@code stats.json} are the in-process run's, byte for byte, and a
 * killed stage resumes the same way.
 */
final class ClusterSampling implements CandidateSource, Judge {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSampling.class);

    private final ClusterEngine engine;
    private final StageSpec stage;
    private final List<Example> prompts;
    private final int chunk, chunksPerJob;
    private final SamplingChunkTask task;
    private final Map<Integer, List<List<Candidate>>> ready = new HashMap<>();
    private final IdentityHashMap<Candidate, Judgement> judgements = new IdentityHashMap<>();
    private int expectedStart = -1;

    // what the run log and cluster.json report
    private final TreeSet<Long> executorPids = new TreeSet<>();
    private final long shippedBytes;
    private final double shipSeconds;
    private final String shippedHow;
    private int jobs, tasks;
    private long samples;
    private double jobSeconds, taskSeconds, setupSeconds;

    private ClusterSampling(ClusterEngine engine, StageSpec stage, List<Example> prompts, int chunk, int chunksPerJob, SamplingChunkTask task,
                            long shippedBytes, double shipSeconds, String shippedHow) {
        this.engine = engine;
        this.stage = stage;
        this.prompts = prompts;
        this.chunk = chunk;
        this.chunksPerJob = chunksPerJob;
        this.task = task;
        this.shippedBytes = shippedBytes;
        this.shipSeconds = shipSeconds;
        this.shippedHow = shippedHow;
    }

    /** Starts the run's cluster if needed and ships the models. */
    static ClusterSampling start(RunContext ctx, StageSpec s, Path sourceModel, Path judgeModel, List<Example> prompts, RejectionConfig rc,
                                 int maxPromptLength) throws IOException {
        ClusterEngine engine = ctx.cluster().engine();
        long limit = ctx.cluster().config().broadcastMaxBytes();
        long t0 = System.nanoTime();
        ModelShipment source = engine.ship(sourceModel, limit);
        ModelShipment judge = judgeModel == null ? null : engine.ship(judgeModel, limit);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long bytes = source.bytes() + (judge == null ? 0 : judge.bytes());
        String how = source.how() + (judge == null ? "" : " + judge " + judge.how());
        LOG.info("{}: cluster: model {} shipped by {} ({} bytes{}) in {} s", s.name(), sourceModel, source.how(), source.bytes(),
                judge == null ? "" : ", judge " + judge.bytes() + " bytes by " + judge.how(), String.format("%.2f", seconds));
        SamplingChunkTask task = new SamplingChunkTask(UUID.randomUUID().toString(), RunRecipe.of(ctx, s), SamplingChunkTask.writeSampling(rc),
                maxPromptLength, source, judge);
        return new ClusterSampling(engine, s, prompts, rc.promptBatchSize(), ctx.cluster().config().chunksPerJob(), task, bytes, seconds, how);
    }

    @Override
    public List<List<Candidate>> sample(List<Example> chunkPrompts) {
        int start = startOf(chunkPrompts);
        if (!ready.containsKey(start)) runJob(start);
        expectedStart = start + chunk;
        return ready.remove(start);
    }

    /** Same name as the in-process model source: it is written into every line. */
    @Override
    public String name() {
        return "model";
    }

    @Override
    public List<Judgement> judge(Example example, List<Candidate> candidates) {
        List<Judgement> out = new ArrayList<>();
        for (Candidate c : candidates) {
            Judgement j = judgements.remove(c);
            if (j == null) throw new IllegalStateException("no judgement of sample " + c.sampleIndex() + " of prompt " + example.id());
            out.add(j);
        }
        return out;
    }

    /**
     * The index of a chunk's first prompt: the sampler asks for chunks in order, at multiples of
     * {@code prompt_batch_size}, starting where it resumes; the first one is found by identity.
     */
    private int startOf(List<Example> chunkPrompts) {
        if (expectedStart >= 0 && matches(expectedStart, chunkPrompts)) return expectedStart;
        for (int s = 0; s < prompts.size(); s += chunk) if (matches(s, chunkPrompts)) return s;
        throw new IllegalStateException("the sampler asked for prompts that are not a chunk of the stage's prompt set");
    }

    private boolean matches(int start, List<Example> chunkPrompts) {
        if (start + chunkPrompts.size() > prompts.size()) return false;
        for (int i = 0; i < chunkPrompts.size(); i++) if (prompts.get(start + i) != chunkPrompts.get(i)) return false;
        return true;
    }

    private void runJob(int start) {
        List<SamplingChunkTask.Chunk> items = new ArrayList<>();
        int end = start;
        for (int c = 0; c < chunksPerJob && end < prompts.size(); c++) {
            int e = Math.min(prompts.size(), end + chunk);
            List<SamplingChunkTask.ShippedExample> ps = new ArrayList<>();
            for (Example ex : prompts.subList(end, e)) ps.add(SamplingChunkTask.ShippedExample.of(ex));
            items.add(new SamplingChunkTask.Chunk(end, ps));
            end = e;
        }
        jobs++;
        String job = stage.name() + ": sampling prompts " + start + "-" + (end - 1) + " of " + prompts.size();
        long t0 = System.nanoTime();
        int promptsInJob = end - start;
        long[] lastLog = {t0};
        List<SamplingChunkTask.Samples> results = engine.map(job, items, task, (done, total) -> {
            long now = System.nanoTime();
            if (done < total && now - lastLog[0] < 5_000_000_000L) return;
            lastLog[0] = now;
            LOG.info("{}: cluster job {}: tasks {}/{} done, {} s", stage.name(), jobs, done, total, String.format("%.1f", (now - t0) / 1e9));
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        long n = 0;
        for (SamplingChunkTask.Samples r : results) {
            List<List<Candidate>> chunkCands = new ArrayList<>();
            for (List<SamplingChunkTask.Sample> one : r.perPrompt()) {
                List<Candidate> cs = new ArrayList<>();
                for (SamplingChunkTask.Sample smp : one) {
                    Candidate c = smp.candidate();
                    cs.add(c);
                    judgements.put(c, smp.judgement());
                    n++;
                }
                chunkCands.add(cs);
            }
            ready.put(r.start(), chunkCands);
            executorPids.add(r.pid());
            taskSeconds += r.seconds();
            setupSeconds += r.setupSeconds();
        }
        tasks += results.size();
        samples += n;
        jobSeconds += seconds;
        LOG.info("{}: cluster job {}: {} prompts, {} tasks, {} samples in {} s ({} samples/s) on executors {}", stage.name(), jobs,
                promptsInJob, results.size(), n, String.format("%.1f", seconds), String.format("%.2f", n / Math.max(seconds, 1e-9)),
                executorPids);
    }

    /** What the stage's {@code cluster.json} records: jobs, tasks, samples/s, the executors' process ids, model shipping. */
    Map<String, Object> report() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("engine", engine.describe());
        m.put("jobs", jobs);
        m.put("tasks", tasks);
        m.put("samples", samples);
        m.put("job_seconds", jobSeconds);
        m.put("samples_per_second", jobSeconds == 0 ? 0.0 : samples / jobSeconds);
        m.put("task_seconds", taskSeconds);
        m.put("task_setup_seconds", setupSeconds);
        m.put("model_shipped_by", shippedHow);
        m.put("model_bytes", shippedBytes);
        m.put("ship_seconds", shipSeconds);
        m.put("driver_pid", ProcessHandle.current().pid());
        m.put("executor_pids", List.copyOf(executorPids));
        return m;
    }
}
