#!/usr/bin/env bash
# Compares two run directories' GRPO metrics (every metrics.jsonl value except wall-clock timings)
# and their final_eval files; prints how many values differ. Needs jq.
#
#   scripts/compare-runs.sh RUN_A RUN_B [STAGE]      (STAGE default r1_zero)
set -euo pipefail
A="$1"; B="$2"; STAGE="${3:-r1_zero}"
strip() {
  jq -c --arg s "$STAGE" 'select(.stage == $s) | del(.tokens_per_second, .["time/rollout"], .["time/score"], .["time/update"], .step_time, .["eval/time"])' "$1/metrics.jsonl"
}
na=$(strip "$A" | wc -l); nb=$(strip "$B" | wc -l)
nd=$(diff <(strip "$A") <(strip "$B") | grep -c '^<' || true)
echo "$STAGE metrics lines: $na vs $nb; lines that differ (timings left out): $nd"
if cmp -s "$A/eval/final_eval.json" "$B/eval/final_eval.json"; then echo "eval/final_eval.json: identical"; else echo "eval/final_eval.json: differs"; fi
