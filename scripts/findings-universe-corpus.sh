#!/usr/bin/env bash
# The rates of the countdown search corpus that configs/r1-zero-search.yaml pretrains on, measured on
# the corpus itself (docs/findings-universe.md quotes this script's output). Needs jq.
#
#   scripts/findings-universe-corpus.sh [N]        (default: the config's 40000 documents, seed 1)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-40000}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$ROOT/bin/r1kit" data generate --task pretrain-corpus --n "$N" --seed 1 --out "$OUT/corpus.jsonl" \
  --param task=countdown --param prompt_style=short --param countdown_style=search --param min_nums=3 \
  --param max_nums=3 --param max_num=9 --param ops=+-* --param order=listed --param max_target=30 --param plain_rate=0 --param chat_rate=0 \
  --param format_rate=0.9 --param search_rate=0.2 --param thorough_continue_rate=0.9 \
  --param hasty_continue_rate=0.1 --param max_attempts=6 >&2
jq -s -r '
  def attempts: (.style | split("+") | last | split("-")[1] | tonumber);
  def pct: (. * 1000 | round / 10 | tostring) + "%";
  length as $n
  | (map(select(.completion | test("(^|[^a-z0-9])(wait|re-evaluate|verify|check)"; "i"))) | length) as $refl
  | "documents: \($n)",
    "in the <think>/<answer> format: \((map(select(.formatted)) | length) / $n | pct)",
    "correct (the answer reaches the target): \((map(select(.correct)) | length) / $n | pct)",
    "reflective (contain wait/re-evaluate/verify/check): \($refl / $n | pct)",
    "mean characters of a reply: \((map(.completion | length) | add) / $n | . * 10 | round / 10)",
    "after a first miss, searched on: \((map(select(attempts > 1)) | length) / (map(select(attempts > 1 or (.correct | not))) | length) | pct)",
    "attempts | documents | share | correct",
    (group_by(attempts)[] | "\(.[0] | attempts) | \(length) | \(length / $n | pct) | \((map(select(.correct)) | length) / length | pct)")
' "$OUT/corpus.jsonl"
