package io.r1kit.pipeline.cluster;

import io.r1kit.data.gen.Generators;
import io.r1kit.data.gen.GeneratorParams;
import io.r1kit.data.gen.JsonlWriter;
import io.r1kit.data.gen.TaskGenerator;
import io.r1kit.pipeline.run.DataSets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Generated data sets written by the cluster's executors: a set with more than {@code
 * cluster.generate_chunk} examples is split into index ranges of that many, one task each; every task
 * writes its range's lines exactly as {@link JsonlWriter} writes them in-process (each example is a
 * pure function of the task, seed, parameters and its index), and the driver appends the ranges in
 * order, {@code cluster.chunks_per_job} ranges per job.
 */
public final class ClusterDataSets implements DataSets.GeneratedSetWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterDataSets.class);

    private final Cluster cluster;

    public ClusterDataSets(Cluster cluster) {
        this.cluster = cluster;
    }

    @Override
    public boolean write(String name, String task, long seed, Map<String, String> params, long n, Path file) throws IOException {
        int chunk = cluster.config().generateChunk();
        if (n <= chunk) return false;
        ClusterEngine engine = cluster.engine();
        RangeTask t = new RangeTask(task, seed, new TreeMap<>(params));
        List<Range> ranges = new ArrayList<>();
        for (long i = 0; i < n; i += chunk) ranges.add(new Range(i, Math.min(n, i + chunk)));
        int perJob = cluster.config().chunksPerJob();
        long t0 = System.nanoTime(), bytes = 0;
        TreeSet<Long> pids = new TreeSet<>();
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int j = 0; j < ranges.size(); j += perJob) {
                List<Range> job = ranges.subList(j, Math.min(ranges.size(), j + perJob));
                for (Lines l : engine.map("data " + name + ": examples " + job.get(0).from() + ".." + job.get(job.size() - 1).to(), job, t,
                        (done, total) -> { })) {
                    byte[] b = l.text().getBytes(StandardCharsets.UTF_8);
                    out.write(b);
                    bytes += b.length;
                    pids.add(l.pid());
                }
            }
        }
        LOG.info("data {}: {} examples generated on the cluster in {} task(s) ({} bytes, {} s) on executors {}", name, n, ranges.size(), bytes,
                String.format("%.1f", (System.nanoTime() - t0) / 1e9), pids);
        return true;
    }

    /** Examples {@code [from, to)} of a set. */
    record Range(long from, long to) implements Serializable {}

    /** A range's lines, as one text, and the JVM that wrote them. */
    record Lines(String text, long pid) implements Serializable {}

    /** Writes one range of a generated set. */
    record RangeTask(String task, long seed, TreeMap<String, String> params) implements ClusterTask<Range, Lines> {
        @Override
        public Lines run(Range r) {
            TaskGenerator gen = Generators.create(task, seed, new GeneratorParams(params));
            StringWriter text = new StringWriter();
            try (JsonlWriter w = new JsonlWriter(text)) {
                for (long i = r.from(); i < r.to(); i++) w.write(gen.generate(i));
            }
            return new Lines(text.toString(), ProcessHandle.current().pid());
        }
    }
}
