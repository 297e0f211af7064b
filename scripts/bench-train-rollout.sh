#!/usr/bin/env bash
# Reruns the measurements of docs/benchmarks.md#training-steps-and-rollouts-against-libtorch:
# `bin/r1kit bench --suite train --quick --json`, `--suite rollout --quick --json` and
# `--suite memory` (the memory planner against the measured heap), each once, writing
# results/bench-train.json, results/bench-rollout.json, results/bench-memory.json and their stderr logs
# (per-step losses, decode-only rates, greedy tokens compared).
#   --full   the full shapes instead of --quick (all 24 layers of the Qwen2.5-0.5B shape: needs ~24 GiB
#            of memory for the training step, r1kit and libtorch side by side)
# The JVM gets a 10 GiB heap (R1KIT_JAVA_OPTS overrides it): the quick training step of the 0.5B
# shape holds ~3.5 GiB of weights, gradients and moments on each side.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE=(--quick)
if [ "${1:-}" = "--full" ]; then MODE=(); HEAP=-Xmx20g; else HEAP=-Xmx10g; fi
export R1KIT_JAVA_OPTS="${R1KIT_JAVA_OPTS:-$HEAP}"
mkdir -p results
for suite in train rollout; do
  start=$(date +%s)
  bin/r1kit bench --suite "$suite" "${MODE[@]}" --json > "results/bench-$suite.json" 2> "results/bench-$suite.log"
  echo "$suite: $(( $(date +%s) - start )) s, results/bench-$suite.json"
done
start=$(date +%s)
bin/r1kit bench --suite memory > results/bench-memory.json 2> results/bench-memory.log
echo "memory: $(( $(date +%s) - start )) s, results/bench-memory.json"
