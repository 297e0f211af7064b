package io.r1kit.grpo.sft;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.gen.GeneratorParams;
import io.r1kit.data.gen.Generators;
import io.r1kit.data.gen.PretrainCorpusGenerator;
import io.r1kit.data.gen.TaskGenerator;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.tokenizer.CharTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The quickstart's "base model": a tiny character-level Llama pretrained from scratch on the toy
 * universe's {@code pretrain-corpus}, so that it writes {@code <think> … </think> <answer> … </answer>}
 * some of the time and is right some of the time: the starting point of R1-Zero.
 *
 * <pre>
 *   ToyBaseModel.Recipe r = ToyBaseModel.Recipe.quickstart();
 *   ToyBaseModel.Built b = ToyBaseModel.pretrain(r, runDir);   // b.model(), b.tokenizer(), runDir/model
 * </pre>
 */
public final class ToyBaseModel {
    private ToyBaseModel() {}

    /**
     * Size and training budget.
     *
     * @param hidden     model width
     * @param layers     decoder blocks
     * @param heads      attention heads (no GQA at this size)
     * @param ffn        SwiGLU width
     * @param context    max_position_embeddings and max_seq_length (the toy template fits in 256)
     * @param documents  pretrain-corpus documents generated
     * @param corpusSeed generator seed of the corpus
     * @param modelSeed  init seed
     * @param sft        the trainer config (completion_only_loss is forced off)
     * @param corpusParams extra pretrain-corpus params (e.g. format_rate)
     */
    public record Recipe(int hidden, int layers, int heads, int ffn, int context, int documents, long corpusSeed, long modelSeed,
                         SftConfig sft, Map<String, String> corpusParams) {

        /**
         * The recommended quickstart base model (measured 2026-11-22, see readme-sft.md): a 0.46M-parameter
         * Llama (width 96, 4 layers, 4 heads, SwiGLU 256, tied embeddings, context 256) trained for one
         * epoch on 90k pretrain-corpus documents (5.1M tokens, ~2.6k steps of ~2k tokens) at lr 4e-3,
         * cosine to 10% after 3% warm-up. Measured on 200 held-out arithmetic problems: R1-Zero format
         * 100% greedily / 45% at T=1, correct 68% greedily / 28% per sample at T=1. With 60k documents
         * (3.4M tokens) the model sits right where arithmetic "clicks" and two runs gave 15% and 29.5%
         * greedy accuracy (5–11% at T=1): use {@link #withDocuments} to trade quality for time.
         * 1% of the documents are held out for eval/loss.
         */
        public static Recipe quickstart() {
            return new Recipe(96, 4, 4, 256, 256, 90_000, 1, 0,
                    SftConfig.pretraining().with(Map.of("max_seq_length", 256, "batch_size", 8, "num_train_epochs", 1,
                            "learning_rate", 4e-3, "warmup_ratio", 0.03, "save_steps", 500, "logging_steps", 20,
                            "eval_fraction", 0.01)),
                    Map.of());
        }

        public Recipe withSft(SftConfig c) {
            return new Recipe(hidden, layers, heads, ffn, context, documents, corpusSeed, modelSeed, c, corpusParams);
        }

        public Recipe withSize(int hidden, int layers, int heads, int ffn) {
            return new Recipe(hidden, layers, heads, ffn, context, documents, corpusSeed, modelSeed, sft, corpusParams);
        }

        public Recipe withDocuments(int n) {
            return new Recipe(hidden, layers, heads, ffn, context, n, corpusSeed, modelSeed, sft, corpusParams);
        }
    }

    /** The pretrained model, its tokenizer and what training reported. */
    public record Built(CausalLM model, CharTokenizer tokenizer, SftTrainer.Result result) {}

    /** The pretrain-corpus documents ({@code text} column) of a recipe. */
    public static Dataset corpus(Recipe r) {
        TaskGenerator g = Generators.create(PretrainCorpusGenerator.NAME, r.corpusSeed(), new GeneratorParams(r.corpusParams()));
        List<Example> docs = new ArrayList<>(r.documents());
        for (int i = 0; i < r.documents(); i++) docs.add(g.example(i));
        return new Dataset(docs);
    }

    /**
     * A character tokenizer for the toy universe: the reasoning tags as single tokens, then every
     * character of {@code texts}, printable ASCII and the Russian alphabet (so that later stages, e.g.
     * the bilingual data, never meet an unknown character).
     */
    public static CharTokenizer tokenizer(Iterable<String> texts) {
        List<String> all = new ArrayList<>();
        for (String t : texts) all.add(t);
        StringBuilder base = new StringBuilder("\n");
        for (char c = 32; c < 127; c++) base.append(c);
        for (char c = 'а'; c <= 'я'; c++) base.append(c);
        for (char c = 'А'; c <= 'Я'; c++) base.append(c);
        base.append("ёЁ");
        all.add(base.toString());
        return CharTokenizer.fromCorpus(all, CharTokenizer.REASONING_TAGS);
    }

    /** A freshly initialised model of the recipe's size (Llama layout, tied embeddings). */
    public static CausalLM initModel(Recipe r, int vocab) {
        ModelConfig c = ModelConfig.llama(vocab, r.hidden(), r.ffn(), r.layers(), r.heads(), r.heads())
                .withRope(10000.0, RopeTables.Scaling.none(), r.context())
                .withTieEmbeddings(true);
        return CausalLM.random(c, r.modelSeed());
    }

    /** Generates the corpus, builds the tokenizer and model, pretrains; writes into {@code outputDir} when not null. */
    public static Built pretrain(Recipe r, Path outputDir) {
        Dataset docs = corpus(r);
        List<String> texts = new ArrayList<>();
        for (Example e : docs) texts.add(e.getString("text"));
        CharTokenizer tok = tokenizer(texts);
        CausalLM model = initModel(r, tok.vocabSize());
        SftConfig c = r.sft().with(Map.of("max_seq_length", Math.min(r.sft().maxSeqLength(), r.context())));
        SftTrainer.Result res = PretrainTrainer.run(model, tok, c, docs, null, outputDir);
        return new Built(model, tok, res);
    }
}
