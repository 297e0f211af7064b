#!/usr/bin/env bash
# Reproduces the one-seed loss_type ablation of docs/benchmarks.md#ablation-loss_type-one-seed:
# configs/ablations/loss_type.yaml with seed 1 and the 150 GRPO steps it was measured with (the
# quickstart now trains 300), and copies the ablation's table and plot to results/. About 12 minutes
# on 2 cores. --smoke: 2 GRPO steps on tiny data, to check the script itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NAME=ablation-loss_type
SETS=('set=[stages.r1_zero.max_steps=150]')
if [ "${1:-}" = "--smoke" ]; then
  shift; NAME=ablation-loss_type-smoke
  SETS=('set=[stages.r1_zero.max_steps=2, stages.r1_zero.eval_steps=1, stages.pretrain.max_steps=3, data.corpus.generate.n=300, data.train.generate.n=40, data.test.generate.n=8]')
fi
DIR="runs/repro-$NAME"
rm -rf "$DIR"
mkdir -p results
bin/r1kit ablate configs/ablations/loss_type.yaml --set 'seeds=[1]' --set "${SETS[@]}" --set "run_dir=$DIR" "$@"
cp "$DIR/ablation.md" "results/$NAME.md"
[ -f "$DIR/plots/accuracy.png" ] && cp "$DIR/plots/accuracy.png" "results/$NAME-accuracy.png"
cat "results/$NAME.md"
echo "wrote results/$NAME.md"
