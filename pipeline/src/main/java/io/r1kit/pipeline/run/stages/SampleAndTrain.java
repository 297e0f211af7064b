package io.r1kit.pipeline.run.stages;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.grpo.rejection.CandidateSource;
import io.r1kit.grpo.rejection.JsonlSource;
import io.r1kit.grpo.rejection.Judge;
import io.r1kit.grpo.rejection.ModelSource;
import io.r1kit.grpo.rejection.RejectionConfig;
import io.r1kit.grpo.rejection.RejectionSampler;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.grpo.sft.SftConfig;
import io.r1kit.grpo.sft.SftTrainer;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.pipeline.config.RunConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * What cold start, rejection sampling and distillation share: sample from a checkpoint through the
 * {@link RejectionSampler} (judge, R1's filters, dedup, cap, JSONL with provenance, resumable), then
 * SFT a model on the result with the same prompt template, then the stage's greedy eval.
 */
final class SampleAndTrain {
    private static final Logger LOG = LoggerFactory.getLogger(SampleAndTrain.class);

    /** Where the sampler writes accepted/rejected/progress/stats (inside the stage's work directory). */
    static final String SAMPLES_DIR = "rejection";

    /** Beside the samples directory, when the sampling ran on a cluster: jobs, samples/s, executors, model shipping. */
    static final String CLUSTER_REPORT = "cluster.json";

    private SampleAndTrain() {}

    static Path samplesDir(RunContext ctx, StageSpec s) {
        return ctx.dir().stageDir(s.name()).resolve(SAMPLES_DIR);
    }

    /** The prompts: the stage's data set, its first {@code maxPrompts} when &gt; 0. */
    static List<Example> prompts(RunContext ctx, StageSpec s, int maxPrompts) {
        Dataset d = ctx.data().get(s.data());
        return maxPrompts > 0 && maxPrompts < d.size() ? d.examples().subList(0, maxPrompts) : d.examples();
    }

    /**
     * Samples from {@code sourceModel} — or, when {@code candidatesColumn} is given, takes the
     * candidates from that column of the prompt examples (a string or a list: completions written
     * earlier, e.g. by a bigger model) — then judges and filters into {@link #samplesDir}, resuming a
     * killed run without duplicates (the sampler truncates to its last progress line).
     */
    static RejectionSampler.Stats sample(RunContext ctx, StageSpec s, Path sourceModel, Path judgeModel, List<Example> prompts,
                                         RejectionConfig rc, int maxPromptLength, UnaryOperator<String> rewrite,
                                         String candidatesColumn) throws Exception {
        CausalLM judge = judgeModel == null ? null : ctx.onModelDevice(CausalLM.load(judgeModel));
        try (Tokenizer judgeTok = judgeModel == null ? null : ctx.tokenizer(judgeModel);
             CompositeReward rewards = ctx.rewards(s)) {
            Judge j = RejectionSampler.judgeFor(rc, rewards, judge == null ? null : new Generator(judge, judgeTok), judgeTok);
            if (candidatesColumn != null) {
                return run(ctx, s, new JsonlSource(ctx.template(s), candidatesColumn), j, rc, prompts, rewrite);
            }
            if (ctx.cluster().enabled()) {
                // sampling and judging on the executors; filters, dedup, cap and the files here, as in-process
                ClusterSampling cs = ClusterSampling.start(ctx, s, sourceModel, judgeModel, prompts, rc, maxPromptLength);
                RejectionSampler.Stats st = run(ctx, s, cs, cs, rc, prompts, rewrite);
                ctx.dir().writeJson(ctx.dir().stageDir(s.name()).resolve(CLUSTER_REPORT), cs.report());
                return st;
            }
            CausalLM model = ctx.onModelDevice(CausalLM.load(sourceModel));
            try (Tokenizer tok = ctx.tokenizer(sourceModel);
                 Rollouts ro = samplingRollouts(ctx, s, tok, rewards, rc, maxPromptLength)) {
                return run(ctx, s, new ModelSource(ro, new Generator(model, tok), rc.samplingParams(), rc.samplesPerPrompt()), j, rc,
                        prompts, rewrite);
            }
        }
    }

    /** The rollouts that render and tokenise the prompts of sampling (driver and executors alike). */
    static Rollouts samplingRollouts(RunContext ctx, StageSpec s, Tokenizer tok, CompositeReward rewards, RejectionConfig rc,
                                     int maxPromptLength) {
        return new Rollouts(tok, ctx.template(s), rewards, maxPromptLength, true,
                rewards.names().contains(rc.accuracyReward()) ? rc.accuracyReward() : null, null, rc.correctThreshold());
    }

    private static RejectionSampler.Stats run(RunContext ctx, StageSpec s, CandidateSource src, Judge judge, RejectionConfig rc,
                                              List<Example> prompts, UnaryOperator<String> rewrite) throws Exception {
        RejectionSampler sampler = new RejectionSampler(rc, src, judge).log(LOG::info);
        if (rewrite != null) sampler.rewrite(rewrite);
        long t0 = System.nanoTime();
        RejectionSampler.Stats st = sampler.run(prompts, samplesDir(ctx, s));
        double seconds = (System.nanoTime() - t0) / 1e9;
        LOG.info("{}: {} prompts, {} samples, {} accepted, {} rejected {}", s.name(), st.prompts(), st.samples(), st.accepted(),
                st.rejected(), st.reasons());
        LOG.info("{}: sampling took {} s ({} samples/s{})", s.name(), String.format("%.2f", seconds),
                String.format("%.2f", st.samples() / Math.max(seconds, 1e-9)), ctx.cluster().enabled() ? ", on the cluster" : ", in-process");
        if (st.accepted() == 0) {
            throw new IllegalStateException(s.name() + ": no sample was accepted (rejection reasons " + st.reasons() + " in "
                    + samplesDir(ctx, s).resolve(RejectionSampler.STATS) + "); sample more, or loosen the judge / filters");
        }
        return st;
    }

    /** {@code candidates_column} and {@code source} exclude each other. */
    static void checkSource(RunContext ctx, StageSpec s, RunConfig.ModelSpec source, String candidatesColumn) {
        if (source != null && candidatesColumn != null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/candidates_column") + ": give 'source' (a checkpoint to sample) "
                    + "or 'candidates_column' (completions already in the data), not both");
        }
        ctx.checkModelOption(s, "source", source);
    }

    /** SFTs {@code modelDir} on a prompt/completion JSONL with the stage's template; returns the final model directory. */
    static Path sft(RunContext ctx, StageSpec s, Path modelDir, Path trainJsonl, SftConfig c) throws Exception {
        return sftResult(ctx, s, modelDir, trainJsonl, c).modelDir();
    }

    /** {@link #sft} with the trainer's result (steps, tokens trained on) and the model's parameter count. */
    record Trained(SftTrainer.Result result, long params) {
        Path modelDir() { return result.modelDir(); }
    }

    static Trained sftResult(RunContext ctx, StageSpec s, Path modelDir, Path trainJsonl, SftConfig c) throws Exception {
        CausalLM model = ctx.onModelDevice(CausalLM.load(modelDir));
        try (Tokenizer tok = ctx.tokenizer(modelDir)) {
            SftTrainer.Result r = StageOutputs.sft(SftTrainer.builder(model, tok, c).template(ctx.template(s)), ctx, s)
                    .log(LOG::info).build().train(Dataset.read(trainJsonl), null);
            if (r.halted()) throw new IllegalStateException(s.name() + ": training halted (see run.log)");
            LOG.info("{}: SFT finished: {} steps, train loss {}, {} tokens", s.name(), r.steps(), String.format("%.4f", r.trainLoss()),
                    r.numTokens());
            return new Trained(r, model.config().parameterCount());
        }
    }

    /**
     * The SFT options of a stage ({@code sft:}), with stage-specific defaults for keys the user did
     * not set, and the run's seed. The prompt template is the stage's (as in sampling): an
     * {@code sft.template} is refused.
     */
    static SftConfig sftConfig(RunContext ctx, StageSpec s, SftConfig given, Map<String, Object> defaults) {
        JsonNode node = s.options().path("sft");
        if (node.has("template")) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/sft/template") + ": the SFT of a " + s.type().yamlName()
                    + " stage uses the stage's template (the one sampling used); set 'template' on the stage instead");
        }
        SftConfig c = given == null ? SftConfig.of(Map.of()) : given;
        Map<String, Object> over = new java.util.LinkedHashMap<>();
        defaults.forEach((k, v) -> { if (!node.has(k)) over.put(k, v); });
        if (!node.has("seed")) over.put("seed", ctx.config().seed());
        return over.isEmpty() ? c : c.with(over);
    }

    /** The sampling options ({@code sampling:}) with stage-specific defaults for keys the user did not set. */
    static RejectionConfig samplingConfig(StageSpec s, RejectionConfig given, Map<String, Object> defaults) {
        JsonNode node = s.options().path("sampling");
        RejectionConfig c = given == null ? RejectionConfig.defaults() : given;
        Map<String, Object> over = new java.util.LinkedHashMap<>();
        defaults.forEach((k, v) -> { if (!node.has(k)) over.put(k, v); });
        return over.isEmpty() ? c : c.with(over);
    }

    /** The stage's data sets must exist; checked at validation. */
    static void requireData(RunContext ctx, StageSpec s, String what) {
        if (s.data() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": " + s.type().yamlName() + " stage '" + s.name()
                    + "' needs 'data' (" + what + ")");
        }
    }

    static void requireDataSet(RunContext ctx, StageSpec s, String key, String name) {
        if (name != null && !ctx.data().names().contains(name)) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/" + key) + ": data set '" + name
                    + "' is not defined under 'data:' (defined: " + ctx.data().names() + ")");
        }
    }

    /** Evaluates the stage's final model on {@code eval_data} (if any) and writes {@code eval/<stage>.json} with {@code extra}. */
    static Map<String, Object> evalAndWrite(RunContext ctx, StageSpec s, Path model, StageEval.Options o, Map<String, Object> extra)
            throws Exception {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        if (s.evalData() != null) {
            out.putAll(StageEval.run(ctx, s, model, ctx.data().get(s.evalData()), o));
        } else {
            LOG.warn("{}: no eval_data, so eval/{}.json holds only the stage's own counts", s.name(), s.name());
        }
        out.putAll(extra);
        ctx.dir().writeJson(ctx.dir().evalFile(s.name()), out);
        LOG.info("eval {}: accuracy {} format_rate {} language_consistency {} mean_length {} (n={})", s.name(), out.get("accuracy"),
                out.get("format_rate"), out.get("language_consistency"), out.get("mean_length"), out.get("n"));
        return out;
    }
}
