#!/usr/bin/env bash
# Samples/s of a rejection_sampling stage in-process and on a local-cluster of two executor JVMs
# (docs/benchmarks.md, "Rejection sampling on a 2-executor Spark cluster"). One tiny run: a scratch
# model (hidden 128, 2 layers) pretrained 20 steps, then PROMPTS prompts x 4 samples x 48 new tokens,
# judged by the rule rewards. Both runs write the same files (checked here with cmp); the cluster's
# run log also gives Spark's start-up time and the model's broadcast. Needs the spark module
# (bin/r1kit builds it). Usage: scripts/bench-cluster-sampling.sh [PROMPTS] (default 96).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROMPTS="${1:-96}"
DIR="runs/bench-cluster-sampling"
rm -rf "$DIR"
mkdir -p "$DIR"
cat > "$DIR/run.yaml" <<YAML
name: bench-cluster-sampling
seed: 1
device: cpu
template: toy
data:
  corpus: {generate: {task: pretrain-corpus, n: 400, seed: 1}}
  train:  {generate: {task: bilingual, n: $PROMPTS, seed: 2, params: {part: train}}}
tokenizer: {char: {}}
model:
  scratch: {hidden_size: 128, intermediate_size: 384, num_layers: 2, num_heads: 4, max_positions: 320}
rewards:
  - {name: accuracy, weight: 1.0}
  - {name: format, weight: 0.5}
stages:
  - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 128, batch_size: 8, max_steps: 20, logging_steps: 10}
  - name: rejection
    type: rejection_sampling
    data: train
    sampling: {samples_per_prompt: 4, max_new_tokens: 48, judge: rules, correct_threshold: 0.0, language_threshold: 0,
               drop_truncated: false, prompt_batch_size: 8, temperature: 1.0}
    sft: {max_steps: 1, batch_size: 4, max_seq_length: 320, logging_steps: 1}
YAML
# in-process first; the cluster run reuses nothing of it
bin/r1kit run "$DIR/run.yaml" --run-dir "$DIR/in-process" >/dev/null
bin/r1kit run "$DIR/run.yaml" --run-dir "$DIR/cluster" \
  --set cluster.engine=spark --set 'cluster.master=local-cluster[2,1,1024]' >/dev/null
for f in accepted.jsonl rejected.jsonl progress.jsonl stats.json; do
  cmp "$DIR/in-process/stages/rejection/rejection/$f" "$DIR/cluster/stages/rejection/rejection/$f"
done
echo "files identical: accepted.jsonl rejected.jsonl progress.jsonl stats.json"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(bin/r1kit jvm)"
for run in in-process cluster; do
  echo "$run: $(grep -h 'sampling took' "$DIR/$run/run.log" | sed 's/.*rejection: //')"
done
grep -h 'cluster: spark .* started in\|shipped by\|cluster job' "$DIR/cluster/run.log" | sed 's/^\[[^]]*\] [A-Z]* [^ ]* - //'
cat "$DIR/cluster/stages/rejection/cluster.json"
