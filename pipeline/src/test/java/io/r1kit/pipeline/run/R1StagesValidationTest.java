package io.r1kit.pipeline.run;

import io.r1kit.pipeline.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.r1kit.pipeline.run.R1StagesRunTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad options of the R1 stages stop `validate` (and `run`) before any work, naming the place and the fix. */
class R1StagesValidationTest {

    private static Cli.Result validate(Path tmp, String config) throws Exception {
        Path cfg = tmp.resolve("r1.yaml");
        Files.writeString(cfg, config);
        return cli("validate", cfg.toString());
    }

    private static void fails(Path tmp, String config, String... expected) throws Exception {
        Cli.Result r = validate(tmp, config);
        assertEquals(2, r.exit(), "should fail: " + r.out() + r.err());
        for (String e : expected) assertTrue(r.err().contains(e), "'" + e + "' not in: " + r.err());
    }

    private static final String OK = R1StagesRunTest.CONFIG;

    @Test
    void theTestConfigIsValid(@TempDir Path tmp) throws Exception {
        Cli.Result r = validate(tmp, OK);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("cold_start [cold_start]") && r.out().contains("distill [distill]"), r.out());
    }

    @Test
    void unknownNestedKeysAreLocatedWithSuggestions(@TempDir Path tmp) throws Exception {
        fails(tmp, OK.replace("sampling: {samples_per_prompt: 2", "sampling: {samples_per_promt: 2"),
                "r1.yaml:", "samples_per_promt", "Did you mean 'samples_per_prompt'?");
        fails(tmp, OK.replace("candidates_column: completion", "candidate_column: completion"),
                "r1.yaml:", "candidate_column", "Did you mean 'candidates_column'?");
        fails(tmp, OK.replace("summary_template:", "summary_templat:"), "summary_templat");
        fails(tmp, OK.replace("max_length: 128", "max_lenght: 128"), "max_lenght", "Did you mean 'max_length'?");
        fails(tmp, OK.replace("sft: {max_steps: 2, batch_size: 4, logging_steps: 1}", "sft: {max_step: 2}"), "max_step");
    }

    @Test
    void namesThatWouldLeaveTheRunDirectoryAreRefused(@TempDir Path tmp) throws Exception {
        // stage names become directory names (checkpoints/<stage>, samples/<stage>, eval/<stage>.json)
        fails(tmp, OK.replace("{name: pretrain, type: pretrain", "{name: '..', type: pretrain"), "stage name '..'", "not dots alone");
        fails(tmp, OK.replace("{name: pretrain, type: pretrain", "{name: ../x, type: pretrain"), "stage name '../x'");
        fails(tmp, OK.replaceFirst("(?m)^name: .*$", "name: .."), "'name' may use letters", "not dots alone");
    }

    @Test
    void badValuesNameTheKey(@TempDir Path tmp) throws Exception {
        fails(tmp, OK.replace("judge: none, language_threshold: 0, drop_truncated: false, prompt_batch_size: 4",
                "judge: oracle, language_threshold: 0, drop_truncated: false, prompt_batch_size: 4"), "judge", "oracle");
        fails(tmp, OK.replace("reasoning_samples: 20", "reasoning_samples: -5"), "reasoning_samples must be ≥ 0");
        fails(tmp, OK.replace("summary_template: \" <answer>{summary}</answer>\"", "summary_template: \"<answer></answer>\""),
                "summary_template must contain {summary}");
        fails(tmp, OK.replace("eval: {max_completion_length: 6}\n  - name: rm", "eval: {mixing_threshold: 2}\n  - name: rm"),
                "mixing_threshold must be in [0, 1]");
        fails(tmp, OK.replace("eval: {max_completion_length: 6}\n  - name: rm", "eval: {num_samples: 3}\n  - name: rm"),
                "eval.num_samples = 3 needs a temperature > 0");
    }

    @Test
    void stageLevelRulesAreChecked(@TempDir Path tmp) throws Exception {
        // a distillation needs its student
        fails(tmp, OK.replace("    model: {scratch: {hidden_size: 16, intermediate_size: 32, num_layers: 1, num_heads: 2, max_positions: 320}}\n", ""),
                "distill stage 'distill' needs 'model': the student");
        // the generative judge needs a judge model
        fails(tmp, OK.replace("judge: none, language_threshold: 0, drop_truncated: false, prompt_batch_size: 4",
                "judge: generative, language_threshold: 0, drop_truncated: false, prompt_batch_size: 4"), "judge: generative needs 'judge_model'");
        // non-reasoning samples without non-reasoning data
        fails(tmp, OK.replace("    non_reasoning_data: general\n", ""), "non_reasoning_samples is 6 but there is no non-reasoning data");
        fails(tmp, OK.replace("non_reasoning_data: general", "non_reasoning_data: generl"), "data set 'generl' is not defined");
        fails(tmp, OK.replace("non_reasoning_data: general", "non_reasoning_data: general\n    non_reasoning_prompts: general"),
                "not both");
        // a sampled source and written candidates exclude each other
        fails(tmp, OK.replace("candidates_column: completion", "candidates_column: completion\n    source: {from_stage: pretrain}"),
                "give 'source'");
        fails(tmp, OK.replace("teacher: {from_stage: cold_start}", "teacher: {from_stage: nowhere}"), "from_stage 'nowhere' is not an earlier stage");
        fails(tmp, OK.replace("candidates_column: completion", "long_cot: missing.jsonl"), "long_cot file", "does not exist");
        // the SFT of a sampling stage uses the stage's template
        fails(tmp, OK.replace("sft: {max_steps: 2, batch_size: 4, max_seq_length: 320, logging_steps: 1}\n    eval: {max_completion_length: 6}\n  - name: rejection",
                "sft: {max_steps: 2, template: plain}\n    eval: {max_completion_length: 6}\n  - name: rejection"), "uses the stage's template");
        // a reward model stage needs its preference data
        fails(tmp, OK.replace("    data: prefs\n", ""), "reward_model stage 'rm' needs 'data'");
    }

    @Test
    void rewardRoutingAndTheRewardModelReferenceAreChecked(@TempDir Path tmp) throws Exception {
        fails(tmp, OK.replace("params: {from_stage: rm, scope: summary}", "params: {from_stage: pretrain, scope: summary}"),
                "from_stage 'pretrain' is a 'pretrain' stage; it must be a reward_model stage");
        fails(tmp, OK.replace("params: {from_stage: rm, scope: summary}", "params: {from_stage: rmx, scope: summary}"),
                "from_stage 'rmx' is not a stage of this run");
        fails(tmp, OK.replace("params: {from_stage: rm, scope: summary}", "params: {from_stage: rm, path: x, scope: summary}"),
                "both 'path' and 'from_stage'");
        fails(tmp, OK.replace("sources: [general]}\n      - {name: reward_model, label: harmlessness",
                "sources: {a: 1}}\n      - {name: reward_model, label: harmlessness"), "'sources' must be");
        // a reward model used before it is trained
        String moved = OK.replace("  - name: rejection\n",
                "  - name: early\n    type: grpo\n    data: train\n    rewards: [{name: reward_model, params: {from_stage: rm}}]\n  - name: rejection\n");
        fails(tmp, moved, "from_stage 'rm' must come before stage 'early'");
    }

    @Test
    void mixDataSetsAreChecked(@TempDir Path tmp) throws Exception {
        fails(tmp, OK.replace("{data: general, source: general, n: 8}], seed: 6}", "{data: genral, source: general, n: 8}], seed: 6}"),
                "mix of 'allscen' uses data set 'genral'");
        fails(tmp, OK.replace("{data: general, source: general, n: 8}], seed: 6}", "{data: allscen}], seed: 6}"), "includes itself");
        fails(tmp, OK.replace("allscen: {mix: [{data: train, source: reasoning, n: 8}", "allscen: {mix: [{dta: train, source: reasoning, n: 8}"),
                "r1.yaml:", "mix entries need 'data'");
        assertFalse(validate(tmp, OK.replace("mix: [{data: test, source: reasoning}", "mix: []")).exit() == 0);
    }
}
