package io.r1kit.grpo.sft;

import io.r1kit.data.Dataset;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Map;

/**
 * Causal-LM pretraining on raw documents (a {@code text} column): the {@link SftTrainer} with
 * {@code completion_only_loss=false}, so every token but each document's first is a loss target,
 * and documents packed into {@code max_seq_length} sequences. Starts from
 * {@link SftConfig#pretraining()} defaults unless a config is given.
 *
 * <pre>
 *   SftTrainer.Result r = PretrainTrainer.run(model, tokenizer, SftConfig.pretraining().with(Map.of("max_steps", 600)),
 *           corpus, null, runDir);
 * </pre>
 */
public final class PretrainTrainer {
    private PretrainTrainer() {}

    /** A trainer builder for pretraining: {@code completion_only_loss} forced off, stage "pretrain". */
    public static SftTrainer.Builder builder(CausalLM model, Tokenizer tokenizer, SftConfig config) {
        SftConfig c = config.completionOnlyLoss() ? config.with(Map.of("completion_only_loss", false)) : config;
        return SftTrainer.builder(model, tokenizer, c).stage("pretrain");
    }

    /** Pretrains {@code model} in place on {@code documents} (eval set may be null); writes into {@code outputDir} when not null. */
    public static SftTrainer.Result run(CausalLM model, Tokenizer tokenizer, SftConfig config, Dataset documents, Dataset eval,
                                        Path outputDir) {
        return builder(model, tokenizer, config).outputDir(outputDir).build().train(documents, eval);
    }
}
