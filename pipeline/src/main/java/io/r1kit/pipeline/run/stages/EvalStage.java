package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.config.Doc;
import io.r1kit.data.Dataset;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code type: eval}: runs the model on a held-out set (greedy, or k samples per prompt) with the
 * stage's rewards and writes {@code eval/<stage>.json} with {@code accuracy}, {@code format_rate},
 * {@code mean_length}, {@code n} and each reward's mean.
 */
public final class EvalStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(EvalStage.class);

    /**
     * Options of an eval stage.
     */
    public record Options(
            @Doc("samples per prompt, k; `accuracy` is pass@1 averaged over them, and `pass@k` is reported too.")
            Integer numSamples,
            @Doc("0 = greedy decoding; the R1 paper samples at 0.6 with `top_p` 0.95.")
            Double temperature,
            @Doc("top-k when sampling (0 = off).")
            Integer topK,
            @Doc("top-p when sampling (1.0 = off).")
            Double topP,
            @Doc("tokens generated at most.")
            Integer maxCompletionLength,
            @Doc("prompt tokens kept at most.")
            Integer maxPromptLength,
            @Doc("eval prompts used (0 = all).")
            Integer maxExamples,
            @Doc(value = "sampling seed.", unset = "the run's seed")
            Long seed,
            @Doc(value = "reward deciding \"correct\".", unset = "`accuracy` if configured, else the first reward")
            String accuracyReward,
            @Doc(value = "reward deciding the format rate.", unset = "`format` if configured, else the built-in R1-Zero format check")
            String formatReward,
            @Doc("a sample is correct when its accuracy reward is ≥ this.")
            Double correctThreshold,
            @Doc(value = "phrases counted by `completions/reflection_rate`.", unset = "none: no such metric")
            List<String> reflectionWords) {
        public Options {
            if (numSamples == null) numSamples = 1;
            if (temperature == null) temperature = 0.0;
            if (topK == null) topK = 0;
            if (topP == null) topP = 1.0;
            if (maxCompletionLength == null) maxCompletionLength = 256;
            if (maxPromptLength == null) maxPromptLength = 512;
            if (maxExamples == null) maxExamples = 0;
            if (correctThreshold == null) correctThreshold = 1.0;
            if (numSamples < 1) throw new IllegalArgumentException("num_samples must be ≥ 1, got " + numSamples);
            if (temperature < 0) throw new IllegalArgumentException("temperature must be ≥ 0 (0 = greedy), got " + temperature);
            if (numSamples > 1 && temperature == 0) {
                throw new IllegalArgumentException("num_samples = " + numSamples + " needs temperature > 0 (greedy decoding gives identical samples)");
            }
            if (maxCompletionLength < 1) throw new IllegalArgumentException("max_completion_length must be ≥ 1");
        }
    }

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        ctx.loaded().bindAt(s.pointer(), s.options(), Options.class);
        if (s.data() == null && s.evalData() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": eval stage '" + s.name() + "' needs 'data' (a data set name)");
        }
    }

    @Override
    public boolean producesModel() {
        return false;
    }

    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        Options o = ctx.loaded().bindAt(s.pointer(), s.options(), Options.class);
        Dataset data = ctx.data().get(s.evalData() != null ? s.evalData() : s.data());
        long seed = o.seed() != null ? o.seed() : ctx.config().seed();
        try (Tokenizer tok = ctx.tokenizer(inputModel);
             CompositeReward rewards = ctx.rewards(s);
             // prompts are encoded with special tokens (BOS), exactly as the SFT trainer and GRPO do
            Rollouts rollouts = new Rollouts(tok, ctx.template(s), rewards, o.maxPromptLength(), true,
                     o.accuracyReward(), o.formatReward(), o.correctThreshold())) {
            Evaluator.Options eo = new Evaluator.Options(o.numSamples(), o.temperature(), o.topK(), o.topP(), o.maxCompletionLength(),
                    o.maxExamples(), seed, o.reflectionWords() == null ? List.of() : o.reflectionWords());
            // with a cluster: the same samples and scores, computed on the executors
            Evaluator.Result r = ctx.cluster().enabled()
                    ? ClusterEval.run(ctx, s, inputModel, rollouts, data, eo, o.maxPromptLength(), o.accuracyReward(), o.formatReward(),
                            o.correctThreshold())
                    : Evaluator.run(new Generator(ctx.onModelDevice(CausalLM.load(inputModel)), tok), rollouts, data, eo);
            Map<String, Object> out = summary(r.metrics());
            ctx.dir().writeJson(ctx.dir().evalFile(s.name()), out);
            LOG.info("eval {}: accuracy {} format_rate {} mean_length {} (n={})", s.name(), out.get("accuracy"),
                    out.get("format_rate"), out.get("mean_length"), out.get("n"));
        }
        return null;
    }

    /** The eval file's content: the contract keys first, then every metric the evaluator reported. */
    public static Map<String, Object> summary(Map<String, Double> metrics) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accuracy", metrics.get("accuracy"));
        out.put("format_rate", metrics.get("format_rate"));
        out.put("mean_length", metrics.get("completions/mean_length"));
        out.put("n", metrics.get("num_examples") == null ? null : metrics.get("num_examples").intValue());
        metrics.forEach((k, v) -> out.putIfAbsent(k, v == null || v.isNaN() ? null : v));
        return out;
    }
}
