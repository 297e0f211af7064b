package io.r1kit.grpo.rejection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.rewards.CompositeReward;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.UnaryOperator;

/**
 * Rejection sampling / cold-start / distillation data: for each prompt, in order, take the candidates
 * of a {@link CandidateSource}, judge them ({@link Judge}), apply the {@link SampleFilters}, an
 * optional rewrite (cold-start format), dedup and the per-prompt cap, and stream the results to disk.
 *
 * <p>Files in the output directory:
 * <ul>
 *   <li>{@code accepted.jsonl} — directly an SFT dataset: {@code id}, {@code prompt} (the example's raw
 *       prompt column; SFT renders it with the same template), {@code completion}, then provenance
 *       ({@code prompt_id}, {@code prompt_index}, {@code sample_index}, {@code source}, {@code prompt_text},
 *       {@code finish_reason}, {@code rewards}, {@code judge_verdict}, {@code filters}, and
 *       {@code original_completion} when rewritten), then the example's other columns (answer, language, …;
 *       never {@code messages}/{@code text}, which would change how SFT reads the line);</li>
 *   <li>{@code rejected.jsonl} — the same plus {@code reasons} (every named reason it failed);</li>
 *   <li>{@code progress.jsonl} — one line per finished prompt: its index and id, the byte length of both
 *       output files after it, and the cumulative counts;</li>
 *   <li>{@code stats.json} — {@link Stats} (rewritten after every chunk and at the end).</li>
 * </ul>
 *
 * <p><b>Resume.</b> A prompt's lines are appended and forced to disk, then its progress line. On
 * restart the last complete progress line says where the run was: both output files are truncated to
 * the recorded lengths (dropping a partly written prompt), the dedup set is rebuilt from
 * {@code accepted.jsonl}, and the run continues with the next prompt — nothing accepted is lost or
 * duplicated. Generation restarts at the chunk boundary ({@code prompt_batch_size}) so the samples
 * are the ones an uninterrupted run would draw. A progress file that names another prompt id at its
 * index (the prompt set changed) is an error.
 */
public final class RejectionSampler {

    public static final String ACCEPTED = "accepted.jsonl", REJECTED = "rejected.jsonl", PROGRESS = "progress.jsonl", STATS = "stats.json";
    public static final String DUPLICATE = "duplicate", OVER_CAP = "over_cap", NOT_REWRITABLE = "not_rewritable";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> NOT_COPIED = Set.of("messages", "text", "completion", "default_rewards", "prompt", "id");

    /**
     * Counts of a run.
     *
     * @param prompts             prompts in the prompt set
     * @param promptsDone         prompts processed so far
     * @param samples             candidates seen
     * @param accepted            candidates written to accepted.jsonl
     * @param rejected            candidates written to rejected.jsonl
     * @param promptsWithAccepted prompts with at least one accepted candidate
     * @param reasons             per reason, candidates that failed it (a candidate may fail several)
     */
    public record Stats(long prompts, long promptsDone, long samples, long accepted, long rejected, long promptsWithAccepted,
                        Map<String, Long> reasons) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prompts", prompts);
            m.put("prompts_done", promptsDone);
            m.put("complete", promptsDone == prompts);
            m.put("samples", samples);
            m.put("accepted", accepted);
            m.put("rejected", rejected);
            m.put("acceptance_rate", samples == 0 ? 0.0 : (double) accepted / samples);
            m.put("prompts_with_accepted", promptsWithAccepted);
            m.put("reasons", new TreeMap<>(reasons));
            return m;
        }
    }

    private final RejectionConfig cfg;
    private final CandidateSource source;
    private final Judge judge;
    private final SampleFilters filters;
    private UnaryOperator<String> rewrite;
    private IntConsumer afterPrompt = i -> {};
    private Consumer<String> log = s -> {};

    public RejectionSampler(RejectionConfig cfg, CandidateSource source, Judge judge) {
        this.cfg = cfg;
        this.source = source;
        this.judge = judge;
        this.filters = new SampleFilters(cfg);
    }

    /** Rewrites each accepted completion (e.g. {@link ColdStartFormat#rewrite}); null from it rejects the sample (not_rewritable). */
    public RejectionSampler rewrite(UnaryOperator<String> r) {
        this.rewrite = r;
        return this;
    }

    /** Called with the prompt index after each prompt's progress line is on disk (tests simulate a kill here). */
    public RejectionSampler afterPrompt(IntConsumer hook) {
        this.afterPrompt = hook;
        return this;
    }

    public RejectionSampler log(Consumer<String> l) {
        this.log = l;
        return this;
    }

    /**
     * The judge a config asks for: {@code rules} → {@link RuleJudge} over {@code rewards} (required);
     * {@code generative} → {@link GenerativeJudge} with {@code judgeModel} / {@code judgeTokenizer}
     * (required); {@code none} → {@link Judge#ACCEPT_ALL}.
     */
    public static Judge judgeFor(RejectionConfig cfg, CompositeReward rewards,
                                 Generator judgeModel, Tokenizer judgeTokenizer) {
        return switch (cfg.judge()) {
            case RULES -> {
                if (rewards == null) throw new IllegalArgumentException("judge: rules needs a rewards config (accuracy at least)");
                yield new RuleJudge(rewards, cfg.accuracyReward(), cfg.correctThreshold(), cfg.formatReward(), cfg.requireFormat());
            }
            case GENERATIVE -> {
                if (judgeModel == null || judgeTokenizer == null)
                    throw new IllegalArgumentException("judge: generative needs a judge model (judge_model) and its tokenizer");
                yield new GenerativeJudge(judgeModel, judgeTokenizer, cfg.judgeTemplate(), cfg.promptColumn(), cfg.referenceColumn(),
                        cfg.judgeMaxNewTokens());
            }
            case NONE -> Judge.ACCEPT_ALL;
        };
    }

    /** Runs (or resumes) over {@code prompts}, writing into {@code outDir}. */
    public Stats run(List<Example> prompts, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        Path acc = outDir.resolve(ACCEPTED), rej = outDir.resolve(REJECTED), prog = outDir.resolve(PROGRESS);
        Counts counts = new Counts();
        Set<String> seen = new HashSet<>();
        int next = resume(prompts, acc, rej, prog, counts, seen);
        if (next > 0) log.accept("rejection sampling: resuming at prompt " + next + " of " + prompts.size() + " (" + counts.accepted + " accepted so far)");
        try (FileChannel a = FileChannel.open(acc, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
             FileChannel r = FileChannel.open(rej, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
             FileChannel p = FileChannel.open(prog, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            int chunk = cfg.promptBatchSize();
            for (int start = (next / chunk) * chunk; next < prompts.size() && start < prompts.size(); start += chunk) {
                int end = Math.min(prompts.size(), start + chunk);
                List<Example> es = prompts.subList(start, end);
                if (source instanceof ModelSource ms) ms.chunkStart(start);
                List<List<Candidate>> cands = source.sample(es);
                if (cands.size() != es.size())
                    throw new IllegalStateException("candidate source returned " + cands.size() + " lists for " + es.size() + " prompts");
                for (int i = Math.max(start, next); i < end; i++) {
                    processPrompt(prompts.get(i), i, cands.get(i - start), a, r, counts, seen);
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("prompt_index", i);
                    line.put("prompt_id", prompts.get(i).id());
                    line.put("accepted_bytes", a.size());
                    line.put("rejected_bytes", r.size());
                    line.putAll(counts.toMap());
                    write(p, line);
                    p.force(false);
                    afterPrompt.accept(i);
                }
                writeStats(outDir, counts.stats(prompts.size(), end));
                log.accept("rejection sampling: " + end + "/" + prompts.size() + " prompts, " + counts.accepted + " accepted, "
                        + counts.rejected + " rejected");
            }
        }
        Stats s = counts.stats(prompts.size(), prompts.size());
        writeStats(outDir, s);
        return s;
    }

    private void processPrompt(Example e, int index, List<Candidate> cs, FileChannel acc, FileChannel rej, Counts counts,
                               Set<String> seen) throws IOException {
        List<Judgement> js = cs.isEmpty() ? List.of() : judge.judge(e, cs);
        List<List<String>> fs = cs.isEmpty() ? List.of() : filters.reasons(e, cs);
        int kept = 0;
        for (int k = 0; k < cs.size(); k++) {
            Candidate c = cs.get(k);
            Judgement j = js.get(k);
            List<String> reasons = new ArrayList<>();
            if (!j.correct()) reasons.add(j.reason() == null ? "incorrect" : j.reason());
            reasons.addAll(fs.get(k));
            String text = c.completion();
            if (reasons.isEmpty() && rewrite != null) {
                text = rewrite.apply(c.completion());
                if (text == null) reasons.add(NOT_REWRITABLE);
            }
            String key = c.promptText() + '\u0000' + SampleFilters.normalize(text == null ? "" : text);
            if (reasons.isEmpty() && cfg.dedup() && seen.contains(key)) reasons.add(DUPLICATE);
            if (reasons.isEmpty() && cfg.maxPerPrompt() > 0 && kept >= cfg.maxPerPrompt()) reasons.add(OVER_CAP);
            counts.samples++;
            Map<String, Object> line = line(e, index, c, j, fs.get(k), text == null ? c.completion() : text);
            if (reasons.isEmpty()) {
                kept++;
                seen.add(key);
                counts.accepted++;
                write(acc, line);
            } else {
                line.put("reasons", reasons);
                counts.rejected++;
                for (String reason : reasons) counts.reasons.merge(reason, 1L, Long::sum);
                write(rej, line);
            }
        }
        if (kept > 0) counts.promptsWithAccepted++;
        counts.promptsDone++;
        acc.force(false);
        rej.force(false);
    }

    private Map<String, Object> line(Example e, int index, Candidate c, Judgement j, List<String> failedFilters, String text) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id() + "-" + c.sampleIndex());
        m.put("prompt", e.optString(cfg.promptColumn())
                .orElseThrow(() -> new DatasetException("example '" + e.id() + "': missing column '" + cfg.promptColumn() + "'")));
        m.put("completion", text);
        m.put("prompt_id", e.id());
        m.put("prompt_index", index);
        m.put("sample_index", c.sampleIndex());
        m.put("source", source.name());
        m.put("prompt_text", c.promptText());
        m.put("finish_reason", c.finishReason());
        m.put("rewards", j.rewards());
        m.put("judge_verdict", j.verdict());
        m.put("filters", failedFilters);
        if (!text.equals(c.completion())) m.put("original_completion", c.completion());
        for (Map.Entry<String, Object> col : e.columns().entrySet()) {
            if (!NOT_COPIED.contains(col.getKey()) && !m.containsKey(col.getKey())) m.put(col.getKey(), col.getValue());
        }
        return m;
    }

    /** Restores the state of a previous run; returns the index of the first prompt to process. */
    private int resume(List<Example> prompts, Path acc, Path rej, Path prog, Counts counts, Set<String> seen) throws IOException {
        JsonNode last = null;
        long goodBytes = 0;
        if (Files.exists(prog)) {
            byte[] all = Files.readAllBytes(prog);
            int lineStart = 0;
            for (int i = 0; i < all.length; i++) {
                if (all[i] != '\n') continue;
                try {
                    last = JSON.readTree(new String(all, lineStart, i - lineStart, StandardCharsets.UTF_8));
                } catch (JsonProcessingException ex) {
                    break;   // a torn line: everything from here is discarded
                }
                lineStart = i + 1;
                goodBytes = lineStart;
            }
        }
        truncate(prog, goodBytes);
        if (last == null) {
            truncate(acc, 0);
            truncate(rej, 0);
            return 0;
        }
        int idx = last.get("prompt_index").asInt();
        String id = last.get("prompt_id").asText();
        if (idx >= prompts.size() || !prompts.get(idx).id().equals(id))
            throw new IllegalStateException(prog + ": the previous run finished prompt " + idx + " with id '" + id + "', but the prompt set "
                    + (idx >= prompts.size() ? "has only " + prompts.size() + " prompts" : "has '" + prompts.get(idx).id() + "' there")
                    + "; use a new output directory for a different prompt set");
        long accBytes = last.get("accepted_bytes").asLong(), rejBytes = last.get("rejected_bytes").asLong();
        if (!Files.exists(acc) || Files.size(acc) < accBytes || !Files.exists(rej) || Files.size(rej) < rejBytes)
            throw new IllegalStateException(prog + " records " + accBytes + " / " + rejBytes + " bytes of " + ACCEPTED + " / " + REJECTED
                    + " but the files are shorter: the output directory is damaged");
        truncate(acc, accBytes);
        truncate(rej, rejBytes);
        counts.load(last);
        if (cfg.dedup()) {
            try (var lines = Files.lines(acc, StandardCharsets.UTF_8)) {
                for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                    JsonNode n = JSON.readTree(it.next());
                    seen.add(n.path("prompt_text").asText() + '\u0000' + SampleFilters.normalize(n.path("completion").asText()));
                }
            }
        }
        return idx + 1;
    }

    private static void truncate(Path f, long size) throws IOException {
        if (!Files.exists(f)) return;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.force(false);
        }
    }

    private static void write(FileChannel ch, Map<String, Object> line) throws IOException {
        byte[] b = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static void writeStats(Path outDir, Stats s) {
        try {
            Path tmp = outDir.resolve(STATS + ".tmp");
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s.toMap()) + "\n");
            Files.move(tmp, outDir.resolve(STATS), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + outDir.resolve(STATS), e);
        }
    }

    /** Reads a stats.json. */
    public static JsonNode readStats(Path outDir) throws IOException {
        return JSON.readTree(outDir.resolve(STATS).toFile());
    }

    private static final class Counts {
        long promptsDone, samples, accepted, rejected, promptsWithAccepted;
        final Map<String, Long> reasons = new TreeMap<>();

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prompts_done", promptsDone);
            m.put("samples", samples);
            m.put("accepted", accepted);
            m.put("rejected", rejected);
            m.put("prompts_with_accepted", promptsWithAccepted);
            m.put("reasons", new TreeMap<>(reasons));
            return m;
        }

        void load(JsonNode n) {
            promptsDone = n.get("prompts_done").asLong();
            samples = n.get("samples").asLong();
            accepted = n.get("accepted").asLong();
            rejected = n.get("rejected").asLong();
            promptsWithAccepted = n.get("prompts_with_accepted").asLong();
            n.get("reasons").fields().forEachRemaining(e -> reasons.put(e.getKey(), e.getValue().asLong()));
        }

        Stats stats(long prompts, long upTo) {
            return new Stats(prompts, promptsDone, samples, accepted, rejected, promptsWithAccepted, Map.copyOf(reasons));
        }
    }
}
