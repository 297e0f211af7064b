#!/usr/bin/env bash
# Reproduces the tiny R1 pipeline's table (docs/benchmarks.md#the-tiny-r1-pipeline): runs
# configs/r1-pipeline-tiny.yaml in a fresh run directory (the result does not depend on the thread count), and writes one row per
# stage (seconds and every eval/<stage>.json value the docs quote) to results/tiny-pipeline.md.
# About 35 minutes of running on one thread, less on two. Extra arguments go to `bin/r1kit run`.
# --smoke runs a few-step form with tiny data sets to check the script itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN="runs/repro-tiny-pipeline"
EXTRA=()
if [ "${1:-}" = "--smoke" ]; then
  shift
  RUN="runs/repro-tiny-pipeline-smoke"
  EXTRA=(--set data.corpus_en.generate.n=300 --set data.corpus_ru.generate.n=100 --set data.corpus_bi.generate.n=100
         --set data.train.generate.n=60 --set data.cold_start_prompts.generate.n=8 --set data.test.generate.n=8
         --set data.general.generate.n=30 --set data.general_test.generate.n=4 --set data.prefs.generate.n=40
         --set 'data.allscen.mix=[{data: train, source: reasoning, n: 20}, {data: general, source: general, n: 10}]'
         --set stages.pretrain.max_steps=3
         --set stages.r1_zero.max_steps=2 --set stages.reasoning_rl.max_steps=2 --set stages.all_scenario.max_steps=2
         --set stages.student_rl.max_steps=2 --set stages.reasoning_rl_no_lang.max_steps=2
         --set stages.cold_start.sft.max_steps=2 --set stages.rejection_sampling.sft.max_steps=2
         --set stages.distill.sft.max_steps=2 --set stages.reward_model.max_steps=2
         --set stages.rejection_sampling.max_prompts=8 --set stages.distill.max_prompts=8
         # an untrained model's samples pass no judge: accept them all, so every stage has data to train on
         --set stages.cold_start.sampling.judge=none --set stages.cold_start.sampling.require_format=false
         --set stages.cold_start.sampling.language_threshold=0 --set stages.cold_start.sampling.drop_truncated=false
         --set stages.rejection_sampling.sampling.judge=none --set stages.rejection_sampling.sampling.language_threshold=0
         --set stages.rejection_sampling.sampling.drop_truncated=false
         --set stages.distill.sampling.judge=none --set stages.distill.sampling.language_threshold=0
         --set stages.distill.sampling.drop_truncated=false)
fi
rm -rf "$RUN"
mkdir -p results
start=$(date +%s)
bin/r1kit run configs/r1-pipeline-tiny.yaml --run-dir "$RUN" "${EXTRA[@]}" "$@"
end=$(date +%s)
out="results/$(basename "$RUN").md"
{
  echo "# Tiny R1 pipeline, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(bin/r1kit jvm); one compute thread."
  echo "Wall time: $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s."
  echo
  python3 scripts/tables.py stages "$RUN"
} > "$out"
cat "$out"
echo "wrote $out"
