#!/usr/bin/env bash
# Compiles r1kit's CUDA kernels ahead of time (run by the model module's build, process-resources).
#   compile-kernels.sh SRC_DIR CLASSES_DIR
# For every .cu in SRC_DIR: one fatbin with cubins for sm_80 (also runs on sm_86/87/89) and sm_90,
# plus PTX for compute_90 that the driver JIT-compiles for newer GPUs (sm_100, sm_120), written to
# CLASSES_DIR/io/r1kit/model/backend/cuda/aot/ with manifest.properties (nvcc version, each
# source's SHA-256 as AotKernels checks it). Warnings are errors, as in CudaKernelBuildTest.
# nvcc: $R1KIT_NVCC, else nvcc on PATH, else /usr/local/cuda/bin/nvcc. Without one the build goes
# on without precompiled kernels (the backend then needs libnvrtc.so.12 at run time) and says so.
# Results are cached in ~/.cache/r1kit/aot/<hash of sources, nvcc version, flags>.
set -euo pipefail
src=$1
out=$2/io/r1kit/model/backend/cuda/aot
header=r1kit_common.cuh
FLAGS=(-fatbin -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
       -std=c++17 -Werror all-warnings -Xptxas -Werror)

nvcc=${R1KIT_NVCC:-}
if [ -z "$nvcc" ]; then
  nvcc=$(command -v nvcc || true)
  [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
fi
if [ -z "$nvcc" ] || ! [ -x "$nvcc" ]; then
  rm -rf "$out"
  echo "r1kit: nvcc not found (PATH, /usr/local/cuda/bin, \$R1KIT_NVCC): CUDA kernels are NOT precompiled;" \
       "the CUDA backend will compile them with NVRTC at run time (needs libnvrtc.so.12)" >&2
  exit 0
fi

version=$("$nvcc" --version | sed -n 's/.*release [0-9.]*, V\([0-9.]*\).*/\1/p')
sha() { sha256sum | cut -d' ' -f1; }
# the hash AotKernels computes: sha256(source NUL header NUL)
source_hash() { { cat "$src/$1"; printf '\0'; cat "$src/$header"; printf '\0'; } | sha; }

files=()
for f in "$src"/*.cu; do files+=("$(basename "$f")"); done
stamp=$({ echo "$version ${FLAGS[*]}"; for f in "${files[@]}" "$header"; do echo "$f"; cat "$src/$f"; done; } | sha | cut -c1-24)
cache="$HOME/.cache/r1kit/aot/$stamp"

if [ -f "$out/manifest.properties" ] && grep -q "^stamp=$stamp$" "$out/manifest.properties"; then
  exit 0
fi
if ! [ -f "$cache/manifest.properties" ]; then
  echo "r1kit: precompiling ${#files[@]} CUDA kernel files with nvcc $version for sm_80, sm_90 (+ compute_90 PTX) ..." >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  export nvcc src tmp
  export FLAGS_STR="${FLAGS[*]}"
  # two at a time (the machines this is built on may have 2 cores)
  if ! printf '%s\n' "${files[@]}" | xargs -P 2 -I{} bash -c \
      'out="$tmp/$(basename {} .cu).fatbin"; "$nvcc" $FLAGS_STR -I "$src" -o "$out" "$src/{}" > "$tmp/{}.log" 2>&1 || { cat "$tmp/{}.log" >&2; exit 255; }'; then
    echo "r1kit: nvcc failed on a CUDA kernel (output above)" >&2
    exit 1
  fi
  {
    echo "# r1kit CUDA kernels compiled ahead of time by compile-kernels.sh"
    echo "stamp=$stamp"
    echo "nvcc=$version"
    echo "targets=sm_80,sm_90,compute_90"
    for f in "${files[@]}"; do echo "$f.sha256=$(source_hash "$f")"; done
  } > "$tmp/manifest.properties"
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache.tmp.$$" && mkdir -p "$cache.tmp.$$"
  cp "$tmp"/*.fatbin "$tmp/manifest.properties" "$cache.tmp.$$/"
  mv -T "$cache.tmp.$$" "$cache" 2>/dev/null || rm -rf "$cache.tmp.$$"   # another build may have won the race
fi
rm -rf "$out" && mkdir -p "$out"
cp "$cache"/*.fatbin "$cache/manifest.properties" "$out/"
echo "r1kit: precompiled CUDA kernels (nvcc $version) -> $out" >&2
