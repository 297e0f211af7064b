#!/usr/bin/env bash
# The GPU kit's check (copied into the kit as run-selftest.sh by scripts/gpu-kit):
#
#   ./run-selftest.sh OUT_DIR
#
# Needs only a Linux x86-64 host with an NVIDIA driver (R580 or newer for the precompiled kernels).
#   1. r1kit selftest --device cuda: every op forward and backward against the CPU reference, r1kit's
#      own GEMM kernels, a short benchmark          -> OUT_DIR/selftest-cuda.json, selftest-cuda.log
#   2. when CUDA is usable: the quickstart's model pretrained briefly and a few GRPO steps on the GPU
#      (configs/gpu-smoke.yaml)                     -> OUT_DIR/grpo-run/, grpo.log
#      when it is not: the self-test on the CPU instead, which checks the kit's own runtime
#                                                    -> OUT_DIR/selftest-cpu.json, selftest-cpu.log
#   3. OUT_DIR/summary.json, environment.txt (driver, GPU, kit contents).
# The whole run is bounded by R1KIT_KIT_TIMEOUT seconds (default 600).
# Exit status: 0 everything passed; 1 a self-test check failed; 3 CUDA unavailable (reason in
# selftest-cuda.log / .json; the CPU self-test ran); 4 the GRPO run failed or timed out; 2 usage.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$1"
mkdir -p "$OUT" || exit 2
OUT="$(cd "$OUT" && pwd)"
R1="$HERE/bin/r1kit"
BUDGET="${R1KIT_KIT_TIMEOUT:-600}"
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
export TMPDIR="${TMPDIR:-/tmp}"
# JCuda and the tokenizer unpack their natives; keep caches inside OUT_DIR so a read-only home works
export R1KIT_CUDA_CACHE_DIR="$OUT/cache/cuda" DJL_CACHE_DIR="$OUT/cache/djl"
export R1KIT_JAVA_OPTS="${R1KIT_JAVA_OPTS:-} -Djava.io.tmpdir=$OUT/cache/tmp"
mkdir -p "$OUT/cache/tmp"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -a)"
  echo "cpus: $(nproc 2>/dev/null || echo ?)"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
  else
    echo "nvidia-smi: not found"
  fi
  ls -l /usr/lib/x86_64-linux-gnu/libcuda.so* /usr/lib64/libcuda.so* 2>/dev/null
  echo
  cat "$HERE/KIT.txt" 2>/dev/null
} > "$OUT/environment.txt" 2>&1

echo "== r1kit selftest --device cuda (log: $OUT/selftest-cuda.log)"
timeout "$(left)" "$R1" selftest --device cuda --json "$OUT/selftest-cuda.json" > "$OUT/selftest-cuda.log" 2>&1
SELFTEST=$?
cat "$OUT/selftest-cuda.log"

GRPO=null
CPU=null
STATUS=0
if [ "$SELFTEST" = 3 ]; then
  echo "== CUDA unavailable (reason above); r1kit selftest --device cpu instead (log: $OUT/selftest-cpu.log)"
  timeout "$(left)" "$R1" selftest --device cpu --json "$OUT/selftest-cpu.json" > "$OUT/selftest-cpu.log" 2>&1
  CPU=$?
  tail -n 25 "$OUT/selftest-cpu.log"
  STATUS=3
else
  [ "$SELFTEST" != 0 ] && STATUS=1
  if [ "$(left)" -gt 30 ]; then
    echo "== GRPO smoke run on the GPU: configs/gpu-smoke.yaml (log: $OUT/grpo.log, $(left) s left)"
    timeout "$(left)" "$R1" run "$HERE/configs/gpu-smoke.yaml" --run-dir "$OUT/grpo-run" > "$OUT/grpo.log" 2>&1
    GRPO=$?
    tail -n 30 "$OUT/grpo.log"
    if [ "$GRPO" != 0 ]; then
      [ "$GRPO" = 124 ] && echo "GRPO run stopped at the ${BUDGET}s limit"
      [ "$STATUS" = 0 ] && STATUS=4
    fi
  else
    echo "== no time left for the GRPO run"
    [ "$STATUS" = 0 ] && STATUS=4
  fi
fi

cat > "$OUT/summary.json" <<EOF
{
  "selftest_cuda_exit": $SELFTEST,
  "selftest_cpu_exit": $CPU,
  "grpo_exit": $GRPO,
  "exit": $STATUS,
  "seconds": $(( $(date +%s) - START ))
}
EOF
echo "== done in $(( $(date +%s) - START )) s, exit $STATUS; results in $OUT (summary.json, selftest-*.json, logs)"
exit "$STATUS"
