"""Sweep throughput: the same 100 runs through the basic launcher, joblib, and joblib + replicates.

Run: python benchmarks/bench_sweeps.py [--runs 100] [--repeats 1] [--out benchmarks/results]
Writes sweeps.json and sweeps.md (machine, wall times, runs per second and ratios against the
basic launcher measured in the same session). Each sweep is a real `python -m sim run -m`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_default_run import machine

COMMON = ["output.figures=false", "output.events=false"]


def sweeps(runs: int, per_job: int) -> dict[str, list[str]]:
    return {
        "basic launcher, one run per job": [f"seed=range(0,{runs})"],
        "joblib launcher, one run per job": [f"seed=range(0,{runs})", "hydra/launcher=joblib"],
        f"joblib launcher, {per_job} replicates per job": [
            f"seed=range(0,{runs},{per_job})", f"replicates={per_job}", "hydra/launcher=joblib"],
    }


def wall_time(args: list[str], runs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", "run", "-m", *args, *COMMON, f"hydra.sweep.dir={tmp}/s"],
                       check=True, capture_output=True, cwd=tmp)
        elapsed = time.perf_counter() - start
        done = sum(1 for _ in Path(tmp, "s").rglob("summary.json"))
    if done != runs:
        raise RuntimeError(f"expected {runs} runs, found {done}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--per-job", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    opts = parser.parse_args()
    results = {}
    for label, args in sweeps(opts.runs, opts.per_job).items():
        times = [wall_time(args, opts.runs) for _ in range(opts.repeats)]
        results[label] = {"args": args, "wall_s": statistics.median(times), "runs_per_s": opts.runs / statistics.median(times)}
    base = next(iter(results.values()))["wall_s"]
    md = [f"# Sweep throughput: {opts.runs} runs, default region, median of {opts.repeats}", "",
          f"Machine: {machine()}", "", "| sweep | wall time | runs/s | speed-up vs basic |", "|---|---|---|---|"]
    for label, r in results.items():
        r["speedup_vs_basic"] = base / r["wall_s"]
        md.append(f"| {label} | {r['wall_s']:.1f} s | {r['runs_per_s']:.2f} | {r['speedup_vs_basic']:.2f} |")
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "sweeps.json").write_text(json.dumps({"machine": machine(), "results": results}, indent=2) + "\n")
    (opts.out / "sweeps.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
