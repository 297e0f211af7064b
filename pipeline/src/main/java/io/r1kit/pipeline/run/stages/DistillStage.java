package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.rejection.RejectionConfig;
import io.r1kit.grpo.rejection.RejectionSampler;
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
 * {@code type: distill} (DeepSeek-R1 §2.4): a {@code teacher} (default: the previous stage's model)
 * writes chains of thought for {@code data}'s prompts, filtered exactly like rejection sampling
 * (judge {@code rules} when the prompts have answers, {@code none} otherwise), and the stage's
 * {@code model} — the <b>student</b>: {@code {scratch: {...}}}, an HF {@code path}, or
 * {@code {from_stage: pretrain}} — is trained on them by SFT alone. {@code eval/<stage>.json} holds
 * the distilled student's eval and, under {@code before/}, the same eval of the untrained student.
 *
 * <p>The paper's distillation-vs-RL comparison is a second stage: a {@code grpo} stage with the same
 * student as {@code model:} and a step budget of about the same compute (see the README); the report's
 * table then shows both rows.
 */
public final class DistillStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(DistillStage.class);

    public record Options(
            @Doc(value = "checkpoint writing the chains of thought.", unset = "the previous stage's model")
            RunConfig.ModelSpec teacher,
            @Doc(value = "sampling, judge and filter options (`judge: none` for prompts without answers).", unset = "see [sampling](#sampling)")
            RejectionConfig sampling,
            @Doc("prompts of `data` used (0 = all).")
            Integer maxPrompts,
            @Doc("prompt tokens kept at most when sampling.")
            Integer maxPromptLength,
            @Doc(value = "SFT options of the student (see [sft](#sft)).", unset = "the SFT defaults")
            SftConfig sft,
            @Doc("also evaluate the untrained student (kept in `stages/<stage>/student_before.json`).")
            Boolean evalBefore,
            @Doc("the final eval on `eval_data`.")
            StageEval.Options eval) {
        public Options {
            if (maxPrompts == null) maxPrompts = 0;
            if (maxPromptLength == null) maxPromptLength = 512;
            if (evalBefore == null) evalBefore = true;
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
        SampleAndTrain.requireData(ctx, s, "the prompts the teacher answers");
        if (s.model() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": distill stage '" + s.name() + "' needs 'model': the student "
                    + "({scratch: {...}}, an HF path, or {from_stage: pretrain}); the teacher is 'teacher' (default: the previous stage's model)");
        }
        ctx.checkModelOption(s, "teacher", o.teacher());
        SampleAndTrain.samplingConfig(s, o.sampling(), Map.of());
        SampleAndTrain.sftConfig(ctx, s, o.sft(), Map.of());
        ctx.rewards(s).close();
    }


    @Override
    public Path run(RunContext ctx, StageSpec s, Path student) throws Exception {
        Options o = options(ctx, s);
        RejectionConfig rc = SampleAndTrain.samplingConfig(s, o.sampling(), Map.of());
        Path teacher = ctx.modelOption(s, "teacher", o.teacher());
        LOG.info("{}: teacher {} writes the data, student {} learns it by SFT", s.name(), teacher, student);
        Map<String, Object> before = new LinkedHashMap<>();
        Path beforeFile = ctx.dir().stageDir(s.name()).resolve("student_before.json");
        if (o.evalBefore() && s.evalData() != null) {
            if (Files.exists(beforeFile)) {
                before = new com.fasterxml.jackson.databind.ObjectMapper().readValue(beforeFile.toFile(), LinkedHashMap.class);
            } else {
                before = StageEval.run(ctx, s, student, ctx.data().get(s.evalData()), o.eval());
                ctx.dir().writeJson(beforeFile, before);
            }
        }
        RejectionSampler.Stats st = SampleAndTrain.sample(ctx, s, teacher, null, SampleAndTrain.prompts(ctx, s, o.maxPrompts()), rc,
                o.maxPromptLength(), null, null);
        Path train = SampleAndTrain.samplesDir(ctx, s).resolve(RejectionSampler.ACCEPTED);
        SampleAndTrain.Trained trained = SampleAndTrain.sftResult(ctx, s, student, train, SampleAndTrain.sftConfig(ctx, s, o.sft(), Map.of()));
        Path model = trained.modelDir();
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("model/params", trained.params());
        extra.put("train/tokens", trained.result().numTokens());
        extra.put("train/flops", TrainingFlops.sft(trained.params(), trained.result().numTokens()));
        extra.put("samples/accepted", st.accepted());
        extra.put("samples/rejected", st.rejected());
        for (String k : new String[] {"accuracy", "format_rate", "language_consistency", "mean_length"}) {
            if (before.containsKey(k)) extra.put("before/" + k, before.get(k));
        }
        extra.put("teacher", teacher.toString());
        extra.put("student_init", student.toString());
        SampleAndTrain.evalAndWrite(ctx, s, model, o.eval(), extra);
        return model;
    }
}
