package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Dataset;
import io.r1kit.grpo.sft.SftConfig;
import io.r1kit.grpo.sft.SftTrainer;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * {@code type: sft} and {@code type: pretrain}: the SFT trainer on a data set. Pretraining is SFT
 * with {@code completion_only_loss: false} on raw documents (a {@code text} column), starting from
 * the pretraining defaults. Options are {@link SftConfig}'s (TRL SFTConfig names).
 */
public final class SftStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(SftStage.class);

    private final boolean pretrain;

    public SftStage(boolean pretrain) {
        this.pretrain = pretrain;
    }

    SftConfig config(RunContext ctx, StageSpec s) {
        SftConfig c = ctx.loaded().bindAt(s.pointer(), s.options(), SftConfig.class);
        if (pretrain) {
            // pretraining: every token is a target, documents are packed
            Map<String, Object> forced = new java.util.HashMap<>();
            if (c.completionOnlyLoss()) forced.put("completion_only_loss", false);
            if (!s.options().has("packing")) forced.put("packing", true);
            if (!forced.isEmpty()) c = c.with(forced);
        }
        if (!s.options().has("seed")) c = c.with(Map.of("seed", ctx.config().seed()));
        return c;
    }

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        config(ctx, s);
        if (s.data() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": " + s.type().yamlName() + " stage '" + s.name()
                    + "' needs 'data' (a data set name)");
        }
    }


    /** The stage's last log line; the eval loss only when there was an eval set (or an eval_fraction split). */
    static String finishedLine(String stage, SftTrainer.Result r) {
        return String.format(Locale.ROOT, "%s finished: %d steps, train loss %.4f%s, %.0f tokens/s", stage, r.steps(), r.trainLoss(),
                Double.isFinite(r.evalLoss()) ? String.format(Locale.ROOT, ", eval loss %.4f", r.evalLoss()) : "", r.tokensPerSecond());
    }

    /**
     * {@code eval/<stage>.json} of an SFT or pretraining stage: its held-out loss (the eval set,
     * or the {@code eval_fraction} split) and perplexity, null without one; the final train loss,
     * steps and tokens. Accuracy of an SFT'd model is what a following eval stage measures.
     */
    static Map<String, Object> summary(SftTrainer.Result r) {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        boolean held = Double.isFinite(r.evalLoss());
        out.put("eval_loss", held ? r.evalLoss() : null);
        out.put("eval_perplexity", held ? Math.exp(r.evalLoss()) : null);
        out.put("train_loss", r.trainLoss());
        out.put("steps", r.steps());
        out.put("num_tokens", r.numTokens());
        out.put("tokens_per_second", r.tokensPerSecond());
        return out;
    }

    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        SftConfig c = config(ctx, s);
        Dataset train = ctx.data().get(s.data());
        Dataset eval = s.evalData() == null ? null : ctx.data().get(s.evalData());
        CausalLM model = ctx.onModelDevice(CausalLM.load(inputModel));
        if (s.lora() != null) model.attachLora(s.lora().toConfig(), c.seed());   // the starting model frozen, adapters trained
        try (Tokenizer tok = ctx.tokenizer(inputModel)) {
            SftTrainer.Result r = StageOutputs.sft(SftTrainer.builder(model, tok, c), ctx, s)
                    .log(LOG::info).build().train(train, eval);
            if (r.halted()) throw new IllegalStateException(s.name() + ": training halted (see run.log)");
            LOG.info(finishedLine(s.name(), r));
            ctx.dir().writeJson(ctx.dir().evalFile(s.name()), summary(r));
            return r.modelDir();
        }
    }
}
