#!/usr/bin/env bash
# Reproduces the CPU kernel table of docs/benchmarks.md#cpu-kernels-against-libtorch: runs
# `bin/r1kit bench --quick --only gemm,attention --json` RUNS times (default 5) and writes the range of
# every row (r1kit and libtorch GFLOPS, their ratio; attention ratios) to results/bench-gemm.md.
# Run it on an otherwise idle machine: the ratios are side by side, but other load still adds noise.
# --smoke: one run with one repeat, to check the script itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS=5
ARGS=()
NAME=bench-gemm
if [ "${1:-}" = "--smoke" ]; then
  shift; RUNS=1; ARGS=(--repeats 1); NAME=bench-gemm-smoke
fi
[ -n "${1:-}" ] && RUNS="$1"
mkdir -p results
files=()
for i in $(seq 1 "$RUNS"); do
  f="results/$NAME-$i.json"
  bin/r1kit bench --quick --only gemm,attention --json "${ARGS[@]}" > "$f"
  files+=("$f")
done
out="results/$NAME.md"
{
  echo "# CPU kernels against libtorch, $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //'), $(bin/r1kit jvm); ranges over $RUNS runs."
  echo
  python3 scripts/tables.py gemm "${files[@]}"
} > "$out"
cat "$out"
echo "wrote $out"
