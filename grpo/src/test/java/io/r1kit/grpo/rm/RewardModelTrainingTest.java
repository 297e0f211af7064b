package io.r1kit.grpo.rm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.gen.GeneratorParams;
import io.r1kit.data.gen.Generators;
import io.r1kit.data.gen.TaskGenerator;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.tokenizer.CharTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny reward model (width 32, 2 layers, char vocab, from scratch) trained on the toy
 * {@code preferences} pairs must rank held-out pairs far above chance.
 */
class RewardModelTrainingTest {

    static List<Example> pairs(long seed, int from, int n) {
        TaskGenerator g = Generators.create("preferences", seed, GeneratorParams.empty());
        List<Example> out = new ArrayList<>();
        for (int i = from; i < from + n; i++) out.add(g.example(i));
        return out;
    }

    @Test
    void tinyRewardModelLearnsTheToyPreferences(@TempDir Path tmp) throws Exception {
        List<Example> train = pairs(11, 0, 800), eval = pairs(11, 5000, 200);
        List<String> texts = new ArrayList<>();
        for (Example e : train) texts.add(e.getString("prompt") + e.getString("chosen") + e.getString("rejected"));
        for (Example e : eval) texts.add(e.getString("prompt") + e.getString("chosen") + e.getString("rejected"));
        CharTokenizer tok = CharTokenizer.fromCorpus(texts, List.of());
        ModelConfig c = ModelConfig.llama(tok.vocabSize(), 32, 64, 2, 4, 4).withRope(10000.0, RopeTables.Scaling.none(), 256);
        RewardModelConfig cfg = RewardModelConfig.of(Map.of("learning_rate", 3e-3, "batch_size", 16, "num_train_epochs", 1,
                "template", "toy", "max_length", 192, "warmup_ratio", 0.05, "logging_steps", 20));
        RewardModel rm = RewardModel.fromPolicy(CausalLM.random(c, 7), cfg.encoding(), 8);
        RewardModelTrainer trainer = RewardModelTrainer.builder(rm, tok, cfg).outputDir(tmp).log(System.out::println).build();

        double before = trainer.evaluate(trainer.encode(new Dataset(eval))).accuracy();
        long t0 = System.nanoTime();
        RewardModelTrainer.Result r = trainer.train(new Dataset(train), new Dataset(eval));
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("reward model: held-out pairwise accuracy %.3f (before training %.3f), eval loss %.3f, %d steps in %.1f s%n",
                r.eval().accuracy(), before, r.eval().loss(), r.steps(), secs);

        assertEquals(50, r.steps());
        assertTrue(r.eval().accuracy() >= 0.8, "held-out pairwise accuracy " + r.eval().accuracy() + " (before training " + before + ")");
        assertTrue(r.eval().loss() < Math.log(2), "eval loss " + r.eval().loss() + " not below chance log 2");
        // the stored model reproduces the held-out scores and carries their mean/std
        RewardModel back = RewardModel.load(r.modelDir());
        assertEquals(r.eval().scoreMean(), back.scoreMean(), 1e-12);
        List<int[]> rows = new ArrayList<>();
        for (RewardModelTrainer.Pair p : trainer.encode(new Dataset(eval.subList(0, 8)))) rows.add(p.chosen());
        float[] s = back.score(rows, 8);
        for (int i = 0; i < 8; i++) assertEquals(r.eval().chosen()[i], s[i], 1e-4);
        var lines = MetricsLog.read(tmp.resolve(RewardModelTrainer.METRICS_FILE));
        assertTrue(lines.get(lines.size() - 1).has("eval/accuracy"));
    }
}
