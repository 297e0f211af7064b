#!/usr/bin/env bash
# Pretrains the toy base model of configs/fp8-pretrain.yaml in fp32, fp8 and fp8_tensor with seeds
# 1..3 and prints each run's final held-out and training loss and the relative error of each fp8
# variant against fp32 at the same seed (DeepSeek-V3's criterion: < 0.25%). docs/fp8.md quotes it.
#   scripts/fp8-training-finding.sh [OUT_DIR]      (default runs/fp8-finding; reruns skip finished runs)
#   STEPS=40 SEEDS="1 2 3" scripts/fp8-training-finding.sh   (shorter runs: max_steps; default the whole epoch, 205 steps)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/fp8-finding}
steps=${STEPS:--1}
seeds=${SEEDS:-1 2 3}
mkdir -p "$out"
for seed in $seeds; do
  for p in fp32 fp8 fp8_tensor; do
    dir="$out/$p-s$seed"
    if [ -f "$dir/eval/pretrain.json" ]; then continue; fi
    nice -n 10 bin/r1kit run configs/fp8-pretrain.yaml --run-dir "$dir" \
      --set precision=$p --set seed=$seed --set stages.pretrain.seed=$seed --set stages.pretrain.max_steps=$steps \
      > "$out/$p-s$seed.log" 2>&1
  done
done
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
rows = {}
for p in ("fp32", "fp8", "fp8_tensor"):
    for s in (1, 2, 3):
        f = os.path.join(out, f"{p}-s{s}", "eval", "pretrain.json")
        if os.path.exists(f):
            rows[(p, s)] = json.load(open(f))
print(f"{'precision':<11} {'seed':>4} {'eval_loss':>10} {'train_loss':>10} {'rel.err eval':>13} {'rel.err train':>14} {'tok/s':>7}")
for p in ("fp32", "fp8", "fp8_tensor"):
    errs = []
    for s in (1, 2, 3):
        r = rows.get((p, s)); base = rows.get(("fp32", s))
        if r is None: continue
        ee = (r["eval_loss"] - base["eval_loss"]) / base["eval_loss"] if base else float("nan")
        et = (r["train_loss"] - base["train_loss"]) / base["train_loss"] if base else float("nan")
        errs.append(ee)
        print(f"{p:<11} {s:>4} {r['eval_loss']:>10.4f} {r['train_loss']:>10.4f} {100*ee:>12.3f}% {100*et:>13.3f}% {r['tokens_per_second']:>7.0f}")
    if p != "fp32" and errs:
        m = sum(errs) / len(errs)
        print(f"{p:<11} mean relative eval-loss error {100*m:+.3f}%  (max |.| {100*max(abs(e) for e in errs):.3f}%; V3's bound 0.25%)")
PY
