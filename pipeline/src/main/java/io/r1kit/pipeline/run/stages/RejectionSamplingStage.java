package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.config.Doc;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.grpo.rejection.RejectionConfig;
import io.r1kit.grpo.rejection.RejectionSampler;
import io.r1kit.grpo.rejection.SftMix;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.grpo.sft.SftConfig;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.RunDirectory;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code type: rejection_sampling} (DeepSeek-R1 stage 3): from the current checkpoint ({@code source},
 * default the previous stage's model) sample N completions per prompt of {@code data}, keep the
 * correct ones (rule rewards, or a generative judge model), apply R1's filters (mixed language, long
 * paragraphs, stray code blocks, truncation), deduplicate and cap per prompt, streaming JSONL with
 * provenance to {@code stages/<stage>/rejection/} ({@code accepted.jsonl}, {@code rejected.jsonl} with
 * reasons, {@code stats.json}); mix with non-reasoning data ({@code non_reasoning_data}: a data set
 * with prompt/completion or two-turn messages, or {@code non_reasoning_prompts}: prompts the model
 * answers itself without a chain of thought) at {@code reasoning_samples} + {@code non_reasoning_samples},
 * then SFT the stage's {@code model} — in R1 the <b>base</b> model ({@code model: {from_stage: pretrain}})
 * — for 2 epochs by default. A killed stage resumes: sampling continues after the last finished
 * prompt without duplicates, the mix is rebuilt identically, SFT resumes from its checkpoint.
 */
public final class RejectionSamplingStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(RejectionSamplingStage.class);
    static final String MIX = "sft_mix.jsonl", NON_REASONING = "non_reasoning.jsonl";

    public record Options(
            @Doc(value = "checkpoint sampled (also answers `non_reasoning_prompts`).", unset = "the previous stage's model")
            RunConfig.ModelSpec source,
            @Doc(value = "instead of sampling a checkpoint: take the candidates from this column of `data`.", unset = "none: sample `source`")
            String candidatesColumn,
            @Doc(value = "sampling, judge and filter options.", unset = "see [sampling](#sampling)")
            RejectionConfig sampling,
            @Doc(value = "the generative judge's checkpoint (required with `sampling.judge: generative`).", unset = "none")
            RunConfig.ModelSpec judgeModel,
            @Doc("prompts of `data` used (0 = all).")
            Integer maxPrompts,
            @Doc("prompt tokens kept at most when sampling.")
            Integer maxPromptLength,
            @Doc(value = "data set of non-reasoning examples (prompt/completion or two-turn `messages`, e.g. the `nonreasoning` generator).", unset = "none")
            String nonReasoningData,
            @Doc(value = "data set of prompts the model answers itself without a chain of thought (greedy; the summary after the reasoning block is kept). Excludes `non_reasoning_data`.", unset = "none")
            String nonReasoningPrompts,
            @Doc("tokens per model-written non-reasoning answer.")
            Integer nonReasoningMaxNewTokens,
            @Doc("reasoning samples in the SFT mix (−1 = all accepted; R1: 600000; fewer available: all are taken, and the log says so).")
            Integer reasoningSamples,
            @Doc("non-reasoning samples in the SFT mix (−1 = all; R1: 200000; > 0 needs non-reasoning data).")
            Integer nonReasoningSamples,
            @Doc(value = "seed of the mix's subsets and shuffle.", unset = "the run's seed")
            Long mixSeed,
            @Doc(value = "SFT options of the base model's fine-tuning (see [sft](#sft)).", unset = "`num_train_epochs: 2` (as R1), otherwise the SFT defaults")
            SftConfig sft,
            @Doc("the final eval on `eval_data`.")
            StageEval.Options eval) {
        public Options {
            if (maxPrompts == null) maxPrompts = 0;
            if (maxPromptLength == null) maxPromptLength = 512;
            if (nonReasoningMaxNewTokens == null) nonReasoningMaxNewTokens = 256;
            if (reasoningSamples == null) reasoningSamples = -1;
            if (nonReasoningSamples == null) nonReasoningSamples = -1;
            if (eval == null) eval = StageEval.Options.defaults();
            if (maxPrompts < 0) throw new IllegalArgumentException("max_prompts must be ≥ 0 (0 = all), got " + maxPrompts);
            if (nonReasoningData != null && nonReasoningPrompts != null) {
                throw new IllegalArgumentException("give one of non_reasoning_data (a data set) and non_reasoning_prompts (the model answers them), not both");
            }
            if (reasoningSamples < -1) throw new IllegalArgumentException("reasoning_samples must be ≥ 0, or −1 for all, got " + reasoningSamples);
            if (nonReasoningSamples < -1) throw new IllegalArgumentException("non_reasoning_samples must be ≥ 0, or −1 for all, got " + nonReasoningSamples);
            if (nonReasoningMaxNewTokens < 1) throw new IllegalArgumentException("non_reasoning_max_new_tokens must be ≥ 1");
        }
    }

    static final Map<String, Object> SFT_DEFAULTS = Map.of("num_train_epochs", 2);

    Options options(RunContext ctx, StageSpec s) {
        return ctx.loaded().bindAt(s.pointer(), s.options(), Options.class);
    }

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        Options o = options(ctx, s);
        SampleAndTrain.requireData(ctx, s, "the reasoning prompts to sample, with their answers");
        SampleAndTrain.requireDataSet(ctx, s, "non_reasoning_data", o.nonReasoningData());
        SampleAndTrain.requireDataSet(ctx, s, "non_reasoning_prompts", o.nonReasoningPrompts());
        SampleAndTrain.checkSource(ctx, s, o.source(), o.candidatesColumn());
        ctx.checkModelOption(s, "judge_model", o.judgeModel());
        RejectionConfig rc = SampleAndTrain.samplingConfig(s, o.sampling(), Map.of());
        if (rc.judge() == RejectionConfig.JudgeKind.GENERATIVE && o.judgeModel() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/sampling/judge") + ": judge: generative needs 'judge_model' "
                    + "on the stage (a path, or {from_stage: X})");
        }
        if (o.nonReasoningSamples() > 0 && o.nonReasoningData() == null && o.nonReasoningPrompts() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/non_reasoning_samples") + ": non_reasoning_samples is "
                    + o.nonReasoningSamples() + " but there is no non-reasoning data: set non_reasoning_data or non_reasoning_prompts");
        }
        SampleAndTrain.sftConfig(ctx, s, o.sft(), SFT_DEFAULTS);
        ctx.rewards(s).close();
    }


    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        Options o = options(ctx, s);
        RejectionConfig rc = SampleAndTrain.samplingConfig(s, o.sampling(), Map.of());
        // the checkpoint sampled (also the one that answers non_reasoning_prompts)
        Path source = o.candidatesColumn() != null && o.nonReasoningPrompts() == null ? null : ctx.modelOption(s, "source", o.source());
        Path judge = o.judgeModel() == null ? null : ctx.modelOption(s, "judge_model", o.judgeModel());
        LOG.info("{}: rejection sampling from {}, SFT of {}", s.name(), source, inputModel);
        RejectionSampler.Stats st = SampleAndTrain.sample(ctx, s, source, judge, SampleAndTrain.prompts(ctx, s, o.maxPrompts()), rc,
                o.maxPromptLength(), null, o.candidatesColumn());
        Path dir = SampleAndTrain.samplesDir(ctx, s);
        Path nonReasoning = nonReasoning(ctx, s, o, source, dir);
        long seed = o.mixSeed() != null ? o.mixSeed() : ctx.config().seed();
        SftMix.Result mix = SftMix.mix(dir.resolve(RejectionSampler.ACCEPTED), nonReasoning,
                new SftMix.Config(o.reasoningSamples(), o.nonReasoningSamples(), seed), dir.resolve(MIX));
        if (mix.reasoning() < o.reasoningSamples()) {
            LOG.warn("{}: reasoning_samples {} asked, {} accepted: all taken", s.name(), o.reasoningSamples(), mix.reasoningAvailable());
        }
        if (mix.nonReasoning() < o.nonReasoningSamples()) {
            LOG.warn("{}: non_reasoning_samples {} asked, {} available: all taken", s.name(), o.nonReasoningSamples(), mix.nonReasoningAvailable());
        }
        LOG.info("{}: SFT mix of {} reasoning + {} non-reasoning samples", s.name(), mix.reasoning(), mix.nonReasoning());
        Path model = SampleAndTrain.sft(ctx, s, inputModel, dir.resolve(MIX), SampleAndTrain.sftConfig(ctx, s, o.sft(), SFT_DEFAULTS));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("samples/accepted", st.accepted());
        extra.put("samples/rejected", st.rejected());
        extra.put("samples/acceptance_rate", st.samples() == 0 ? 0.0 : (double) st.accepted() / st.samples());
        st.reasons().forEach((k, v) -> extra.put("samples/rejected/" + k, v));
        extra.put("mix/reasoning", mix.reasoning());
        extra.put("mix/non_reasoning", mix.nonReasoning());
        SampleAndTrain.evalAndWrite(ctx, s, model, o.eval(), extra);
        return model;
    }

    /** The non-reasoning JSONL (written once into the stage's directory, reused on resume), or null. */
    private static Path nonReasoning(RunContext ctx, StageSpec s, Options o, Path source, Path dir) throws Exception {
        Path out = dir.resolve(NON_REASONING);
        if (o.nonReasoningData() != null) {
            // the data set's lines as they are (prompt/completion or messages); SftMix converts them
            ObjectMapper json = new ObjectMapper();
            StringBuilder sb = new StringBuilder();
            for (Example e : ctx.data().get(o.nonReasoningData())) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", e.id());
                m.putAll(e.columns());
                sb.append(json.writeValueAsString(m)).append('\n');
            }
            RunDirectory.writeAtomically(out, sb.toString());
            return out;
        }
        if (o.nonReasoningPrompts() == null) return null;
        if (Files.exists(out)) return out;   // written atomically by an earlier (interrupted) run
        Dataset prompts = ctx.data().get(o.nonReasoningPrompts());
        int n = o.nonReasoningSamples() >= 0 ? Math.min(o.nonReasoningSamples(), prompts.size()) : prompts.size();
        CausalLM model = ctx.onModelDevice(CausalLM.load(source));
        try (Tokenizer tok = ctx.tokenizer(source); CompositeReward rewards = ctx.rewards(s);
             Rollouts ro = new Rollouts(tok, ctx.template(s), rewards, o.maxPromptLength(), true, null, null, 1.0)) {
            Path tmp = dir.resolve(NON_REASONING + ".tmp");
            int written = SftMix.generateNonReasoning(ro, new Generator(model, tok), SamplingParams.greedy(o.nonReasoningMaxNewTokens()),
                    List.copyOf(prompts.examples().subList(0, n)), "prompt", tmp);
            Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LOG.info("{}: the model answered {} of {} non-reasoning prompts (summaries kept)", s.name(), written, n);
        }
        return out;
    }
}
