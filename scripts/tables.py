#!/usr/bin/env python3
"""Writes the Markdown tables the docs quote, from a finished run directory or from benchmark JSON.

  tables.py quickstart RUN_DIR             the quickstart table (docs/benchmarks.md#the-quickstart)
  tables.py stages RUN_DIR                 one row per stage from eval/<stage>.json (the tiny pipeline's table)
  tables.py gemm FILE.json [FILE.json...]  ranges over runs of `bin/r1kit bench --quick --only gemm --json`

Only the standard library; every number printed is read from the files given.
"""
import json
import sys
from pathlib import Path


def load(p):
    return json.loads(Path(p).read_text(encoding="utf-8"))


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"


def num(x, digits=3):
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def evals(run):
    out = {}
    for f in sorted((Path(run) / "eval").glob("*.json")):
        out[f.stem] = load(f)
    return out


def eval_curve(run, stage):
    """(step, eval/accuracy) of a GRPO stage's eval lines in metrics.jsonl."""
    pts = []
    for line in (Path(run) / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        m = json.loads(line)
        if m.get("stage") == stage and "eval/accuracy" in m:
            pts.append((m["step"], m["eval/accuracy"]))
    return pts


def quickstart(run):
    e = evals(run)
    need = ["base_eval", "final_eval", "base_eval_greedy", "final_eval_greedy"]
    missing = [n for n in need if n not in e]
    if missing:
        sys.exit(f"tables.py: {run}/eval lacks {', '.join(m + '.json' for m in missing)}: has the run finished?")
    steps = None
    curve = eval_curve(run, "r1_zero")
    if curve:
        steps = curve[-1][0]
    b, f, bg, fg = (e[n] for n in need)
    rows = [
        "| eval on %d held-out problems | base model | after %s GRPO steps |" % (b.get("n", 0), steps if steps is not None else "the"),
        "| --- | --- | --- |",
        f"| accuracy, pass@1 averaged over the samples (`eval/base_eval.json`, `eval/final_eval.json`) | {pct(b.get('accuracy'))} | **{pct(f.get('accuracy'))}** |",
        f"| format rate of those samples | {pct(b.get('format_rate'))} | **{pct(f.get('format_rate'))}** |",
        f"| accuracy, greedy decoding (`*_greedy.json`) | {pct(bg.get('accuracy'))} | {pct(fg.get('accuracy'))} |",
    ]
    print("\n".join(rows))
    if curve:
        print()
        print("Held-out accuracy along the way: " + ", ".join(f"{pct(a)} at step {s}" for s, a in curve) + ".")


STAGE_COLS = [("accuracy", "accuracy", 3), ("format_rate", "format", 3), ("language_consistency", "lang. consistency", 3),
              ("language_mixing_rate", "mixing rate", 4), ("mean_length", "mean len", 1), ("reward_model_score", "RM score", 3),
              ("pairwise_accuracy", "pairwise acc", 3), ("n", "n", 0)]


def stages(run):
    run = Path(run)
    cfg_order = []
    marker_dir = run / "stages"
    times = {}
    for f in sorted(marker_dir.glob("*.json")):
        m = load(f)
        cfg_order.append((m.get("finished_at", ""), f.stem))
        times[f.stem] = m.get("seconds")
    e = evals(run)
    names = [n for _, n in sorted(cfg_order)] or sorted(e)
    print("| stage | s | " + " | ".join(h for _, h, _ in STAGE_COLS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in STAGE_COLS) + " |")
    for n in names:
        ev = e.get(n, {})
        secs = times.get(n)
        cells = [num(ev.get(k), d) if d else num(ev.get(k)) for k, _, d in STAGE_COLS]
        print(f"| {n} | {num(secs, 0) if secs is not None else ''} | " + " | ".join(cells) + " |")


def gemm(files):
    rows = {}
    order = []
    for p in files:
        j = load(p)
        entries = list(j.get("gemm", []))
        ceil = j.get("gemm_kernel_ceiling")
        for g in entries:
            key = f"{g.get('label', 'gemm')} ({g['m']}×{g['n']}×{g['k']})"
            if key not in rows:
                rows[key] = []
                order.append(key)
            rows[key].append((g["r1kit_gflops"], g["libtorch_gflops"]))
        if ceil:
            key = "micro-kernel ceiling, 1024³ (no packing, operands in cache)"
            if key not in rows:
                rows[key] = []
                order.append(key)
            rows[key].append((ceil["r1kit_kernel_gflops"], ceil["libtorch_gflops"]))

    def rng(xs, d=0):
        lo, hi = min(xs), max(xs)
        return f"{lo:.{d}f}–{hi:.{d}f}" if f"{lo:.{d}f}" != f"{hi:.{d}f}" else f"{lo:.{d}f}"

    print(f"| `bin/r1kit bench --quick`, {len(files)} runs, medians | r1kit GFLOPS | libtorch GFLOPS | ratio |")
    print("| --- | --- | --- | --- |")
    for k in order:
        r = rows[k]
        print(f"| {k} | {rng([a for a, _ in r])} | {rng([b for _, b in r])} | {rng([a / b for a, b in r], 2)} |")
    att = {}
    for p in files:
        for a in load(p).get("attention", []):
            if a.get("ratio") is None:
                continue
            key = f"B={a['b']}, T={a['t']}, {a['hq']}/{a['hkv']} heads, D={a['d']}"
            att.setdefault(key, []).append(a["ratio"])
    if att:
        print()
        print("| attention forward+backward | ratio (libtorch time / r1kit time) |")
        print("| --- | --- |")
        for k, r in att.items():
            print(f"| {k} | {rng(r, 2)} |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    what = sys.argv[1]
    if what == "quickstart":
        quickstart(sys.argv[2])
    elif what == "stages":
        stages(sys.argv[2])
    elif what == "gemm":
        gemm(sys.argv[2:])
    else:
        sys.exit(__doc__)
