#!/usr/bin/env bash
# Per-step cost of GRPO rollouts on a local-cluster of two executor JVMs against in-process
# (docs/benchmarks.md, "GRPO rollouts on a 2-executor Spark cluster"). One tiny run: a scratch model
# (hidden 128, 2 layers) pretrained 20 steps, then STEPS GRPO steps of 8 prompts x 8 completions x up
# to 48 new tokens. Both runs log the same samples (checked here with cmp); the table gives the mean
# step time, rollout time and policy shipping time per step over the steps after the first (the first
# pays the executors' start). Needs the spark module (bin/r1kit builds it).
# Usage: scripts/bench-cluster-grpo.sh [STEPS] (default 10).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STEPS="${1:-10}"
DIR="runs/bench-cluster-grpo"
rm -rf "$DIR"
mkdir -p "$DIR"
cat > "$DIR/run.yaml" <<YAML
name: bench-cluster-grpo
seed: 1
device: cpu
template: toy
data:
  corpus: {generate: {task: pretrain-corpus, n: 400, seed: 1}}
  train:  {generate: {task: arithmetic, n: 400, seed: 2, params: {part: train}}}
tokenizer: {char: {}}
model:
  scratch: {hidden_size: 128, intermediate_size: 384, num_layers: 2, num_heads: 4, max_positions: 320}
rewards:
  - {name: accuracy, weight: 1.0}
  - {name: format, weight: 0.5}
  - {name: overlong, weight: 1.0, params: {max_length: 48, buffer_length: 24}}
stages:
  - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 128, batch_size: 8, max_steps: 20, logging_steps: 10}
  - {name: r1_zero, type: grpo, data: train, prompts_per_step: 8, num_generations: 8, max_completion_length: 48,
     temperature: 1.0, learning_rate: 0.0001, max_steps: $STEPS, save_steps: $STEPS, log_completions_steps: 1}
YAML
bin/r1kit run "$DIR/run.yaml" --run-dir "$DIR/in-process" >/dev/null 2>"$DIR/in-process.err" || { cat "$DIR/in-process.err"; exit 1; }
bin/r1kit run "$DIR/run.yaml" --run-dir "$DIR/cluster" \
  --set cluster.engine=spark --set 'cluster.master=local-cluster[2,1,1024]' >/dev/null 2>"$DIR/cluster.err" || { cat "$DIR/cluster.err"; exit 1; }
for f in "$DIR"/in-process/samples/r1_zero/*.jsonl; do
  cmp "$f" "$DIR/cluster/samples/r1_zero/$(basename "$f")"
done
echo "samples identical: $(ls "$DIR/in-process/samples/r1_zero" | wc -l) steps"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(bin/r1kit jvm)"
python3 - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
def steps(run):
    rows = [json.loads(l) for l in open(f"{d}/{run}/metrics.jsonl")]
    return [r for r in rows if r.get("stage") == "r1_zero" and "step_time" in r]
def mean(rows, key):
    v = [r.get(key, 0.0) or 0.0 for r in rows]
    return sum(v) / len(v) if v else float("nan")
print("| per step, steps 2.. | in-process | cluster |")
print("| --- | --- | --- |")
a, b = steps("in-process")[1:], steps("cluster")[1:]
for key, name in [("step_time", "step time (s)"), ("time/rollout", "rollouts: sampling + scoring (s)"),
                  ("time/update", "update (s)"), ("cluster/ship_seconds", "policy save + ship (s)"),
                  ("cluster/shipped_bytes", "policy bytes shipped")]:
    print(f"| {name} | {mean(a, key):.3f} | {mean(b, key):.3f} |")
first = steps("cluster")[0]
print(f"first cluster step (executors start): {first['step_time']:.1f} s")
PY
grep -h 'cluster: spark .* started in\|cluster rollouts:' "$DIR/cluster/run.log" | sed 's/^\[[^]]*\] [A-Z]* [^ ]* - //'
