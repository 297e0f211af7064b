package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.rejection.ColdStartFormat;
import io.r1kit.grpo.rejection.RejectionConfig;
import io.r1kit.grpo.rejection.RejectionSampler;
import io.r1kit.grpo.rejection.SftMix;
import io.r1kit.grpo.sft.SftConfig;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code type: cold_start} (DeepSeek-R1 stage 1): sample from the R1-Zero checkpoint ({@code source},
 * default the previous stage's model), keep completions that are correct, well formatted, in one
 * language and readable (the rejection sampler with {@code require_format: true}), rewrite them into
 * R1's readable format ({@code format}: {@code |special_token|<reasoning>|special_token|<summary>} by
 * default), optionally append a user's long-CoT JSONL ({@code long_cot}), then SFT the stage's
 * {@code model} — in R1 the <b>base</b> model: {@code model: {from_stage: pretrain}}.
 */
public final class ColdStartStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ColdStartStage.class);

    public record Options(
            @Doc(value = "checkpoint sampled (`{from_stage: r1_zero}`, a path).", unset = "the previous stage's model")
            RunConfig.ModelSpec source,
            @Doc(value = "instead of sampling a checkpoint: take the candidates from this column of `data` (a completion or a list of them, e.g. written by a bigger model). Excludes `source`.", unset = "none: sample `source`")
            String candidatesColumn,
            @Doc(value = "sampling, judge and filter options.", unset = "see [sampling](#sampling), with `require_format: true`")
            RejectionConfig sampling,
            @Doc("the readable output format.")
            ColdStartFormat format,
            @Doc(value = "a JSONL of user long-CoT examples (prompt/completion or two-turn messages) appended as is.", unset = "none")
            String longCot,
            @Doc("prompts of `data` used (0 = all).")
            Integer maxPrompts,
            @Doc("prompt tokens kept at most when sampling.")
            Integer maxPromptLength,
            @Doc(value = "SFT options of the base model's fine-tuning (see [sft](#sft); `template` is refused: the stage's is used).", unset = "the SFT defaults")
            SftConfig sft,
            @Doc("the final eval on `eval_data`.")
            StageEval.Options eval) {
        public Options {
            if (maxPrompts == null) maxPrompts = 0;
            if (maxPromptLength == null) maxPromptLength = 512;
            if (format == null) format = ColdStartFormat.defaults();
            if (eval == null) eval = StageEval.Options.defaults();
            if (maxPrompts < 0) throw new IllegalArgumentException("max_prompts must be ≥ 0 (0 = all), got " + maxPrompts);
        }
    }

    Options options(RunContext ctx, StageSpec s) {
        return ctx.loaded().bindAt(s.pointer(), s.options(), Options.class);
    }

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        Options o = options(ctx, s);
        SampleAndTrain.requireData(ctx, s, "the prompts to sample, with their answers");
        SampleAndTrain.checkSource(ctx, s, o.source(), o.candidatesColumn());
        SampleAndTrain.samplingConfig(s, o.sampling(), Map.of("require_format", true));
        SampleAndTrain.sftConfig(ctx, s, o.sft(), Map.of());
        if (o.longCot() != null && !Files.isRegularFile(ctx.resolve(o.longCot()))) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/long_cot") + ": long_cot file " + ctx.resolve(o.longCot()) + " does not exist");
        }
        ctx.rewards(s).close();
    }


    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        Options o = options(ctx, s);
        RejectionConfig rc = SampleAndTrain.samplingConfig(s, o.sampling(), Map.of("require_format", true));
        Path source = o.candidatesColumn() != null ? null : ctx.modelOption(s, "source", o.source());
        LOG.info("{}: cold-start data from {}, SFT of {}", s.name(), source != null ? source : "column " + o.candidatesColumn(), inputModel);
        RejectionSampler.Stats st = SampleAndTrain.sample(ctx, s, source, null, SampleAndTrain.prompts(ctx, s, o.maxPrompts()), rc,
                o.maxPromptLength(), o.format()::rewrite, o.candidatesColumn());
        Path samples = SampleAndTrain.samplesDir(ctx, s);
        Path train = samples.resolve(RejectionSampler.ACCEPTED);
        int user = 0;
        if (o.longCot() != null) {
            Path merged = samples.resolve("cold_start.jsonl");
            user = SftMix.concat(train, ctx.resolve(o.longCot()), "user_long_cot", merged);
            train = merged;
        }
        Path model = SampleAndTrain.sft(ctx, s, inputModel, train, SampleAndTrain.sftConfig(ctx, s, o.sft(), Map.of()));
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("samples/accepted", st.accepted());
        extra.put("samples/rejected", st.rejected());
        extra.put("samples/acceptance_rate", st.samples() == 0 ? 0.0 : (double) st.accepted() / st.samples());
        extra.put("samples/user_long_cot", user);
        SampleAndTrain.evalAndWrite(ctx, s, model, o.eval(), extra);
        return model;
    }
}
