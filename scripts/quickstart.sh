#!/usr/bin/env bash
# Reproduces the quickstart's numbers (README "What the quickstart gives", docs/benchmarks.md#the-quickstart):
# runs configs/quickstart.yaml in a fresh run directory, times it, and writes the table to
# results/quickstart.md. About 10 minutes on 2 cores. Extra arguments go to `bin/r1kit run`
# (e.g. --set stages.r1_zero.max_steps=150). --smoke runs a few-step form to check the script itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN="runs/repro-quickstart"
EXTRA=()
if [ "${1:-}" = "--smoke" ]; then
  shift
  RUN="runs/repro-quickstart-smoke"
  EXTRA=(--set data.corpus.generate.n=300 --set data.train.generate.n=40 --set data.test.generate.n=8
         --set stages.pretrain.max_steps=3 --set stages.r1_zero.max_steps=2 --set stages.r1_zero.eval_steps=1
         --set stages.r1_zero.save_steps=1)
fi
rm -rf "$RUN"
mkdir -p results
start=$(date +%s)
bin/r1kit run configs/quickstart.yaml --run-dir "$RUN" "${EXTRA[@]}" "$@"
end=$(date +%s)
out="results/$(basename "$RUN").md"
{
  echo "# Quickstart, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(bin/r1kit jvm)."
  echo "Wall time of the run (build included when the jars were stale): $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s."
  echo
  python3 scripts/tables.py quickstart "$RUN"
  echo
  grep -o 'initialised a [0-9,]*-parameter [a-z0-9]* model' "$RUN/run.log" | head -n 1 || true
  echo
  echo "Every stage (seconds, eval values):"
  echo
  python3 scripts/tables.py stages "$RUN"
} > "$out"
cat "$out"
echo "wrote $out"
