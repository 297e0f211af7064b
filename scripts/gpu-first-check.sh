#!/usr/bin/env bash
# The first check to run on a machine with an NVIDIA GPU (docs/gpu.md): the driver and the CUDA 12
# libraries JCuda needs, then the backend conformance tests with their `cuda` rows (every Backend op
# against the scalar reference), device selection, and the CUDA benchmark. Writes results/gpu-first-check.log.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p results
log=results/gpu-first-check.log
{
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "== driver"
  nvidia-smi || echo "nvidia-smi failed: no driver?"
  echo "== CUDA 12 libraries"
  ldconfig -p | grep -E 'libcuda.so.1|libcublas.so.12|libcublasLt.so.12|libnvrtc.so.12' || echo "none found by ldconfig (set R1KIT_CUDA_LIB_DIR)"
  echo "== conformance and device selection (cuda rows)"
  mvn -B -ntp -q -Dr1kit.target=target-gpu -pl model test -Dtest='BackendConformanceTest,DevicesTest' \
      -Dsurefire.failIfNoSpecifiedTests=false; echo "tests exit code $?"
  echo "== CUDA benchmark (kernels only)"
  bin/r1kit bench --device cuda --quick; echo "bench exit code $?"
} 2>&1 | tee "$log"
echo "wrote $log"
