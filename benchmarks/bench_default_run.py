"""Default-run benchmark: model time per simulated year and whole-command wall time.

Run: python benchmarks/bench_default_run.py [--repeats 5] [--out benchmarks/results]
Writes default_run.json and default_run.md with the machine description. Timings are
medians of repeated runs; the figure cost is reported as a ratio of two commands timed in
the same session (with and without figures), never as an absolute pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}


def model_seconds_per_year(repeats: int, overrides: list[str]) -> dict:
    """Median over repeats of the in-process time of model steps alone (no I/O, no set-up)."""
    from sim.configuration import load_config
    from sim.model import CityModel
    from sim.regions import load_region

    cfg = load_config(overrides)
    times = []
    for seed in range(repeats):
        cfg.seed = seed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CityModel(cfg, load_region(cfg.region))
        start = time.perf_counter()
        for _ in range(cfg.years):
            model.step()
        times.append((time.perf_counter() - start) / cfg.years)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def command_seconds(args: list[str], repeats: int) -> dict:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim", "run", *args, f"hydra.run.dir={tmp}/r{i}"],
                           check=True, capture_output=True, cwd=tmp)
            times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. +mechanism=none")
    opts = parser.parse_args()
    per_year = model_seconds_per_year(opts.repeats, opts.overrides)
    full = command_seconds(opts.overrides, opts.repeats)
    bare = command_seconds([*opts.overrides, "output.figures=false"], opts.repeats)
    result = {"machine": machine(), "overrides": opts.overrides, "repeats": opts.repeats,
              "model_seconds_per_year": per_year, "command_seconds": full,
              "command_seconds_without_figures": bare,
              "ratio_with_to_without_figures": full["median_s"] / bare["median_s"]}
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "default_run.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [("model time per simulated year", f"{per_year['median_s'] * 1e3:.2f} ms"),
            ("`python -m sim run` wall time", f"{full['median_s']:.2f} s"),
            ("same, without figures", f"{bare['median_s']:.2f} s"),
            ("ratio with / without figures", f"{result['ratio_with_to_without_figures']:.2f}")]
    md = [f"# Default run ({' '.join(opts.overrides) or 'defaults'}), median of {opts.repeats}", "",
          f"Machine: {result['machine']}", "", "| measure | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in rows]
    (opts.out / "default_run.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
