#!/usr/bin/env bash
# Recomputes, from the raw metrics.jsonl and eval files, every quantity the rules of
# configs/findings/length-and-reflection.yaml and configs/findings/dr-grpo-length-bias.yaml read,
# per variant and seed (docs/findings-universe.md quotes this script's output). Needs jq.
#
#   scripts/findings-universe-metrics.sh [RUNS]      (default runs/findings)
#
# Windows as the findings runner takes them: the first / last round(10% of n) GRPO steps (at least 1)
# among the r1_zero rows that have the metric.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-$ROOT/runs/findings}"

window() {   # window FILE METRIC first|last -> mean over the window
  jq -s --arg m "$2" --arg w "$3" '
    [ .[] | select(.stage == "r1_zero" and (has("eval/accuracy") | not)) | .[$m] | select(type == "number") ] as $v
    | ($v | length) as $n
    | ([1, (($n * 0.1) | round)] | max) as $k
    | (if $w == "first" then $v[0:$k] else $v[($n - $k):] end) | add / length' "$1"
}
steps() { jq -s '[ .[] | select(.stage == "r1_zero" and has("completions/mean_length")) ] | length' "$1"; }
evalv() { jq -r --arg m "$2" '.[$m]' "$1"; }

for finding in length-and-reflection dr-grpo-length-bias; do
  [ -d "$RUNS/$finding" ] || continue
  echo "## $finding"
  echo "variant | seed | steps | length first→last 10% (ratio) | accuracy first→last 10% | reflection rate first→last 10% (ratio) | incorrect length last 10% | final_eval accuracy | final_eval reflection rate | final_eval length | final_eval length of correct"
  for run in "$RUNS/$finding"/*/seed-*; do
    [ -f "$run/metrics.jsonl" ] || continue
    m="$run/metrics.jsonl"
    lf=$(window "$m" completions/mean_length first); ll=$(window "$m" completions/mean_length last)
    af=$(window "$m" accuracy first); al=$(window "$m" accuracy last)
    rf=$(window "$m" completions/reflection_rate first); rl=$(window "$m" completions/reflection_rate last)
    il=$(window "$m" completions/mean_length_incorrect last)
    e="$run/eval/final_eval.json"
    ea=$( [ -f "$e" ] && evalv "$e" accuracy || echo -); er=$( [ -f "$e" ] && evalv "$e" completions/reflection_rate || echo -)
    el=$( [ -f "$e" ] && evalv "$e" completions/mean_length || echo -)
    ec=$( [ -f "$e" ] && evalv "$e" completions/mean_length_correct || echo -)
    awk -v v="$(basename "$(dirname "$run")")" -v s="$(basename "$run")" -v n="$(steps "$m")" -v lf="$lf" -v ll="$ll" -v af="$af" -v al="$al" \
        -v rf="$rf" -v rl="$rl" -v il="$il" -v ea="$ea" -v er="$er" -v el="$el" -v ec="$ec" 'BEGIN {
      printf "%s | %s | %d | %.1f → %.1f (%.2f×) | %.3f → %.3f (%+.1f pts) | %.3f → %.3f (%.2f×) | %.1f | %s | %s | %s | %s\n",
        v, s, n, lf, ll, ll / lf, af, al, 100 * (al - af), rf, rl, (rf > 0 ? rl / rf : 0), il, ea, er, el, ec }'
  done
done
